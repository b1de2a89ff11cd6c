package io.holdfast.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.core.BrokerFixture.RecordingOutput;
import io.holdfast.core.BrokerFixture.RecordingStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A store that reads paged-out messages on another thread ({@link MessageStore#readable}): the queue whose head
 * is being read delivers nothing, in order, until {@link Broker#readable}; every other queue goes on meanwhile.
 */
class ReadableHeadTest {
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
        f.durableQueue(ch, "cold");
        f.durableQueue(ch, "hot");
    }

    @AfterEach
    void theSeamsContractHeld() {
        assertThat(store.problems).isEmpty();
    }

    private void persistent(String queue, String... bodies) {
        for (String b : bodies) {
            assertThat(f.publishPersistent(ch, "", queue, b)).isEqualTo(1);
        }
    }

    private long seqOfReady(String queue, int index) {
        return f.queueState(queue).readySnapshot().get(index).storeRef;
    }

    @Test
    void aQueueWaitsForItsHeadInOrderWhileAnotherDelivers() {
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
    void aConsumerWithoutCreditDoesNotAskTheStore() {
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
