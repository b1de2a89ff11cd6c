package io.holdfast.core;

import static io.holdfast.core.BrokerFixture.NO_ARGS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.groups.Tuple.tuple;

import io.holdfast.core.BrokerFixture.RecordingOutput;
import io.holdfast.core.BrokerFixture.RecordingStore;
import io.holdfast.core.BrokerFixture.RecordingStore.Event;
import io.holdfast.core.BrokerFixture.RecordingStore.Kind;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What the core tells the {@link MessageStore}: only persistent messages on durable queues, enqueued
 * before removed, and every enqueued entry removed exactly once, whichever way it leaves its queue. And what it
 * asks: a queue whose paged-out head the store is reading elsewhere ({@link MessageStore#readable}) delivers
 * nothing, in order, until {@link Broker#readable}; every other queue goes on meanwhile.
 */
class MessageStoreSeamTest {
    private BrokerFixture f;
    private RecordingStore store;
    private Broker broker;
    private ChannelState ch;

    @BeforeEach
    void setUp() {
        f = new BrokerFixture();
        store = f.store;
        broker = f.broker;
        ch = f.channel(1);
        f.durableQueue(ch, "d");
        f.queue(ch, "t");
    }

    @AfterEach
    void theSeamsContractHeld() {
        assertThat(store.problems).isEmpty();
    }

    @Test
    void onlyPersistentMessagesOnDurableQueuesAreStored() {
        f.publishPersistent(ch, "", "d", "stored");
        f.publish(ch, "", "d", "transient");
        f.publishPersistent(ch, "", "t", "on-a-transient-queue");

        assertThat(store.events).extracting(Event::kind, Event::queue, Event::body)
                .containsExactly(tuple(Kind.ENQUEUED, "d", "stored"));
    }

    @Test
    void fanoutToTwoDurableQueuesStoresOneEntryPerQueue() {
        f.durableQueue(ch, "d2");
        f.topology.bindQueue(ch, "d", "amq.fanout", "", NO_ARGS);
        f.topology.bindQueue(ch, "d2", "amq.fanout", "", NO_ARGS);
        f.topology.bindQueue(ch, "t", "amq.fanout", "", NO_ARGS);

        f.publishPersistent(ch, "amq.fanout", "", "m");

        assertThat(store.events).extracting(Event::kind, Event::queue)
                .containsExactlyInAnyOrder(tuple(Kind.ENQUEUED, "d"), tuple(Kind.ENQUEUED, "d2"));
    }

    @Test
    void ackRemovesAfterEnqueue() {
        f.publishPersistent(ch, "", "d", "m");
        Broker.GetResult got = broker.get(ch, "d", false, 0);
        assertThat(store.live("d")).containsExactly("m");

        broker.ack(ch, got.deliveryTag(), false);

        assertThat(store.events).extracting(Event::kind).containsExactly(Kind.ENQUEUED, Kind.REMOVED);
        assertThat(store.live("d")).isEmpty();
    }

    @Test
    void requeueKeepsTheEntryAndRejectWithoutRequeueRemovesIt() {
        f.publishPersistent(ch, "", "d", "m");
        broker.reject(ch, broker.get(ch, "d", false, 0).deliveryTag(), false, true);
        assertThat(store.live("d")).containsExactly("m");

        broker.reject(ch, broker.get(ch, "d", false, 0).deliveryTag(), false, false);

        assertThat(store.live("d")).isEmpty();
        assertThat(store.events(Kind.REMOVED)).hasSize(1);
    }

    @Test
    void channelCloseAndRecoverKeepTheEntries() {
        f.publishPersistent(ch, "", "d", "a");
        f.publishPersistent(ch, "", "d", "b");
        broker.get(ch, "d", false, 0);
        broker.recover(ch);
        broker.get(ch, "d", false, 0);
        broker.closeChannel(ch);

        assertThat(store.live("d")).containsExactly("a", "b");
        assertThat(store.events(Kind.REMOVED)).isEmpty();
    }

    @Test
    void noAckDeliveriesRemoveAtOnce() {
        f.publishPersistent(ch, "", "d", "got");
        f.publishPersistent(ch, "", "d", "consumed");
        broker.get(ch, "d", true, 0);
        assertThat(store.live("d")).containsExactly("consumed");

        f.consume(f.channel(2), "d", true);

        assertThat(store.live("d")).isEmpty();
    }

    @Test
    void purgeRemovesTheReadyEntriesOnly() {
        f.publishPersistent(ch, "", "d", "out");
        f.publishPersistent(ch, "", "d", "a");
        f.publishPersistent(ch, "", "d", "b");
        Broker.GetResult got = broker.get(ch, "d", false, 0);

        f.topology.purgeQueue(ch, "d");
        assertThat(store.live("d")).containsExactly("out");

        broker.ack(ch, got.deliveryTag(), false);
        assertThat(store.live("d")).isEmpty();
        assertThat(store.events(Kind.REMOVED)).extracting(Event::body).containsExactly("a", "b", "out");
    }

    @Test
    void deletingAQueueRemovesItsReadyAndItsUnackedEntriesOnce() {
        f.publishPersistent(ch, "", "d", "out");
        f.publishPersistent(ch, "", "d", "ready");
        Broker.GetResult got = broker.get(ch, "d", false, 0);

        f.topology.deleteQueue(ch, "d", false, false);

        assertThat(store.queuesWithLiveEntries()).isEmpty();
        assertThat(store.events(Kind.REMOVED)).extracting(Event::body).containsExactlyInAnyOrder("out", "ready");
        assertThat(got.entry().removed).isTrue();

        broker.ack(ch, got.deliveryTag(), false);
        assertThat(store.events(Kind.REMOVED)).as("the ack of a deleted queue's message removes nothing more")
                .hasSize(2);
    }

    @Test
    void unackedEntriesOfADeletedQueueAreRemovedWhateverTheClientDoesNext() {
        f.publishPersistent(ch, "", "d", "a");
        f.publishPersistent(ch, "", "d", "b");
        f.publishPersistent(ch, "", "d", "c");
        broker.get(ch, "d", false, 0);
        broker.get(ch, "d", false, 0);
        broker.get(ch, "d", false, 0);

        f.topology.deleteQueue(ch, "d", false, false);
        broker.reject(ch, 1, false, true);
        broker.reject(ch, 2, false, false);
        broker.closeChannel(ch);

        assertThat(store.queuesWithLiveEntries()).isEmpty();
        assertThat(store.events(Kind.REMOVED)).hasSize(3);
    }

    @Test
    void aRedeclaredQueueDoesNotInheritTheDeletedOnesMessages() {
        f.publishPersistent(ch, "", "d", "old");
        Broker.GetResult got = broker.get(ch, "d", false, 0);
        f.topology.deleteQueue(ch, "d", false, false);
        f.durableQueue(ch, "d");

        broker.reject(ch, got.deliveryTag(), false, true);

        assertThat(f.ready("d")).isEmpty();
        assertThat(store.live("d")).isEmpty();
    }

    @Test
    void autoDeleteQueueDroppedByChannelCloseRemovesItsEntries() {
        f.topology.declareQueue(ch, "ad", false, true, false, true, NO_ARGS);
        ChannelState consumer = f.channel(2);
        f.consume(consumer, "ad", false);
        f.publishPersistent(ch, "", "ad", "out");

        broker.closeChannel(consumer);

        assertThat(f.broker.virtualHost("/").queue("ad")).isNull();
        assertThat(store.queuesWithLiveEntries()).isEmpty();
    }

    @Test
    void storeSeesEachQueuesEntriesInSequenceOrder() {
        for (int i = 0; i < 5; i++) {
            f.publishPersistent(ch, "", "d", "m" + i);
        }
        assertThat(store.events(Kind.ENQUEUED)).extracting(Event::seq).isSorted();
        assertThat(store.live("d")).containsExactly("m0", "m1", "m2", "m3", "m4");
    }

    @Test
    void aPagedOutMessageIsReadBackForEachDelivery() {
        f.publishPersistent(ch, "", "d", "m");
        assertThat(f.queueState("d").readySnapshot().get(0).residentMessage()).as("paged out").isNull();

        Broker.GetResult got = broker.get(ch, "d", false, 0);
        broker.reject(ch, got.deliveryTag(), false, true);
        f.consume(ch, "d", false);

        assertThat(BrokerFixture.body(got.message())).isEqualTo("m");
        assertThat(f.output(ch).bodies()).containsExactly("m");
        assertThat(store.loads).isEqualTo(2);
    }

    @Test
    void aMessageTheStoreCannotReadIsDroppedAndTheNextOneDelivered() {
        f.publishPersistent(ch, "", "d", "damaged");
        f.publishPersistent(ch, "", "d", "fine");
        store.unreadable.add(f.queueState("d").readySnapshot().get(0).seq());

        f.consume(ch, "d", false);

        assertThat(f.output(ch).bodies()).containsExactly("fine");
        assertThat(store.events(Kind.REMOVED)).extracting(Event::body).containsExactly("damaged");
        assertThat(f.queueState("d").readyCount()).isZero();
    }

    @Test
    void basicGetSkipsAMessageTheStoreCannotRead() {
        f.publishPersistent(ch, "", "d", "damaged");
        store.unreadable.add(f.queueState("d").readySnapshot().get(0).seq());

        assertThat(broker.get(ch, "d", true, 0)).isNull();
        f.publishPersistent(ch, "", "d", "fine");
        assertThat(BrokerFixture.body(broker.get(ch, "d", true, 0).message())).isEqualTo("fine");
    }

    // ---- MessageStore#readable: a store reading on another thread ----

    private void persistent(String queue, String... bodies) {
        for (String b : bodies) {
            assertThat(f.publishPersistent(ch, "", queue, b)).isEqualTo(1);
        }
    }

    private long seqOfReady(String queue, int index) {
        return f.queueState(queue).readySnapshot().get(index).storeRef;
    }

    @Test
    void aQueueWaitsForItsHeadBeingReadInOrderWhileAnotherDelivers() {
        f.durableQueue(ch, "cold");
        f.durableQueue(ch, "hot");
        persistent("cold", "c1", "c2", "c3");
        store.reading.add(seqOfReady("cold", 0));
        store.reading.add(seqOfReady("cold", 2));
        ChannelState coldCh = f.channel(2);
        ChannelState hotCh = f.channel(3);
        f.consume(coldCh, "cold", true);
        f.consume(hotCh, "hot", true);

        persistent("hot", "h1", "h2");
        RecordingOutput cold = f.output(coldCh);
        assertThat(cold.bodies()).as("c2 is readable, but behind c1").isEmpty();
        assertThat(f.output(hotCh).bodies()).containsExactly("h1", "h2");

        store.reading.remove(seqOfReady("cold", 0));
        broker.readable(f.queueState("cold"));
        assertThat(cold.bodies()).as("up to the next one still being read").containsExactly("c1", "c2");

        store.reading.clear();
        broker.readable(f.queueState("cold"));
        assertThat(cold.bodies()).containsExactly("c1", "c2", "c3");
        assertThat(f.queueState("cold").readyCount()).isZero();
    }

    @Test
    void aHeadBeingReadThatLeavesTheQueueIsNotWaitedFor() {
        f.durableQueue(ch, "cold");
        persistent("cold", "c1", "c2");
        store.reading.add(seqOfReady("cold", 0));
        ChannelState coldCh = f.channel(2);
        f.consume(coldCh, "cold", false);
        assertThat(f.output(coldCh).bodies()).isEmpty();

        broker.topology().purgeQueue(ch, "cold");
        persistent("cold", "c3");
        assertThat(f.output(coldCh).bodies()).as("the purged head is no longer waited for").containsExactly("c3");
        broker.readable(f.queueState("cold")); // a late arrival for what was purged changes nothing
        assertThat(f.output(coldCh).bodies()).containsExactly("c3");
    }

    @Test
    void aConsumerWithoutCreditDoesNotAskTheStoreToRead() {
        f.durableQueue(ch, "cold");
        persistent("cold", "c1", "c2");
        ChannelState coldCh = f.channel(2);
        broker.qos(coldCh, 1, false);
        f.consume(coldCh, "cold", false);
        assertThat(f.output(coldCh).bodies()).containsExactly("c1");
        int asked = store.askedReadable.size();

        persistent("cold", "c3");
        assertThat(store.askedReadable).as("no credit, no read").hasSize(asked);
    }
}
