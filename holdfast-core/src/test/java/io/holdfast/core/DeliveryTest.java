package io.holdfast.core;

import static io.holdfast.core.BrokerFixture.body;
import static io.holdfast.core.BrokerFixture.replyCode;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.groups.Tuple.tuple;

import io.holdfast.core.BrokerFixture.Delivery;
import io.holdfast.core.BrokerFixture.RecordingOutput;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Consumers, prefetch, basic.get, acknowledgements and redelivery (contract rules 2, 3 and 4). */
class DeliveryTest {
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

    // ---- dispatch ----

    @Test
    void consumersOfAQueueTakeTurns() {
        ChannelState ch = f.channel(1);
        String a = f.consume(ch, "q", false);
        String b = f.consume(ch, "q", false);

        f.publishTo(publisher, "q", "1", "2", "3", "4");

        assertThat(f.output(ch).deliveries).extracting(Delivery::consumerTag, Delivery::body).containsExactly(
                tuple(a, "1"), tuple(b, "2"),
                tuple(a, "3"), tuple(b, "4"));
    }

    @Test
    void aConsumerWithoutCreditIsSkippedNotWaitedFor() {
        ChannelState slow = f.channel(1);
        broker.qos(slow, 1, false);
        f.consume(slow, "q", false);
        ChannelState fast = f.channel(2);
        f.consume(fast, "q", false);

        f.publishTo(publisher, "q", "1", "2", "3", "4");

        assertThat(f.output(slow).bodies()).containsExactly("1");
        assertThat(f.output(fast).bodies()).containsExactly("2", "3", "4");
    }

    @Test
    void messagesPublishedBeforeConsumeAreDeliveredOnDispatch() {
        f.publishTo(publisher, "q", "1", "2");
        ChannelState ch = f.channel(1);
        broker.consume(ch, "q", "", false, false, BrokerFixture.NO_ARGS);
        assertThat(f.output(ch).deliveries).as("nothing before consume-ok has been sent").isEmpty();

        broker.dispatch();

        assertThat(f.output(ch).bodies()).containsExactly("1", "2");
    }

    @Test
    void deliveryTagsCountUpPerChannelAcrossConsumersAndGets() {
        ChannelState ch = f.channel(1);
        f.queue(publisher, "other");
        f.publishTo(publisher, "q", "1");
        f.publishTo(publisher, "other", "2", "3");

        f.consume(ch, "q", false);
        Broker.GetResult got = broker.get(ch, "other", false, 0);
        f.consume(ch, "other", false);

        assertThat(f.output(ch).deliveries.get(0).deliveryTag()).isEqualTo(1);
        assertThat(got.deliveryTag()).isEqualTo(2);
        assertThat(f.output(ch).deliveries.get(1).deliveryTag()).isEqualTo(3);
    }

    // ---- prefetch ----

    @Test
    void perConsumerPrefetchLimitsUnackedDeliveries() {
        ChannelState ch = f.channel(1);
        broker.qos(ch, 2, false);
        f.consume(ch, "q", false);

        f.publishTo(publisher, "q", "1", "2", "3", "4", "5");
        assertThat(f.output(ch).bodies()).containsExactly("1", "2");

        broker.ack(ch, 1, false);
        assertThat(f.output(ch).bodies()).containsExactly("1", "2", "3");
        broker.ack(ch, 3, true);
        assertThat(f.output(ch).bodies()).containsExactly("1", "2", "3", "4", "5");
    }

    @Test
    void perConsumerQosAppliesOnlyToConsumersCreatedAfterIt() {
        ChannelState ch = f.channel(1);
        String before = f.consume(ch, "q", false);
        broker.qos(ch, 1, false);
        String after = f.consume(ch, "q", false);

        f.publishTo(publisher, "q", "1", "2", "3", "4", "5", "6");

        assertThat(f.output(ch).deliveries).filteredOn(d -> d.consumerTag().equals(after)).hasSize(1);
        assertThat(f.output(ch).deliveries).filteredOn(d -> d.consumerTag().equals(before)).hasSize(5);
    }

