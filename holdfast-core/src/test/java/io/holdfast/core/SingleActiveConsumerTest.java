package io.holdfast.core;

import static io.holdfast.core.BrokerFixture.replyCode;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.groups.Tuple.tuple;

import io.holdfast.core.BrokerFixture.Delivery;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** {@code x-single-active-consumer}: one consumer at a time, handed over in registration order, order kept. */
class SingleActiveConsumerTest {
    private static final Map<String, Object> SAC = Map.of("x-single-active-consumer", true);

    private BrokerFixture f;
    private Broker broker;
    private ChannelState publisher;

    @BeforeEach
    void setUp() {
        f = new BrokerFixture();
        broker = f.broker;
        publisher = f.channel(9);
        f.topology.declareQueue(publisher, "sac", false, false, false, false, SAC);
    }

    @Test
    void onlyTheFirstRegisteredConsumerReceives() {
        ChannelState first = f.channel(1);
        ChannelState second = f.channel(2);
        String a = f.consume(first, "sac", false);
        f.consume(second, "sac", false);

        f.publishTo(publisher, "sac", "1", "2", "3");

        assertThat(f.output(first).deliveries).extracting(Delivery::consumerTag, Delivery::body)
                .containsExactly(tuple(a, "1"), tuple(a, "2"), tuple(a, "3"));
        assertThat(f.output(second).deliveries).isEmpty();
        assertThat(f.queueState("sac").consumerCount()).as("the waiting consumer is registered").isEqualTo(2);
        assertThat(f.queueState("sac").activeConsumer().tag()).isEqualTo(a);
    }

    @Test
    void cancellingTheActiveConsumerHandsOverInRegistrationOrder() {
        ChannelState ch = f.channel(1);
        String a = f.consume(ch, "sac", true);
        String b = f.consume(ch, "sac", true);
        String c = f.consume(ch, "sac", true);

        f.publishTo(publisher, "sac", "1");
        assertThat(broker.cancel(ch, a)).isTrue();
        f.publishTo(publisher, "sac", "2");
        assertThat(broker.cancel(ch, b)).isTrue();
        f.publishTo(publisher, "sac", "3");

        assertThat(f.output(ch).deliveries).extracting(Delivery::consumerTag, Delivery::body)
                .containsExactly(tuple(a, "1"), tuple(b, "2"), tuple(c, "3"));
    }

    @Test
    void theNextConsumerTakesOverTheBacklogAtOnce() {
        ChannelState first = f.channel(1);
        ChannelState second = f.channel(2);
        broker.qos(first, 1, false);
        String a = f.consume(first, "sac", false);
        f.consume(second, "sac", true);
        f.publishTo(publisher, "sac", "1", "2", "3");
        assertThat(f.output(first).bodies()).containsExactly("1");

        broker.cancel(first, a);

        assertThat(f.output(second).bodies()).containsExactly("2", "3");
        // basic.cancel leaves the delivery ackable, as for any queue.
        broker.ack(first, 1, false);
        assertThat(f.queueState("sac").unackedCount()).isZero();
    }

    @Test
    void closingTheActiveChannelRequeuesItsUnackedAheadOfTheRestForTheNextConsumer() {
        ChannelState first = f.channel(1);
        ChannelState second = f.channel(2);
        broker.qos(first, 3, false);
        f.consume(first, "sac", false);
        f.consume(second, "sac", false);
        f.publishTo(publisher, "sac", "1", "2", "3", "4", "5");
        broker.ack(first, 1, false);
        assertThat(f.output(first).bodies()).containsExactly("1", "2", "3", "4");
        assertThat(f.output(second).deliveries).isEmpty();

        broker.closeChannel(first);

        assertThat(f.output(second).deliveries).extracting(Delivery::body, Delivery::redelivered).containsExactly(
                tuple("2", true), tuple("3", true), tuple("4", true), tuple("5", false));
    }

