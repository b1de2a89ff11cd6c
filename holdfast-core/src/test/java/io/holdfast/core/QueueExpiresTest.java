package io.holdfast.core;

import static io.holdfast.core.BrokerFixture.NO_ARGS;
import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.core.BrokerFixture.RecordingStore.Kind;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@code x-expires}: a queue unused (no consumer, no basic.get, no declaration, passive or not) for that long is
 * deleted.
 */
class QueueExpiresTest {
    private final BrokerFixture f = new BrokerFixture();
    private final Broker broker = f.broker;
    private final ChannelState ch = f.channel(1);

    private void declare(String name, boolean passive) {
        f.topology.declareQueue(ch, name, passive, true, false, false, Map.of("x-expires", 1000));
    }

    private boolean exists(String name) {
        return f.queueState(name) != null;
    }

    @Test
    void unusedQueueIsDeletedWithItsMessages() {
        broker.advanceClock(10_000);
        declare("q", false);
        f.publishPersistent(ch, "", "q", "m");

        broker.tick(11_000);
        assertThat(exists("q")).isTrue();
        broker.tick(11_001);

        assertThat(exists("q")).isFalse();
        assertThat(f.store.events(Kind.REMOVED)).hasSize(1);
        assertThat(f.store.problems).isEmpty();
        assertThat(broker.takeDurableTopologyChange()).isTrue();
    }

    @Test
    void redeclarePassiveDeclareGetAndConsumeRenewTheLease() {
        declare("q", false);
        broker.advanceClock(900);
        declare("q", false);
        assertThat(broker.get(ch, "q", true, 1800)).isNull();
        broker.advanceClock(2700);
        declare("q", true); // RabbitMQ's queue.declare passive asks the queue for its counts, which renews it
        broker.advanceClock(3600);
        broker.cancel(ch, f.consume(ch, "q", false));

        broker.tick(4600);
        assertThat(exists("q")).isTrue();
        broker.tick(4601);
        assertThat(exists("q")).isFalse();
    }

    @Test
    void aQueueWithAConsumerNeverExpiresAndItsLeaseStartsWhenTheLastOneLeaves() {
        declare("q", false);
        String tag = f.consume(ch, "q", false);

        broker.tick(100_000);
        assertThat(exists("q")).isTrue();
        broker.advanceClock(100_000);
        broker.cancel(ch, tag);
        broker.tick(101_000);
        assertThat(exists("q")).isTrue();
        broker.tick(101_001);
        assertThat(exists("q")).isFalse();
    }

    @Test
    void aRecoveredQueueStartsItsLeaseAtTheFirstTick() {
        f.topology.restoreQueue("/", "r", false, Map.of("x-expires", 1000));

        broker.tick(50_000);
        assertThat(exists("r")).isTrue();
        broker.tick(51_001);
        assertThat(exists("r")).isFalse();
    }

    @Test
    void queuesWithoutExpiresStay() {
        f.topology.declareQueue(ch, "plain", false, false, false, false, NO_ARGS);
        broker.tick(Long.MAX_VALUE / 2);
        assertThat(exists("plain")).isTrue();
    }
}