    @Test
    void perConsumerPrefetchIsPerConsumerNotPerChannel() {
        ChannelState ch = f.channel(1);
        broker.qos(ch, 1, false);
        f.consume(ch, "q", false);
        f.consume(ch, "q", false);

        f.publishTo(publisher, "q", "1", "2", "3");

        assertThat(f.output(ch).bodies()).containsExactly("1", "2");
    }

    @Test
    void globalPrefetchIsSharedByTheChannelsConsumers() {
        f.queue(publisher, "q2");
        ChannelState ch = f.channel(1);
        broker.qos(ch, 3, true);
        f.consume(ch, "q", false);
        f.consume(ch, "q2", false);

        f.publishTo(publisher, "q", "a1", "a2", "a3", "a4");
        f.publishTo(publisher, "q2", "b1", "b2");

        assertThat(f.output(ch).bodies()).containsExactly("a1", "a2", "a3");
        assertThat(ch.unackedCount()).isEqualTo(3);
    }

    @Test
    void globalPrefetchFreedOnOneQueueWakesAConsumerOfAnother() {
        f.queue(publisher, "q2");
        ChannelState ch = f.channel(1);
        broker.qos(ch, 1, true);
        f.consume(ch, "q", false);
        f.consume(ch, "q2", false);
        f.publishTo(publisher, "q", "a1");
        f.publishTo(publisher, "q2", "b1");
        assertThat(f.output(ch).bodies()).containsExactly("a1");

        broker.ack(ch, 1, false);

        assertThat(f.output(ch).bodies()).containsExactly("a1", "b1");
    }

    @Test
    void globalPrefetchFreedByACancelledConsumersAckWakesTheOthers() {
        ChannelState ch = f.channel(1);
        broker.qos(ch, 1, true);
        String first = f.consume(ch, "q", false);
        f.publishTo(publisher, "q", "1");
        broker.cancel(ch, first);
        f.consume(ch, "q", false);
        f.publishTo(publisher, "q", "2");
        assertThat(f.output(ch).bodies()).as("the cancelled consumer's delivery still holds the credit")
                .containsExactly("1");

        broker.ack(ch, 1, false);

        assertThat(f.output(ch).bodies()).containsExactly("1", "2");
    }

    @Test
    void globalAndPerConsumerLimitsBothApply() {
        ChannelState ch = f.channel(1);
        broker.qos(ch, 1, false);
        broker.qos(ch, 3, true);
        f.consume(ch, "q", false);
        f.consume(ch, "q", false);

        f.publishTo(publisher, "q", "1", "2", "3", "4");

        assertThat(f.output(ch).bodies()).containsExactly("1", "2");
    }

    @Test
    void raisingThePrefetchDeliversMore() {
        ChannelState ch = f.channel(1);
        broker.qos(ch, 1, true);
        f.consume(ch, "q", false);
        f.publishTo(publisher, "q", "1", "2", "3");

        broker.qos(ch, 0, true);

        assertThat(f.output(ch).bodies()).containsExactly("1", "2", "3");
    }

    @Test
    void noAckConsumersIgnorePrefetchAndSettleAtOnce() {
        ChannelState ch = f.channel(1);
        broker.qos(ch, 1, false);
        broker.qos(ch, 1, true);
        f.consume(ch, "q", true);

        f.publishTo(publisher, "q", "1", "2", "3");

        assertThat(f.output(ch).bodies()).containsExactly("1", "2", "3");
        assertThat(ch.unackedCount()).isZero();
        assertThat(f.queueState("q").unackedCount()).isZero();
        assertThat(replyCode(() -> broker.ack(ch, 1, false))).isEqualTo(406);
    }

    // ---- basic.get ----

    @Test
    void getReturnsTheHeadAndTheRemainingCount() {
        ChannelState ch = f.channel(1);
        f.publishTo(publisher, "q", "1", "2", "3");

        Broker.GetResult got = broker.get(ch, "q", false, 0);

        assertThat(body(got.message())).isEqualTo("1");
        assertThat(got.redelivered()).isFalse();
        assertThat(got.messageCount()).isEqualTo(2);
        assertThat(f.queueState("q").unackedCount()).isEqualTo(1);
    }