    @Test
    void aWaitingConsumerCancellingChangesNothing() {
        ChannelState ch = f.channel(1);
        broker.qos(ch, 1, false);
        String a = f.consume(ch, "sac", false);
        String b = f.consume(ch, "sac", false);
        String c = f.consume(ch, "sac", false);
        f.publishTo(publisher, "sac", "1", "2");

        broker.cancel(ch, b);

        assertThat(f.output(ch).deliveries).extracting(Delivery::consumerTag, Delivery::body)
                .containsExactly(tuple(a, "1"));
        assertThat(f.queueState("sac").activeConsumer().tag()).isEqualTo(a);

        broker.cancel(ch, a);
        assertThat(f.output(ch).deliveries).extracting(Delivery::consumerTag, Delivery::body)
                .containsExactly(tuple(a, "1"), tuple(c, "2"));
    }

    @Test
    void prefetchOfTheActiveConsumerHoldsBackTheOthersToo() {
        ChannelState first = f.channel(1);
        ChannelState second = f.channel(2);
        broker.qos(first, 2, false);
        f.consume(first, "sac", false);
        f.consume(second, "sac", false);

        f.publishTo(publisher, "sac", "1", "2", "3", "4");
        assertThat(f.output(first).bodies()).containsExactly("1", "2");
        assertThat(f.output(second).deliveries).as("a waiting consumer does not take the overflow").isEmpty();
        assertThat(f.ready("sac")).containsExactly("3", "4");

        broker.ack(first, 1, false);
        assertThat(f.output(first).bodies()).containsExactly("1", "2", "3");
    }

    @Test
    void aBlockedActiveConsumerIsWaitedForNotSkipped() {
        ChannelState first = f.channel(1);
        ChannelState second = f.channel(2);
        f.consume(first, "sac", false);
        f.consume(second, "sac", false);
        f.output(first).writable = false;

        f.publishTo(publisher, "sac", "1");
        assertThat(f.output(second).deliveries).isEmpty();

        f.output(first).writable = true;
        broker.channelWritable(first);
        assertThat(f.output(first).bodies()).containsExactly("1");
    }

    @Test
    void aQueueWithoutTheArgumentStillRoundRobins() {
        f.topology.declareQueue(publisher, "off", false, false, false, false,
                Map.of("x-single-active-consumer", false));
        ChannelState ch = f.channel(1);
        String a = f.consume(ch, "off", true);
        String b = f.consume(ch, "off", true);

        f.publishTo(publisher, "off", "1", "2");

        assertThat(f.output(ch).deliveries).extracting(Delivery::consumerTag).containsExactly(a, b);
    }

    @Test
    void exclusiveConsumersStillExcludeOthers() {
        ChannelState ch = f.channel(1);
        broker.consume(ch, "sac", "x", false, true, BrokerFixture.NO_ARGS);

        assertThat(replyCode(() -> broker.consume(ch, "sac", "y", false, false, BrokerFixture.NO_ARGS)))
                .isEqualTo(403);
    }

    @Test
    void aNonBooleanValueIsRefusedNamingTheArgument() {
        BrokerException e = org.assertj.core.api.Assertions.catchThrowableOfType(BrokerException.class,
                () -> f.topology.declareQueue(publisher, "bad", false, false, false, false,
                        Map.of("x-single-active-consumer", "yes")));

        assertThat(e.code().code()).isEqualTo(406);
        assertThat(e.getMessage()).contains("x-single-active-consumer");
        assertThat(f.queueState("bad")).isNull();
    }

    @Test
    void redeclaringWithADifferentValueIsInequivalent() {
        assertThat(replyCode(() -> f.topology.declareQueue(publisher, "sac", false, false, false, false,
                Map.of("x-single-active-consumer", false)))).isEqualTo(406);
        assertThat(replyCode(() -> f.topology.declareQueue(publisher, "sac", false, false, false, false,
                BrokerFixture.NO_ARGS))).isEqualTo(406);
        assertThat(f.topology.declareQueue(publisher, "sac", false, false, false, false, SAC).queue())
                .isEqualTo("sac");
    }
}
