package io.holdfast.core;

import static io.holdfast.core.BrokerFixture.NO_ARGS;
import static io.holdfast.core.BrokerFixture.replyCode;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.holdfast.core.BrokerFixture.Delivery;
import io.holdfast.core.BrokerFixture.RecordingOutput;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The consumer timeout as a lease: a manual-ack delivery held past {@code consumer_timeout} (or the queue's
 * {@code x-consumer-timeout}) cancels its consumer, or closes its channel, and its messages go back.
 */
class ConsumerTimeoutTest {
    private final BrokerFixture f = new BrokerFixture();
    private final Broker broker = f.broker;
    private final ChannelState ch = f.channel(1);
    private final RecordingOutput out = f.output(ch);

    private void declare(String name, Map<String, Object> args) {
        f.topology.declareQueue(ch, name, false, false, false, false, args);
    }

    private List<Delivery> deliveriesTo(RecordingOutput o, String consumerTag) {
        return o.deliveries.stream().filter(d -> d.consumerTag().equals(consumerTag)).toList();
    }

    @Test
    void onlyTheLateConsumerIsCancelledAndItsMessagesGoBackInPosition() {
        broker.consumerTimeout(1000, ConsumerTimeoutAction.CANCEL_CONSUMER);
        declare("q", NO_ARGS);
        declare("r", NO_ARGS);
        f.publishTo(ch, "q", "a", "b", "c");
        broker.qos(ch, 2, false);
        String late = f.consume(ch, "q", false); // takes a and b at time 0
        broker.advanceClock(500);
        f.publishTo(ch, "r", "x");
        String prompt = f.consume(ch, "r", false); // takes x at time 500
        assertThat(deliveriesTo(out, late)).extracting(Delivery::body).containsExactly("a", "b");
        long lateTag = deliveriesTo(out, late).get(0).deliveryTag();
        long promptTag = deliveriesTo(out, prompt).get(0).deliveryTag();

        broker.tick(1000);
        assertThat(out.cancelled).isEmpty();

        broker.tick(1001);
        assertThat(out.cancelled).containsExactly(late);
        assertThat(f.ready("q")).containsExactly("a", "b", "c");
        assertThat(f.queueState("q").readySnapshot()).extracting(QueueEntry::redelivered)
                .containsExactly(true, true, false);
        assertThat(f.queueState("q").unackedCount()).isZero();
        assertThat(ch.consumerCount()).isEqualTo(1);
        assertThat(ch.unackedCount()).isEqualTo(1);

        // The other consumer on the channel goes on: its delivery is still ackable, new ones still come.
        broker.ack(ch, promptTag, false);
        f.publishTo(ch, "r", "y");
        assertThat(out.last().consumerTag()).isEqualTo(prompt);
        assertThat(out.last().body()).isEqualTo("y");

        // The late consumer's tag is gone: no silent settle of a message someone else may now hold.
        BrokerException e = catchThrowableOfType(BrokerException.class, () -> broker.ack(ch, lateTag, false));
        assertThat(e.code().code()).isEqualTo(406);
        assertThat(e.getMessage()).isEqualTo("unknown delivery tag " + lateTag);
        assertThat(replyCode(() -> broker.reject(ch, lateTag + 1, false, true))).isEqualTo(406);

        // Another consumer gets them again, in order, flagged redelivered.
        ChannelState other = f.channel(2);
        f.consume(other, "q", false);
        assertThat(f.output(other).deliveries).extracting(Delivery::body).containsExactly("a", "b", "c");
        assertThat(f.output(other).deliveries).extracting(Delivery::redelivered).containsExactly(true, true, false);
        assertThat(f.store.problems).isEmpty();
    }

    @Test
    void aRequeuedMessageGoesAheadOfLaterOnes() {
        broker.consumerTimeout(1000, ConsumerTimeoutAction.CANCEL_CONSUMER);
        declare("q", NO_ARGS);
        f.publishTo(ch, "q", "first");
        f.consume(ch, "q", false);
        broker.advanceClock(600);
        f.publishTo(ch, "q", "second"); // goes to the same consumer, 600 ms later

        broker.tick(1001); // "first" is late: the consumer goes, with both its deliveries
        assertThat(out.cancelled).hasSize(1);
        assertThat(f.ready("q")).containsExactly("first", "second");
        assertThat(ch.unackedCount()).isZero();
    }

    @Test
    void closeChannelModeTellsTheOutputAndRequeuesEveryUnackedDelivery() {
        broker.consumerTimeout(1000, ConsumerTimeoutAction.CLOSE_CHANNEL);
        declare("q", NO_ARGS);
        f.publishTo(ch, "q", "a", "b");
        assertThat(broker.get(ch, "q", false, 0)).isNotNull();
        f.consume(ch, "q", false);

        broker.tick(1000);
        assertThat(out.timedOut).isEmpty();
        broker.tick(1001);
        assertThat(out.timedOut).containsExactly(1000L);
        assertThat(out.cancelled).isEmpty();
        assertThat(ch.closed).isTrue();
        assertThat(f.ready("q")).containsExactly("a", "b");
        assertThat(f.queueState("q").consumerCount()).isZero();

        broker.tick(5000);
        assertThat(out.timedOut).hasSize(1);
    }