    @Test
    void getOnAnEmptyQueueReturnsNull() {
        assertThat(broker.get(f.channel(1), "q", false, 0)).isNull();
    }

    @Test
    void getIgnoresPrefetch() {
        ChannelState ch = f.channel(1);
        broker.qos(ch, 1, false);
        broker.qos(ch, 1, true);
        f.publishTo(publisher, "q", "1", "2", "3");

        assertThat(broker.get(ch, "q", false, 0)).isNotNull();
        assertThat(broker.get(ch, "q", false, 0)).isNotNull();
        assertThat(ch.unackedCount()).isEqualTo(2);
    }

    @Test
    void getDeliveriesDoNotUseUpConsumerCredit() {
        ChannelState ch = f.channel(1);
        broker.qos(ch, 1, true);
        f.publishTo(publisher, "q", "1", "2");
        broker.get(ch, "q", false, 0);

        f.consume(ch, "q", false);

        assertThat(f.output(ch).bodies()).containsExactly("2");
    }

    @Test
    void getWithNoAckSettlesAtOnce() {
        ChannelState ch = f.channel(1);
        f.publishTo(publisher, "q", "1");

        Broker.GetResult got = broker.get(ch, "q", true, 0);

        assertThat(body(got.message())).isEqualTo("1");
        assertThat(got.messageCount()).isZero();
        assertThat(ch.unackedCount()).isZero();
        assertThat(f.queueState("q").unackedCount()).isZero();
    }

    // ---- ack / nack / reject ----

    @Test
    void ackSettlesOneDelivery() {
        ChannelState ch = f.channel(1);
        f.publishTo(publisher, "q", "1", "2");
        broker.get(ch, "q", false, 0);
        broker.get(ch, "q", false, 0);

        broker.ack(ch, 2, false);

        assertThat(ch.unackedCount()).isEqualTo(1);
        assertThat(f.queueState("q").unackedCount()).isEqualTo(1);
        assertThat(replyCode(() -> broker.ack(ch, 2, false))).as("acked twice").isEqualTo(406);
    }

    @Test
    void ackMultipleSettlesEverythingUpToTheTag() {
        ChannelState ch = f.channel(1);
        f.consume(ch, "q", false);
        f.publishTo(publisher, "q", "1", "2", "3", "4");

        broker.ack(ch, 3, true);

        assertThat(ch.unackedCount()).isEqualTo(1);
        broker.ack(ch, 4, false);
        assertThat(f.queueState("q").unackedCount()).isZero();
    }

    @Test
    void ackMultipleWithTagZeroSettlesEverything() {
        ChannelState ch = f.channel(1);
        f.consume(ch, "q", false);
        f.publishTo(publisher, "q", "1", "2", "3");

        broker.ack(ch, 0, true);
        broker.ack(ch, 0, true);

        assertThat(ch.unackedCount()).isZero();
        assertThat(f.queueState("q").unackedCount()).isZero();
        assertThat(f.ready("q")).isEmpty();
    }

    @Test
    void unknownDeliveryTagIsPreconditionFailed() {
        ChannelState ch = f.channel(1);
        f.consume(ch, "q", false);
        f.publishTo(publisher, "q", "1");

        assertThat(replyCode(() -> broker.ack(ch, 7, false))).isEqualTo(406);
        assertThat(replyCode(() -> broker.ack(ch, 0, false))).isEqualTo(406);
        assertThat(replyCode(() -> broker.reject(ch, 7, false, true))).isEqualTo(406);
        assertThat(replyCode(() -> broker.reject(ch, 7, true, false))).isEqualTo(406);
        assertThat(ch.unackedCount()).isEqualTo(1);
    }

    @Test
    void multipleAckWithAnUnknownTagIsRefusedAndSettlesNothing() {
        ChannelState ch = f.channel(1);
        f.consume(ch, "q", false);
        f.publishTo(publisher, "q", "1", "2", "3");
        broker.ack(ch, 2, false);

        assertThat(replyCode(() -> broker.ack(ch, 2, true))).as("tag 2 is no longer unacked").isEqualTo(406);
        assertThat(replyCode(() -> broker.ack(ch, 9, true))).as("tag 9 was never sent").isEqualTo(406);
        assertThat(replyCode(() -> broker.reject(ch, 9, true, true))).isEqualTo(406);

        assertThat(ch.unackedCount()).isEqualTo(2);
        assertThat(f.ready("q")).isEmpty();
    }

