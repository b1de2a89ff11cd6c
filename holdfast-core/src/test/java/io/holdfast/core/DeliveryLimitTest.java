package io.holdfast.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.groups.Tuple.tuple;

import io.holdfast.core.BrokerFixture.RecordingStore.Event;
import io.holdfast.core.BrokerFixture.RecordingStore.Kind;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** {@code x-delivery-limit}: a message returned too often goes to {@value Broker#QUARANTINE_QUEUE} (contract rule 2). */
class DeliveryLimitTest {
    private static final String QUARANTINE = Broker.QUARANTINE_QUEUE;

    private BrokerFixture f;
    private Broker broker;
    private ChannelState publisher;
    private final List<String> heard = new ArrayList<>();

    @BeforeEach
    void setUp() {
        f = new BrokerFixture();
        broker = f.broker;
        broker.quarantineListener((source, entry, quarantine) ->
                heard.add(source.name() + ":" + f.store.body(entry) + ":" + entry.deliveryCount()));
        publisher = f.channel(9);
    }

    private void limitedQueue(String name, long limit, boolean durable) {
        f.topology.declareQueue(publisher, name, false, durable, false, false, Map.of("x-delivery-limit", limit));
    }

    /** basic.get then nack-requeue, {@code times} times; returns how many gets found the message. */
    private int getAndNack(ChannelState ch, String queue, int times) {
        int got = 0;
        for (int i = 0; i < times; i++) {
            Broker.GetResult r = broker.get(ch, queue, false, 0);
            if (r == null) {
                break;
            }
            got++;
            broker.reject(ch, r.deliveryTag(), false, true);
        }
        return got;
    }

    @Test
    void aLimitOfNAllowsNPlusOneDeliveriesThenQuarantines() {
        limitedQueue("q", 3, false);
        f.publishTo(publisher, "q", "poison");
        ChannelState ch = f.channel(1);

        assertThat(getAndNack(ch, "q", 3)).isEqualTo(3);
        assertThat(f.ready("q")).as("returned 3 times, count 3 is not over the limit").containsExactly("poison");
        assertThat(broker.virtualHost("/").queue(QUARANTINE)).isNull();

        assertThat(getAndNack(ch, "q", 1)).isEqualTo(1); // the 4th delivery, returned: 4 > 3
        assertThat(f.ready("q")).isEmpty();
        assertThat(f.ready(QUARANTINE)).containsExactly("poison");
        assertThat(broker.quarantinedCount()).isEqualTo(1);
        assertThat(heard).containsExactly("q:poison:4");
        QueueEntry copy = f.queueState(QUARANTINE).readySnapshot().get(0);
        assertThat(copy.redelivered()).isTrue();
        assertThat(copy.deliveryCount()).isEqualTo(4);
        ChannelState reader = f.channel(7);
        f.consume(reader, QUARANTINE, true);
        assertThat(f.output(reader).last().message().routingKey()).isEqualTo("q");
    }

    @Test
    void aLimitOfZeroQuarantinesOnTheFirstReturn() {
        limitedQueue("q", 0, false);
        f.publishTo(publisher, "q", "m");
        ChannelState ch = f.channel(1);
        assertThat(getAndNack(ch, "q", 1)).isEqualTo(1);
        assertThat(f.ready("q")).isEmpty();
        assertThat(f.ready(QUARANTINE)).containsExactly("m");
    }

    @Test
    void everyReturnPathCountsChannelCloseToo() {
        limitedQueue("q", 1, false);
        f.publishTo(publisher, "q", "m");
        for (int i = 0; i < 2; i++) {
            ChannelState ch = f.channel(1);
            f.consume(ch, "q", false);
            assertThat(f.output(ch).bodies()).containsExactly("m");
            broker.closeChannel(ch);
        }
        assertThat(f.ready("q")).isEmpty();
        assertThat(f.ready(QUARANTINE)).containsExactly("m");
    }

    @Test
    void rejectWithoutRequeueAndAckAreUnchanged() {
        limitedQueue("q", 0, false);
        f.publishTo(publisher, "q", "a", "b");
        ChannelState ch = f.channel(1);
        broker.reject(ch, broker.get(ch, "q", false, 0).deliveryTag(), false, false);
        broker.ack(ch, broker.get(ch, "q", false, 0).deliveryTag(), false);
        assertThat(broker.virtualHost("/").queue(QUARANTINE)).isNull();
        assertThat(broker.quarantinedCount()).isZero();
    }

    @Test
    void theCopyIsStoredBeforeTheOriginalIsRemoved() {
        limitedQueue("q", 0, true);
        f.publishPersistent(publisher, "", "q", "poison");
        ChannelState ch = f.channel(1);
        getAndNack(ch, "q", 1);

        List<Event> events = f.store.events;
        assertThat(events).extracting(Event::kind, Event::queue).containsExactly(
                tuple(Kind.ENQUEUED, "q"),
                tuple(Kind.ENQUEUED, QUARANTINE),
                tuple(Kind.REMOVED, "q"));
        assertThat(f.store.live(QUARANTINE)).containsExactly("poison");
        assertThat(f.store.live("q")).isEmpty();
        assertThat(f.store.problems).isEmpty();
    }

    @Test
    void theQuarantineQueueIsDurableAndCreatedOnce() {
        limitedQueue("q", 0, false);
        f.publishTo(publisher, "q", "1", "2");
        broker.takeDurableTopologyChange();
        ChannelState ch = f.channel(1);

        getAndNack(ch, "q", 1);
        Queue quarantine = f.queueState(QUARANTINE);
        assertThat(quarantine.durable()).isTrue();
        assertThat(quarantine.exclusive()).isFalse();
        assertThat(quarantine.autoDelete()).isFalse();
        assertThat(broker.takeDurableTopologyChange()).as("its declaration must be saved").isTrue();

        getAndNack(ch, "q", 1);
        assertThat(f.queueState(QUARANTINE)).isSameAs(quarantine);
        assertThat(broker.takeDurableTopologyChange()).isFalse();
        assertThat(f.ready(QUARANTINE)).containsExactly("1", "2");
        assertThat(broker.quarantinedCount()).isEqualTo(2);
    }

    @Test
    void aTransientMessageStaysOutOfTheStore() {
        limitedQueue("q", 0, true);
        f.publishTo(publisher, "q", "transient");
        getAndNack(f.channel(1), "q", 1);
        assertThat(f.ready(QUARANTINE)).containsExactly("transient");
        assertThat(f.store.events).isEmpty();
    }

    @Test
    void queuesWithoutALimitRequeueForever() {
        f.queue(publisher, "q");
        f.publishTo(publisher, "q", "m");
        assertThat(getAndNack(f.channel(1), "q", 50)).isEqualTo(50);
        assertThat(f.ready("q")).containsExactly("m");
        assertThat(broker.virtualHost("/").queue(QUARANTINE)).isNull();
    }

    @Test
    void deliveriesFromTheQuarantineQueueAreNotQuarantinedAgain() {
        limitedQueue("q", 0, false);
        f.publishTo(publisher, "q", "m");
        ChannelState ch = f.channel(1);
        getAndNack(ch, "q", 1);

        assertThat(getAndNack(ch, QUARANTINE, 10)).isEqualTo(10);
        assertThat(f.ready(QUARANTINE)).containsExactly("m");
        assertThat(broker.quarantinedCount()).isEqualTo(1);
    }

    @Test
    void aQuarantineQueueDeclaredWithALimitStillNeverQuarantinesIntoItself() {
        f.topology.declareQueue(publisher, QUARANTINE, false, true, false, false, Map.of("x-delivery-limit", 0L));
        f.publishTo(publisher, QUARANTINE, "m");
        assertThat(getAndNack(f.channel(1), QUARANTINE, 3)).isEqualTo(3);
        assertThat(f.ready(QUARANTINE)).containsExactly("m");
        assertThat(broker.quarantinedCount()).isZero();
    }

    @Test
    void otherMessagesKeepTheirOrderAroundAQuarantinedOne() {
        limitedQueue("q", 1, false);
        f.publishTo(publisher, "q", "1", "poison", "3");
        ChannelState ch = f.channel(1);
        f.consume(ch, "q", false);
        BrokerFixture.RecordingOutput out = f.output(ch);
        // ack everything but poison, nack-requeue poison each time it comes (deliveries grow as we go)
        for (int i = 0; i < out.deliveries.size(); i++) {
            BrokerFixture.Delivery d = out.deliveries.get(i);
            if (d.body().equals("poison")) {
                broker.reject(ch, d.deliveryTag(), false, true);
            } else {
                broker.ack(ch, d.deliveryTag(), false);
            }
        }
        assertThat(out.bodies()).containsExactly("1", "poison", "3", "poison");
        assertThat(f.ready("q")).isEmpty();
        assertThat(f.ready(QUARANTINE)).containsExactly("poison");
    }

    @Test
    void theQuarantinedCopySaysWhichQueueItCameFromAndWhy() {
        limitedQueue("q", 0, false);
        f.publishTo(publisher, "q", "m");
        getAndNack(f.channel(1), "q", 1);
        List<Broker.Quarantined> listed = broker.quarantined("/", null, 10);
        assertThat(listed).singleElement().satisfies(m -> {
            assertThat(m.queue()).isEqualTo("q");
            assertThat(m.reason()).isEqualTo("delivery_limit");
            assertThat(m.deliveryCount()).isEqualTo(1);
            assertThat(m.message().headers()).containsEntry("x-quarantine-queue", "q");
        });
        assertThat(broker.quarantined("/", "elsewhere", 10)).isEmpty();
    }

    @Test
    void republishSendsEachBackToItsQueueInOrderStoringTheCopyBeforeSettlingQuarantine() {
        limitedQueue("a", 0, true);
        limitedQueue("b", 0, true);
        f.publishPersistent(publisher, "", "a", "a1");
        f.publishPersistent(publisher, "", "b", "b1");
        f.publishPersistent(publisher, "", "a", "a2");
        ChannelState ch = f.channel(1);
        getAndNack(ch, "a", 2);
        getAndNack(ch, "b", 1);
        assertThat(f.ready(QUARANTINE)).containsExactly("a1", "a2", "b1");
        f.store.events.clear();

        Broker.Republished r = broker.republishQuarantined("/", "a", 0, 1000, 1000);
        assertThat(r.republished()).isEqualTo(2);
        assertThat(r.left()).isZero();
        assertThat(f.ready("a")).containsExactly("a1", "a2");
        assertThat(f.ready(QUARANTINE)).containsExactly("b1");
        assertThat(f.store.events).extracting(Event::kind, Event::queue).containsExactly(
                tuple(Kind.ENQUEUED, "a"), tuple(Kind.REMOVED, QUARANTINE),
                tuple(Kind.ENQUEUED, "a"), tuple(Kind.REMOVED, QUARANTINE));
        assertThat(f.store.live(QUARANTINE)).containsExactly("b1");
        assertThat(f.store.problems).isEmpty();
    }

    @Test
    void republishStepsByCursorAndCountAndLeavesThoseWhoseQueueIsGone() {
        limitedQueue("a", 0, false);
        limitedQueue("gone", 0, false);
        f.publishTo(publisher, "a", "1", "2", "3");
        f.publishTo(publisher, "gone", "g");
        ChannelState ch = f.channel(1);
        getAndNack(ch, "a", 3);
        getAndNack(ch, "gone", 1);
        f.topology.deleteQueue(publisher, "gone", false, false);

        Broker.Republished first = broker.republishQuarantined("/", null, 0, 2, 1000);
        assertThat(first.republished()).isEqualTo(2);
        assertThat(first.left()).as("after the cursor").isEqualTo(2);
        Broker.Republished second = broker.republishQuarantined("/", null, first.next(), 2, 1000);
        assertThat(second.republished()).isEqualTo(1);
        assertThat(second.stayed()).isEqualTo(1);
        assertThat(second.left()).isZero();
        assertThat(f.ready("a")).containsExactly("1", "2", "3");
        assertThat(f.ready(QUARANTINE)).containsExactly("g");
        assertThat(broker.republishQuarantined("/", null, 0, 1000, 0).republished()).as("a count of 0").isZero();
    }
}
