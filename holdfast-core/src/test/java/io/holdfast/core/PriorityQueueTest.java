package io.holdfast.core;

import static io.holdfast.core.BrokerFixture.NO_ARGS;
import static io.holdfast.core.BrokerFixture.replyCode;
import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.core.BrokerFixture.RecordingStore.Event;
import io.holdfast.core.BrokerFixture.RecordingStore.Kind;
import io.holdfast.core.BrokerFixture.TextProperties;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Priority queues ({@code x-max-priority}): higher priority first, each priority in publish order, requeued
 * messages back at their place within their priority, expiry at the head of each priority, drop-head from the
 * head (the highest priority), and the argument's validation. The fixture's store pages out every stored
 * message, so the durable cases also prove the order does not need the message in memory.
 */
class PriorityQueueTest {
    private final BrokerFixture f = new BrokerFixture();
    private final Broker broker = f.broker;
    private final ChannelState ch = f.channel(1);

    private void declare(String name, Object... args) {
        Map<String, Object> map = new HashMap<>();
        for (int i = 0; i < args.length; i += 2) {
            map.put((String) args[i], args[i + 1]);
        }
        f.topology.declareQueue(ch, name, false, true, false, false, map);
    }

    /** Publishes a persistent message with {@code priority} (-1 for none) and an expiration (-1 for none). */
    private void publish(String queue, String body, int priority, long expirationMillis, long nowMillis) {
        byte[] properties = priority < 0 ? new byte[0] : TextProperties.withPriority(priority);
        Message m = new Message("", queue, properties, Map.of(), true, expirationMillis,
                body.getBytes(StandardCharsets.UTF_8));
        assertThat(broker.publish(ch, "", queue, m, nowMillis).routedQueues()).isEqualTo(1);
    }

    private void publish(String queue, String body, int priority) {
        publish(queue, body, priority, Message.NO_EXPIRATION, 0);
    }

    private String get(String queue) {
        Broker.GetResult r = broker.get(ch, queue, true, 0);
        return r == null ? null : BrokerFixture.body(r.message());
    }

    @Test
    void higherPriorityGoesFirstAndEachPriorityInPublishOrder() {
        declare("q", "x-max-priority", 10);
        publish("q", "low-1", 1);
        publish("q", "high-1", 9);
        publish("q", "mid-1", 5);
        publish("q", "high-2", 9);
        publish("q", "low-2", 1);
        publish("q", "mid-2", 5);

        assertThat(f.ready("q")).containsExactly("high-1", "high-2", "mid-1", "mid-2", "low-1", "low-2");
        f.consume(ch, "q", true);
        assertThat(f.output(ch).bodies())
                .containsExactly("high-1", "high-2", "mid-1", "mid-2", "low-1", "low-2");
        assertThat(f.store.problems).isEmpty();
    }

    @Test
    void aPriorityAboveTheMaximumCountsAsTheMaximum() {
        declare("q", "x-max-priority", 3);
        publish("q", "at-3", 3);
        publish("q", "at-200", 200);
        publish("q", "at-2", 2);
        publish("q", "at-255", 255);

        assertThat(f.ready("q")).containsExactly("at-3", "at-200", "at-255", "at-2");
        assertThat(f.queueState("q").readySnapshot()).extracting(QueueEntry::priority).containsExactly(3, 3, 3, 2);
    }

    @Test
    void aMessageWithoutPriorityCountsAsZero() {
        declare("q", "x-max-priority", 5);
        publish("q", "none-1", -1);
        publish("q", "one", 1);
        publish("q", "zero", 0);
        publish("q", "none-2", -1);

        assertThat(f.ready("q")).containsExactly("one", "none-1", "zero", "none-2");
    }

    @Test
    void basicGetFollowsPriority() {
        declare("q", "x-max-priority", 10);
        publish("q", "a", 0);
        publish("q", "b", 7);
        publish("q", "c", 3);

        assertThat(get("q")).isEqualTo("b");
        publish("q", "d", 10);
        assertThat(get("q")).isEqualTo("d");
        assertThat(get("q")).isEqualTo("c");
        assertThat(get("q")).isEqualTo("a");
        assertThat(get("q")).isNull();
    }

    @Test
    void aRequeuedMessageGoesBackToItsPlaceWithinItsPriority() {
        declare("q", "x-max-priority", 10);
        publish("q", "p5-a", 5);
        publish("q", "p1-a", 1);
        publish("q", "p5-b", 5);
        publish("q", "p1-b", 1);

        Broker.GetResult first = broker.get(ch, "q", false, 0); // p5-a
        Broker.GetResult second = broker.get(ch, "q", false, 0); // p5-b
        Broker.GetResult third = broker.get(ch, "q", false, 0); // p1-a
        assertThat(BrokerFixture.body(third.message())).isEqualTo("p1-a");
        publish("q", "p5-c", 5);
        publish("q", "p1-c", 1);

        broker.reject(ch, third.deliveryTag(), false, true);
        broker.reject(ch, second.deliveryTag(), false, true);
        assertThat(f.ready("q")).containsExactly("p5-b", "p5-c", "p1-a", "p1-b", "p1-c");
        broker.reject(ch, first.deliveryTag(), false, true);
        assertThat(f.ready("q")).containsExactly("p5-a", "p5-b", "p5-c", "p1-a", "p1-b", "p1-c");

        Broker.GetResult again = broker.get(ch, "q", true, 0);
        assertThat(BrokerFixture.body(again.message())).isEqualTo("p5-a");
        assertThat(again.redelivered()).isTrue();
        assertThat(f.store.problems).isEmpty();
    }