    @Test
    void deliveryTagsBelongToTheirChannel() {
        ChannelState ch = f.channel(1);
        f.publishTo(publisher, "q", "1");
        broker.get(ch, "q", false, 0);

        assertThat(replyCode(() -> broker.ack(f.channel(1), 1, false))).isEqualTo(406);
    }

    @Test
    void rejectWithoutRequeueDropsTheMessage() {
        ChannelState ch = f.channel(1);
        f.publishTo(publisher, "q", "1", "2");
        broker.get(ch, "q", false, 0);

        broker.reject(ch, 1, false, false);

        assertThat(f.ready("q")).containsExactly("2");
        assertThat(f.queueState("q").unackedCount()).isZero();
    }

    @Test
    void nackMultipleWithRequeuePutsThemAllBackInOrder() {
        ChannelState ch = f.channel(1);
        f.publishTo(publisher, "q", "1", "2", "3", "4");
        broker.get(ch, "q", false, 0);
        broker.get(ch, "q", false, 0);
        broker.get(ch, "q", false, 0);

        broker.reject(ch, 2, true, true);

        assertThat(f.ready("q")).containsExactly("1", "2", "4");
        assertThat(ch.unackedCount()).isEqualTo(1);
    }

    @Test
    void requeuedMessageKeepsItsPositionAndIsFlaggedRedelivered() {
        ChannelState ch = f.channel(1);
        f.publishTo(publisher, "q", "1", "2", "3");
        broker.get(ch, "q", false, 0);
        broker.get(ch, "q", false, 0);
        f.publishTo(publisher, "q", "4");

        broker.reject(ch, 2, false, true);
        broker.reject(ch, 1, false, true);

        assertThat(f.ready("q")).containsExactly("1", "2", "3", "4");
        Broker.GetResult again = broker.get(ch, "q", false, 0);
        assertThat(body(again.message())).isEqualTo("1");
        assertThat(again.redelivered()).isTrue();
        assertThat(body(broker.get(ch, "q", false, 0).message())).isEqualTo("2");
        Broker.GetResult fresh = broker.get(ch, "q", false, 0);
        assertThat(body(fresh.message())).isEqualTo("3");
        assertThat(fresh.redelivered()).isFalse();
    }

    @Test
    void aRequeuedMessageGoesToTheNextConsumerAheadOfLaterOnes() {
        ChannelState ch = f.channel(1);
        broker.qos(ch, 1, false);
        f.consume(ch, "q", false);
        f.publishTo(publisher, "q", "1", "2", "3");

        broker.reject(ch, 1, false, true);

        Delivery again = f.output(ch).last();
        assertThat(again.body()).isEqualTo("1");
        assertThat(again.redelivered()).isTrue();
        assertThat(again.deliveryTag()).isEqualTo(2);
    }

    @Test
    void cancelledConsumersDeliveriesStayAckable() {
        ChannelState ch = f.channel(1);
        String tag = f.consume(ch, "q", false);
        f.publishTo(publisher, "q", "1");
        broker.cancel(ch, tag);

        broker.ack(ch, 1, false);

        assertThat(f.queueState("q").unackedCount()).isZero();
    }

    // ---- channel close and recover ----

    @Test
    void closingAChannelReturnsItsUnackedToTheirPlacesFlaggedRedelivered() {
        ChannelState ch = f.channel(1);
        f.publishTo(publisher, "q", "1", "2", "3", "4");
        broker.get(ch, "q", false, 0);
        broker.get(ch, "q", false, 0);
        broker.get(ch, "q", true, 0);

        broker.closeChannel(ch);

        assertThat(f.ready("q")).containsExactly("1", "2", "4");
        ChannelState next = f.channel(2);
        f.consume(next, "q", false);
        assertThat(f.output(next).deliveries).extracting(Delivery::body, Delivery::redelivered).containsExactly(
                tuple("1", true), tuple("2", true),
                tuple("4", false));
    }

