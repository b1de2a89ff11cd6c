package io.holdfast.core;

import static io.holdfast.core.BrokerFixture.replyCode;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.assertj.core.groups.Tuple.tuple;

import io.holdfast.core.BrokerFixture.Delivery;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Consumer priorities ({@code x-priority} on basic.consume) and the prefetch rules around them, as RabbitMQ
 * documents them: the highest-priority consumers get messages while they have room, lower ones only while every
 * higher one is blocked, equal priorities take turns; a no-ack consumer waits while its channel is at its shared
 * limit.
 */
class ConsumerPriorityTest {
    private BrokerFixture f;
    private Broker broker;
    private ChannelState publisher;

    @BeforeEach
    void setUp() {
        f = new BrokerFixture();
        broker = f.broker;
        publisher = f.channel(9);
        f.queue(publisher, "q");
    }

    private String consume(ChannelState ch, int priority, boolean noAck) {
        String tag = broker.consume(ch, "q", "", noAck, false, Map.of("x-priority", priority));
        broker.dispatch();
        return tag;
    }

    @Test
    void higherPriorityConsumersGetMessagesWhileTheyHaveRoom() {
        ChannelState low = f.channel(1);
        ChannelState high = f.channel(2);
        broker.qos(low, 10, false);
        broker.qos(high, 2, false);
        String lowTag = consume(low, 1, false);
        String highTag = consume(high, 10, false);

        f.publishTo(publisher, "q", "1", "2", "3");
        assertThat(f.timeline()).extracting(Delivery::consumerTag, Delivery::body)
                .containsExactly(tuple(highTag, "1"), tuple(highTag, "2"), tuple(lowTag, "3"));

        broker.ack(high, 1, false); // room again: the next message is the high one's, not the low one's
        f.publishTo(publisher, "q", "4");
        assertThat(f.output(high).last().body()).isEqualTo("4");
        assertThat(f.output(low).bodies()).containsExactly("3");
    }

    @Test
    void aHigherPriorityConsumerWithRoomAgainTakesWhatIsWaiting() {
        ChannelState high = f.channel(1);
        broker.qos(high, 1, false);
        String highTag = consume(high, 5, false);
        f.publishTo(publisher, "q", "1", "2", "3");
        ChannelState low = f.channel(2);
        broker.qos(low, 1, false);
        consume(low, 0, false); // takes 2; 3 waits for whichever has room first

        broker.ack(high, 1, false);

        assertThat(f.output(high).bodies()).containsExactly("1", "3");
        assertThat(f.output(low).bodies()).containsExactly("2");
        assertThat(f.output(high).last().consumerTag()).isEqualTo(highTag);
    }

    @Test
    void consumersOfEqualPriorityTakeTurns() {
        ChannelState ch = f.channel(1);
        String a = consume(ch, 3, false);
        String b = consume(ch, 3, false);
        String low = consume(ch, 0, false);

        f.publishTo(publisher, "q", "1", "2", "3", "4");

        assertThat(f.timeline()).extracting(Delivery::consumerTag, Delivery::body).containsExactly(
                tuple(a, "1"), tuple(b, "2"), tuple(a, "3"), tuple(b, "4"));
        assertThat(f.output(ch).deliveries).extracting(Delivery::consumerTag).doesNotContain(low);
    }

    @Test
    void aConsumerWithoutPriorityCountsAsZeroAndNegativePrioritiesComeLast() {
        ChannelState ch = f.channel(1);
        broker.qos(ch, 1, false);
        String negative = consume(ch, -5, false);
        String none = f.consume(ch, "q", false);

        f.publishTo(publisher, "q", "1", "2", "3");

        assertThat(f.timeline()).extracting(Delivery::consumerTag, Delivery::body)
                .containsExactly(tuple(none, "1"), tuple(negative, "2"));
        assertThat(f.ready("q")).containsExactly("3");
    }

    @Test
    void aConsumerBlockedByANonWritableChannelLetsLowerPrioritiesTake() {
        ChannelState high = f.channel(1);
        ChannelState low = f.channel(2);
        consume(high, 10, false);
        consume(low, 0, false);
        f.output(high).writable = false;

        f.publishTo(publisher, "q", "1");
        f.output(high).writable = true;
        broker.channelWritable(high);
        f.publishTo(publisher, "q", "2");

        assertThat(f.output(low).bodies()).containsExactly("1");
        assertThat(f.output(high).bodies()).containsExactly("2");
    }

    @Test
    void aConsumerThatRegainsRoomRejoinsAtTheEndOfItsTurn() {
        ChannelState ch = f.channel(1);
        broker.qos(ch, 1, false);
        String a = f.consume(ch, "q", false);
        broker.qos(ch, 0, false);
        String b = f.consume(ch, "q", false);
        String c = f.consume(ch, "q", false);

        f.publishTo(publisher, "q", "1", "2", "3", "4"); // a takes 1 and is then blocked by its prefetch
        broker.ack(ch, 1, false); // a has room again: its turn comes after c and b, who were waiting theirs
        f.publishTo(publisher, "q", "5", "6", "7");

        assertThat(f.timeline()).extracting(Delivery::consumerTag, Delivery::body).containsExactly(
                tuple(a, "1"), tuple(b, "2"), tuple(c, "3"), tuple(b, "4"),
                tuple(c, "5"), tuple(b, "6"), tuple(a, "7"));
    }

    @Test
    void aNonIntegerPriorityIsRefusedWithRabbitMqsText() {
        ChannelState ch = f.channel(1);

        BrokerException e = catchThrowableOfType(BrokerException.class,
                () -> broker.consume(ch, "q", "", false, false, Map.of("x-priority", "high")));

        assertThat(e.code()).isEqualTo(ErrorCode.PRECONDITION_FAILED);
        assertThat(e.getMessage()).isEqualTo(
                "invalid arg 'x-priority' for queue 'q' in vhost '/': {unacceptable_type,longstr}");
        assertThat(replyCode(() -> broker.consume(ch, "q", "", false, false, Map.of("x-priority", 1.5))))
                .isEqualTo(406);
        assertThat(f.queueState("q").consumerCount()).isZero();
    }

    @Test
    void aNoAckConsumerWaitsWhileItsChannelIsAtItsSharedLimit() {
        ChannelState ch = f.channel(1);
        broker.qos(ch, 1, true);
        f.queue(publisher, "other");
        broker.consume(ch, "other", "", false, false, Map.of());
        f.publishTo(publisher, "other", "held");
        String noAck = f.consume(ch, "q", true);

        f.publishTo(publisher, "q", "1", "2");
        assertThat(f.output(ch).bodies()).containsExactly("held");

        broker.ack(ch, 1, false);
        assertThat(f.output(ch).deliveries).extracting(Delivery::consumerTag, Delivery::body)
                .containsExactly(tuple(f.output(ch).deliveries.get(0).consumerTag(), "held"),
                        tuple(noAck, "1"), tuple(noAck, "2"));
    }
}