    @Test
    void aChannelThatClosesReturnsEachDeliveryToItsPlaceWithinItsPriority() {
        declare("q", "x-max-priority", 5);
        publish("q", "p0-a", 0);
        publish("q", "p9-a", 9); // above the maximum: counts as 5, there too when it comes back
        publish("q", "p0-b", 0);
        publish("q", "p5-a", 5);
        ChannelState consumer = f.channel(2);
        f.consume(consumer, "q", false);
        assertThat(f.output(consumer).bodies()).containsExactly("p9-a", "p5-a", "p0-a", "p0-b");
        broker.cancel(consumer, f.output(consumer).last().consumerTag());
        publish("q", "p5-b", 5);
        publish("q", "p0-c", 0);
        publish("q", "none", -1);

        broker.closeChannel(consumer);

        assertThat(f.ready("q")).containsExactly("p9-a", "p5-a", "p5-b", "p0-a", "p0-b", "p0-c", "none");
        assertThat(f.queueState("q").readySnapshot()).extracting(QueueEntry::redelivered)
                .containsExactly(true, true, false, true, true, false, false);
    }

    @Test
    void aNackOfSeveralDeliveriesPutsThemBackAcrossPrioritiesAtOnce() {
        declare("q", "x-max-priority", 10);
        publish("q", "p1-a", 1);
        publish("q", "p7-a", 7);
        publish("q", "p1-b", 1);
        Broker.GetResult p7a = broker.get(ch, "q", false, 0);
        broker.get(ch, "q", false, 0);
        Broker.GetResult p1b = broker.get(ch, "q", false, 0);
        assertThat(BrokerFixture.body(p7a.message())).isEqualTo("p7-a");
        publish("q", "p7-b", 7);

        broker.reject(ch, p1b.deliveryTag(), true, true);

        assertThat(f.ready("q")).containsExactly("p7-a", "p7-b", "p1-a", "p1-b");
    }

    @Test
    void aRequeueOverTheLengthLimitDropsTheHeadWhichIsTheHighestPriority() {
        declare("q", "x-max-priority", 10, "x-max-length", 2);
        publish("q", "p9", 9);
        Broker.GetResult p9 = broker.get(ch, "q", false, 0);
        publish("q", "p1-a", 1);
        publish("q", "p1-b", 1);

        broker.reject(ch, p9.deliveryTag(), false, true); // back at the head, which drop-head then takes

        assertThat(f.ready("q")).containsExactly("p1-a", "p1-b");
        assertThat(f.store.problems).isEmpty();
    }

    @Test
    void aConsumerWithPrefetchTakesTheHighestPriorityAsCreditComesBack() {
        declare("q", "x-max-priority", 10);
        broker.qos(ch, 1, false);
        f.consume(ch, "q", false);
        publish("q", "first", 0); // goes at once: the queue is empty and the consumer has credit
        publish("q", "low", 1);
        publish("q", "high", 9);

        assertThat(f.output(ch).bodies()).containsExactly("first");
        broker.ack(ch, f.output(ch).deliveries.get(0).deliveryTag(), false);
        assertThat(f.output(ch).bodies()).containsExactly("first", "high");
        broker.reject(ch, f.output(ch).deliveries.get(1).deliveryTag(), false, true);
        assertThat(f.output(ch).bodies()).containsExactly("first", "high", "high");
        assertThat(f.output(ch).deliveries.get(2).redelivered()).isTrue();
    }

    @Test
    void aMessageHeldByRedeliveryBackoffComesBackToItsPlaceWithinItsPriority() {
        declare("q", "x-max-priority", 10, RedeliveryBackoff.ARGUMENT, "1s");
        publish("q", "p5-a", 5);
        publish("q", "p5-b", 5);
        publish("q", "p1", 1);

        Broker.GetResult r = broker.get(ch, "q", false, 0);
        broker.reject(ch, r.deliveryTag(), false, true);
        assertThat(f.ready("q")).containsExactly("p5-b", "p1");
        broker.tick(1000);

        assertThat(f.ready("q")).containsExactly("p5-a", "p5-b", "p1");
        assertThat(f.queueState("q").readySnapshot().get(0).redelivered()).isTrue();
    }

    @Test
    void expiredMessagesLeaveFromTheHeadOfEveryPriority() {
        declare("q", "x-max-priority", 10);
        publish("q", "high-forever", 9, Message.NO_EXPIRATION, 0);
        publish("q", "low-short", 1, 100, 0);
        publish("q", "low-forever", 1, Message.NO_EXPIRATION, 0);

        broker.tick(101);

        assertThat(f.ready("q")).containsExactly("high-forever", "low-forever");
        assertThat(f.store.events(Kind.REMOVED)).extracting(Event::body).containsExactly("low-short");
        assertThat(get("q")).isEqualTo("high-forever");
    }