    @Test
    void closingAChannelCancelsItsConsumersAndHandsTheirMessagesToOthers() {
        ChannelState first = f.channel(1);
        broker.qos(first, 2, false);
        f.consume(first, "q", false);
        ChannelState second = f.channel(2);
        broker.qos(second, 1, false);
        f.consume(second, "q", false);
        f.publishTo(publisher, "q", "1", "2", "3");
        assertThat(f.output(first).bodies()).containsExactly("1", "3");
        assertThat(f.output(second).bodies()).containsExactly("2");

        broker.closeChannel(first);
        broker.ack(second, 1, false);

        assertThat(f.output(second).bodies()).containsExactly("2", "1");
        assertThat(f.output(second).last().redelivered()).isTrue();
        assertThat(f.ready("q")).containsExactly("3");
        assertThat(f.queueState("q").consumerCount()).isEqualTo(1);
    }

    @Test
    void closingAChannelTwiceIsHarmless() {
        ChannelState ch = f.channel(1);
        f.publishTo(publisher, "q", "1");
        broker.get(ch, "q", false, 0);

        broker.closeChannel(ch);
        broker.closeChannel(ch);

        assertThat(f.ready("q")).containsExactly("1");
    }

    @Test
    void recoverRequeuesEveryUnackedDeliveryOfTheChannel() {
        ChannelState ch = f.channel(1);
        f.publishTo(publisher, "q", "1", "2", "3");
        broker.get(ch, "q", false, 0);
        broker.get(ch, "q", false, 0);

        broker.recover(ch);

        assertThat(ch.unackedCount()).isZero();
        assertThat(f.ready("q")).containsExactly("1", "2", "3");
        assertThat(broker.get(ch, "q", false, 0).redelivered()).isTrue();
    }

    @Test
    void recoverRedeliversToTheChannelsConsumers() {
        ChannelState ch = f.channel(1);
        f.consume(ch, "q", false);
        f.publishTo(publisher, "q", "1", "2");

        broker.recover(ch);

        assertThat(f.output(ch).deliveries).extracting(Delivery::body, Delivery::redelivered, Delivery::deliveryTag)
                .containsExactly(tuple("1", false, 1L),
                        tuple("2", false, 2L),
                        tuple("1", true, 3L),
                        tuple("2", true, 4L));
        assertThat(replyCode(() -> broker.ack(ch, 1, false))).as("old tags are gone").isEqualTo(406);
    }

    // ---- backpressure ----

    @Test
    void aNonWritableChannelGetsNoDeliveriesUntilItIsWritableAgain() {
        ChannelState ch = f.channel(1);
        RecordingOutput out = f.output(ch);
        f.consume(ch, "q", false);
        out.writable = false;

        f.publishTo(publisher, "q", "1", "2");
        assertThat(out.deliveries).isEmpty();

        out.writable = true;
        broker.channelWritable(ch);

        assertThat(out.bodies()).containsExactly("1", "2");
        assertThat(out.deliveries).allMatch(Delivery::writable);
    }

    @Test
    void aBlockedChannelsShareGoesToOtherConsumers() {
        ChannelState blocked = f.channel(1);
        ChannelState open = f.channel(2);
        f.consume(blocked, "q", false);
        f.consume(open, "q", false);
        f.output(blocked).writable = false;

        f.publishTo(publisher, "q", "1", "2", "3");

        assertThat(f.output(blocked).deliveries).isEmpty();
        assertThat(f.output(open).bodies()).containsExactly("1", "2", "3");
    }

    @Test
    void channelFlowPausesAndResumesDeliveries() {
        ChannelState ch = f.channel(1);
        f.consume(ch, "q", false);
        broker.flow(ch, false);
        f.publishTo(publisher, "q", "1");
        assertThat(f.output(ch).deliveries).isEmpty();

        broker.flow(ch, true);

        assertThat(f.output(ch).bodies()).containsExactly("1");
    }
}