    @Test
    void closeChannelModeTimesBasicGetDeliveriesToo() {
        broker.consumerTimeout(1000, ConsumerTimeoutAction.CLOSE_CHANNEL);
        declare("q", NO_ARGS);
        f.publishTo(ch, "q", "a");
        assertThat(broker.get(ch, "q", false, 0)).isNotNull();

        broker.tick(1001);
        assertThat(out.timedOut).containsExactly(1000L);
        assertThat(f.ready("q")).containsExactly("a");
    }

    @Test
    void cancelModeLeavesBasicGetDeliveriesAlone() {
        broker.consumerTimeout(1000, ConsumerTimeoutAction.CANCEL_CONSUMER);
        declare("q", NO_ARGS);
        f.publishTo(ch, "q", "a");
        Broker.GetResult got = broker.get(ch, "q", false, 0);

        broker.tick(100_000);
        assertThat(ch.unackedCount()).isEqualTo(1);
        broker.ack(ch, got.deliveryTag(), false);
        assertThat(f.queueState("q").unackedCount()).isZero();
    }

    @Test
    void queueArgumentOverridesTheBrokerTimeout() {
        broker.consumerTimeout(1000, ConsumerTimeoutAction.CANCEL_CONSUMER);
        declare("fast", Map.of("x-consumer-timeout", 100));
        declare("slow", Map.of("x-consumer-timeout", 5000L));
        f.publishTo(ch, "fast", "f");
        f.publishTo(ch, "slow", "s");
        String fast = f.consume(ch, "fast", false);
        String slow = f.consume(ch, "slow", false);

        broker.tick(101);
        assertThat(out.cancelled).containsExactly(fast);
        broker.tick(1001);
        assertThat(out.cancelled).containsExactly(fast);
        broker.tick(5001);
        assertThat(out.cancelled).containsExactly(fast, slow);
        assertThat(f.ready("slow")).containsExactly("s");
    }

    @Test
    void queueArgumentAppliesWhenTheBrokerHasNoTimeout() {
        broker.consumerTimeout(-1, ConsumerTimeoutAction.CANCEL_CONSUMER);
        declare("q", Map.of("x-consumer-timeout", 100));
        declare("plain", NO_ARGS);
        f.publishTo(ch, "q", "a");
        f.publishTo(ch, "plain", "b");
        String timed = f.consume(ch, "q", false);
        f.consume(ch, "plain", false);

        broker.tick(Long.MAX_VALUE / 2);
        assertThat(out.cancelled).containsExactly(timed);
        assertThat(ch.unackedCount()).isEqualTo(1);
    }

    @Test
    void noAckConsumersAreNeverTimedOut() {
        broker.consumerTimeout(1000, ConsumerTimeoutAction.CANCEL_CONSUMER);
        declare("q", NO_ARGS);
        f.publishTo(ch, "q", "a");
        f.consume(ch, "q", true);

        broker.tick(100_000);
        assertThat(out.cancelled).isEmpty();
        assertThat(ch.consumerCount()).isEqualTo(1);
    }

    @Test
    void defaultTimeoutIsRabbitMqsThirtyMinutes() {
        declare("q", NO_ARGS);
        f.publishTo(ch, "q", "a");
        String tag = f.consume(ch, "q", false);

        broker.tick(1_800_000);
        assertThat(out.cancelled).isEmpty();
        broker.tick(1_800_001);
        assertThat(out.cancelled).containsExactly(tag);
    }

    @Test
    void aConsumerTheClientCancelledStillLosesItsLateDeliveriesButHearsNothing() {
        broker.consumerTimeout(1000, ConsumerTimeoutAction.CANCEL_CONSUMER);
        declare("q", NO_ARGS);
        f.publishTo(ch, "q", "a");
        String tag = f.consume(ch, "q", false);
        broker.cancel(ch, tag);

        broker.tick(1001);
        assertThat(out.cancelled).isEmpty();
        assertThat(f.ready("q")).containsExactly("a");
        assertThat(ch.unackedCount()).isZero();
    }

    @Test
    void invalidConsumerTimeoutArgumentIsRefusedNamingIt() {
        for (Object bad : new Object[] {-1, "soon", 1.5}) {
            BrokerException e = catchThrowableOfType(BrokerException.class, () -> f.topology.declareQueue(ch, "q",
                    false, false, false, false, Map.of("x-consumer-timeout", bad)));
            assertThat(e.code().code()).isEqualTo(406);
            assertThat(e.getMessage()).contains("x-consumer-timeout");
        }
        declare("q", Map.of("x-consumer-timeout", 0));
    }
}