    @Test
    void aTtlZeroMessageNobodyTookIsDropped() {
        declare("q", "x-max-priority", 10, "x-message-ttl", 0);
        publish("q", "high", 9);
        publish("q", "low", 1);

        assertThat(f.ready("q")).isEmpty();
        assertThat(f.queueState("q").readyBytes()).isZero();
    }

    @Test
    void dropHeadDropsFromTheHeadWhichIsTheHighestPriorityAsRabbitMqDoes() {
        declare("q", "x-max-priority", 10, "x-max-length", 2);
        publish("q", "low-1", 1);
        publish("q", "high", 9);
        publish("q", "low-2", 1);

        assertThat(f.ready("q")).containsExactly("low-1", "low-2");
        assertThat(f.store.events(Kind.REMOVED)).extracting(Event::body).containsExactly("high");
        assertThat(f.queueState("q").readyBytes()).isEqualTo("low-1".length() + "low-2".length());
    }

    @Test
    void rejectPublishRefusesTheNewMessageWhateverItsPriority() {
        declare("q", "x-max-priority", 10, "x-max-length", 1, "x-overflow", "reject-publish");
        publish("q", "low", 1);
        Message m = new Message("", "q", TextProperties.withPriority(9), Map.of(), true, Message.NO_EXPIRATION,
                "high".getBytes(StandardCharsets.UTF_8));

        assertThat(broker.publish(ch, "", "q", m, 0).rejected()).isTrue();
        assertThat(f.ready("q")).containsExactly("low");
    }

    @Test
    void purgeEmptiesEveryPriority() {
        declare("q", "x-max-priority", 10);
        publish("q", "a", 1);
        publish("q", "b", 9);

        assertThat(f.topology.purgeQueue(ch, "q")).isEqualTo(2);
        assertThat(f.ready("q")).isEmpty();
        assertThat(f.queueState("q").readyBytes()).isZero();
        assertThat(get("q")).isNull();
    }

    @Test
    void recoveredEntriesGoBackToTheirPriority() {
        declare("q", "x-max-priority", 10);
        Queue q = f.queueState("q");
        f.topology.restoreEntry(q, QueueEntry.pagedOut(1, 1, false, 0, 0, QueueEntry.NEVER, 101, 2));
        f.topology.restoreEntry(q, QueueEntry.pagedOut(2, 1, false, 0, 0, QueueEntry.NEVER, 102, 200));
        f.topology.restoreEntry(q, QueueEntry.pagedOut(3, 1, false, 0, 0, QueueEntry.NEVER, 103, 0));
        f.topology.restoreEntry(q, QueueEntry.pagedOut(4, 1, false, 0, 0, QueueEntry.NEVER, 104, 2));

        assertThat(q.readySnapshot()).extracting(QueueEntry::seq).containsExactly(2L, 1L, 4L, 3L);
        assertThat(q.readyCount()).isEqualTo(4);
        assertThat(q.readyBytes()).isEqualTo(4);
    }

    @Test
    void maxPriorityMustBeAnIntegerFrom1To255() {
        for (Object bad : new Object[] {0, -1, 256, 1000L, "10"}) {
            int code = replyCode(() -> declare("bad-" + bad, "x-max-priority", bad));
            assertThat(code).as("x-max-priority %s", bad).isEqualTo(406);
        }
        BrokerException e = org.assertj.core.api.Assertions.catchThrowableOfType(BrokerException.class,
                () -> declare("q", "x-max-priority", 256));
        assertThat(e.getMessage()).contains("x-max-priority");
        declare("ok-1", "x-max-priority", 1);
        declare("ok-255", "x-max-priority", 255);
        assertThat(f.queueState("ok-255").maxPriority()).isEqualTo(255);
    }

    @Test
    void aRedeclarationMustNameTheSameMaxPriority() {
        declare("q", "x-max-priority", 10);
        declare("q", "x-max-priority", (byte) 10); // the same value in another width is equivalent

        assertThat(replyCode(() -> declare("q", "x-max-priority", 5))).isEqualTo(406);
        assertThat(replyCode(() -> declare("q"))).isEqualTo(406);
        declare("plain");
        assertThat(replyCode(() -> declare("plain", "x-max-priority", 3))).isEqualTo(406);
    }

    @Test
    void aQueueWithoutTheArgumentIgnoresPriorities() {
        declare("q");
        publish("q", "low", 1);
        publish("q", "high", 9);
        publish("q", "none", -1);

        assertThat(f.ready("q")).containsExactly("low", "high", "none");
        assertThat(f.queueState("q").maxPriority()).isZero();
        assertThat(f.queueState("q").readySnapshot()).extracting(QueueEntry::priority).containsOnly(0);
        assertThat(get("q")).isEqualTo("low");
    }
}
