package io.holdfast.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.holdfast.core.QuorumCommand.Disposition;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** One replicated queue's commands, each on its own: the classic queue's semantics, as effects. */
class QuorumQueueTest {
    static final RemoteChannel PUBLISHER = new RemoteChannel("n1", 7);
    static final RemoteChannel A = new RemoteChannel("n1", 1);
    static final RemoteChannel B = new RemoteChannel("n2", 1);

    private long now = 1_000;
    private long publishSeq;
    private QuorumQueue qq = queue(Map.of());

    static QuorumQueue queue(Map<String, Object> args) {
        return new QuorumQueue(new QuorumQueue.Definition("/", "qq", args, -1), new DeduplicationTest.IdProperties());
    }

    static Message message(String body) {
        return message(body, "");
    }

    static Message message(String body, String properties) {
        return new Message("x", "rk", properties.getBytes(StandardCharsets.UTF_8), Map.of(), true,
                Message.NO_EXPIRATION, body.getBytes(StandardCharsets.UTF_8));
    }

    static String body(Message m) {
        return new String(m.body(), StandardCharsets.UTF_8);
    }

    private QuorumQueue.Outcome apply(QuorumCommand c) {
        return qq.apply(c, now);
    }

    private QuorumQueue.Outcome publish(String... bodies) {
        List<QuorumCommand.Publish> batch = new ArrayList<>();
        for (String b : bodies) {
            batch.add(new QuorumCommand.Publish(PUBLISHER, ++publishSeq, message(b)));
        }
        return apply(new QuorumCommand.Enqueue(batch));
    }

    private QuorumQueue.Outcome attach(RemoteChannel ch, String tag, int prefetch) {
        return apply(new QuorumCommand.Attach(ch, tag, prefetch, false, false, 0));
    }

    private QuorumQueue.Outcome settle(RemoteChannel ch, long id, Disposition d) {
        return apply(new QuorumCommand.Settle(ch, id, false, d));
    }

    static List<QuorumEffect.Deliver> deliveries(QuorumQueue.Outcome o) {
        return o.effects().stream().filter(e -> e instanceof QuorumEffect.Deliver)
                .map(e -> (QuorumEffect.Deliver) e).toList();
    }

    static List<String> bodies(QuorumQueue.Outcome o) {
        return deliveries(o).stream().map(d -> body(d.message())).toList();
    }

    @Test
    void everyPublishInABatchIsConfirmedToItsPublisher() {
        QuorumQueue.Outcome o = publish("a", "b", "c");
        assertThat(o.effects()).containsExactly(new QuorumEffect.Confirm(PUBLISHER, 1),
                new QuorumEffect.Confirm(PUBLISHER, 2), new QuorumEffect.Confirm(PUBLISHER, 3));
        assertThat(qq.messageCount()).isEqualTo(3);
    }

    @Test
    void attachDeliversInOrderUpToPrefetchAndAnAckGivesTheCreditBack() {
        publish("a", "b", "c");
        QuorumQueue.Outcome o = attach(A, "c1", 2);
        assertThat(bodies(o)).containsExactly("a", "b");
        QuorumEffect.Deliver first = deliveries(o).get(0);
        assertThat(first.channel()).isEqualTo(A);
        assertThat(first.consumerTag()).isEqualTo("c1");
        assertThat(first.redelivered()).isFalse();
        assertThat(first.deliveryCount()).isEqualTo(1);
        assertThat(bodies(settle(A, first.deliveryId(), Disposition.ACK))).containsExactly("c");
        assertThat(qq.unackedCount()).isEqualTo(2);
        assertThat(qq.messageCount()).isZero();
    }

    @Test
    void aRequeuedMessageGoesBackToItsPositionFlaggedRedeliveredWithItsCount() {
        publish("a", "b", "c");
        List<QuorumEffect.Deliver> out = deliveries(attach(A, "c1", 1));
        QuorumEffect.Deliver again = deliveries(settle(A, out.get(0).deliveryId(), Disposition.REQUEUE)).get(0);
        assertThat(body(again.message())).isEqualTo("a");
        assertThat(again.redelivered()).isTrue();
        assertThat(again.deliveryCount()).isEqualTo(2);
        assertThat(again.seq()).isEqualTo(out.get(0).seq());
    }

    @Test
    void twoConsumersAreGivenMessagesInTurn() {
        attach(A, "c1", 0);
        attach(B, "c2", 0);
        List<QuorumEffect.Deliver> out = deliveries(publish("a", "b", "c", "d"));
        assertThat(out).extracting(QuorumEffect.Deliver::channel).containsExactly(A, B, A, B);
    }

    @Test
    void aDiscardedMessageIsDeadLetteredWhenTheQueueHasADeadLetterExchangeElseDropped() {
        qq = queue(Map.of("x-dead-letter-exchange", "dlx"));
        publish("a");
        long id = deliveries(attach(A, "c1", 0)).get(0).deliveryId();
        QuorumQueue.Outcome o = settle(A, id, Disposition.DISCARD);
        assertThat(o.effects()).hasSize(1).first().isInstanceOfSatisfying(QuorumEffect.DeadLetter.class, d -> {
            assertThat(d.reason()).isEqualTo("rejected");
            assertThat(body(d.message())).isEqualTo("a");
        });

        qq = queue(Map.of());
        publish("b");
        id = deliveries(attach(A, "c1", 0)).get(0).deliveryId();
        assertThat(settle(A, id, Disposition.DISCARD).effects()).isEmpty();
        assertThat(qq.messageCount() + qq.unackedCount()).isZero();
    }

    @Test
    void overTheDeliveryLimitAMessageIsQuarantinedWithoutADeadLetterExchange() {
        qq = queue(Map.of("x-delivery-limit", 1L));
        publish("a");
        long id = deliveries(attach(A, "c1", 0)).get(0).deliveryId();
        QuorumEffect.Deliver second = deliveries(settle(A, id, Disposition.REQUEUE)).get(0);
        QuorumQueue.Outcome o = settle(A, second.deliveryId(), Disposition.REQUEUE);
        assertThat(o.effects()).containsExactly(new QuorumEffect.Quarantine(second.message(), 2));
        assertThat(qq.messageCount() + qq.unackedCount()).isZero();
    }

    @Test
    void overTheDeliveryLimitAMessageIsDeadLetteredWithADeadLetterExchange() {
        qq = queue(Map.of("x-delivery-limit", 0L, "x-dead-letter-exchange", "dlx"));
        publish("a");
        long id = deliveries(attach(A, "c1", 0)).get(0).deliveryId();
        assertThat(settle(A, id, Disposition.REQUEUE).effects()).singleElement()
                .isInstanceOfSatisfying(QuorumEffect.DeadLetter.class, d -> assertThat(d.reason())
                        .isEqualTo("delivery_limit"));
    }

    @Test
    void aNodeDownRemovesItsConsumersAndItsUnackedComeBackRedeliveredToTheOthers() {
        publish("a", "b");
        attach(A, "c1", 0);
        assertThat(attach(B, "c2", 0).effects()).isEmpty(); // c1 holds both
        QuorumQueue.Outcome o = apply(new QuorumCommand.NodeDown("n1"));
        assertThat(deliveries(o)).extracting(QuorumEffect.Deliver::channel, d -> body(d.message()),
                QuorumEffect.Deliver::redelivered).containsExactly(
                        org.assertj.core.groups.Tuple.tuple(B, "a", true), org.assertj.core.groups.Tuple.tuple(B, "b", true));
        assertThat(qq.consumerCount()).isEqualTo(1);
    }

    @Test
    void aNodeDownGivesNothingToAnotherOfTheDeadNodesChannels() {
        publish("a");
        attach(A, "c1", 0);
        attach(new RemoteChannel("n1", 2), "c2", 0);
        attach(B, "c3", 0);
        QuorumEffect.Deliver back = deliveries(apply(new QuorumCommand.NodeDown("n1"))).get(0);
        assertThat(back.channel()).isEqualTo(B);
        assertThat(back.deliveryCount()).isEqualTo(2); // one real delivery before, none counted on the dead node
    }

    @Test
    void aCancelledConsumersDeliveriesStayAckableAndClosingTheChannelReturnsThem() {
        publish("a", "b");
        List<QuorumEffect.Deliver> out = deliveries(attach(A, "c1", 0));
        apply(new QuorumCommand.Cancel(A, "c1"));
        assertThat(qq.consumerCount()).isZero();
        settle(A, out.get(0).deliveryId(), Disposition.ACK);
        apply(new QuorumCommand.CloseChannel(A));
        assertThat(qq.readySnapshot()).extracting(e -> body(e.residentMessage())).containsExactly("b");
        assertThat(qq.readySnapshot().get(0).redelivered()).isTrue();
    }

    @Test
    void anUnknownDeliveryIdIsRefusedAndChangesNothing() {
        publish("a");
        attach(A, "c1", 0);
        assertThatThrownBy(() -> settle(A, 99, Disposition.ACK)).isInstanceOf(BrokerException.class)
                .hasMessageContaining("unknown delivery tag 99");
        assertThatThrownBy(() -> settle(B, 1, Disposition.ACK)).isInstanceOf(BrokerException.class);
        assertThat(qq.unackedCount()).isEqualTo(1);
    }

    @Test
    void aReusedTagAndAnExclusiveConsumerAreRefusedAsOnAClassicQueue() {
        attach(A, "c1", 0);
        assertThatThrownBy(() -> attach(A, "c1", 0)).isInstanceOfSatisfying(BrokerException.class,
                e -> assertThat(e.code()).isEqualTo(ErrorCode.NOT_ALLOWED));
        assertThatThrownBy(() -> apply(new QuorumCommand.Attach(B, "c2", 0, false, true, 0)))
                .isInstanceOfSatisfying(BrokerException.class, e -> assertThat(e.getMessage())
                        .isEqualTo("queue 'qq' in vhost '/' in exclusive use"));
        assertThat(qq.consumerCount()).isEqualTo(1);
    }

    @Test
    void purgeRemovesTheReadyMessagesAndCountsThem() {
        publish("a", "b", "c");
        attach(A, "c1", 1);
        assertThat(apply(new QuorumCommand.Purge()).count()).isEqualTo(2);
        assertThat(qq.unackedCount()).isEqualTo(1);
    }

    @Test
    void getTakesTheNextMessageAndCountsWhatIsLeft() {
        publish("a", "b");
        QuorumQueue.Outcome o = apply(new QuorumCommand.Get(A, false));
        assertThat(deliveries(o)).singleElement().satisfies(d -> {
            assertThat(d.consumerTag()).isNull();
            assertThat(body(d.message())).isEqualTo("a");
        });
        assertThat(o.count()).isEqualTo(1);
        assertThat(apply(new QuorumCommand.Get(A, true)).count()).isZero();
        assertThat(deliveries(apply(new QuorumCommand.Get(A, true)))).isEmpty();
    }

    @Test
    void aTickExpiresMessagesByTheLogsTimeAndDeadLettersThem() {
        qq = queue(Map.of("x-message-ttl", 100L, "x-dead-letter-exchange", "dlx"));
        publish("a");
        now += 100;
        assertThat(apply(new QuorumCommand.Tick()).effects()).isEmpty();
        now += 1;
        assertThat(apply(new QuorumCommand.Tick()).effects()).singleElement()
                .isInstanceOfSatisfying(QuorumEffect.DeadLetter.class, d -> assertThat(d.reason()).isEqualTo("expired"));
    }

    @Test
    void aBackoffHoldsAReturnedMessageUntilTheLogsTimeReachesItsDelay() {
        qq = queue(Map.of(RedeliveryBackoff.ARGUMENT, "1s"));
        publish("a");
        long id = deliveries(attach(A, "c1", 0)).get(0).deliveryId();
        assertThat(deliveries(settle(A, id, Disposition.REQUEUE))).isEmpty();
        now += 999;
        assertThat(deliveries(apply(new QuorumCommand.Tick()))).isEmpty();
        now += 1;
        assertThat(deliveries(apply(new QuorumCommand.Tick()))).singleElement()
                .satisfies(d -> assertThat(d.redelivered()).isTrue());
    }

    @Test
    void aFullQueueWithRejectPublishNacksAndWithDropHeadDeadLettersItsHead() {
        qq = queue(Map.of("x-max-length", 1L, "x-overflow", "reject-publish"));
        assertThat(publish("a", "b").effects()).containsExactly(new QuorumEffect.Confirm(PUBLISHER, 1),
                new QuorumEffect.Nack(PUBLISHER, 2));

        qq = queue(Map.of("x-max-length", 1L, "x-dead-letter-exchange", "dlx"));
        QuorumQueue.Outcome o = publish("c", "d");
        assertThat(o.effects()).hasSize(3);
        assertThat(o.effects().get(2)).isEqualTo(new QuorumEffect.Confirm(PUBLISHER, 4));
        assertThat(o.effects().get(1)).isInstanceOfSatisfying(QuorumEffect.DeadLetter.class,
                d -> assertThat(body(d.message())).isEqualTo("c"));
    }

    @Test
    void withASingleActiveConsumerTheNextOneTakesOverWhenTheFirstGoes() {
        qq = queue(Map.of("x-single-active-consumer", true));
        attach(A, "c1", 0);
        attach(B, "c2", 0);
        assertThat(deliveries(publish("a", "b"))).extracting(QuorumEffect.Deliver::channel).containsExactly(A, A);
        assertThat(deliveries(apply(new QuorumCommand.CloseChannel(A)))).extracting(QuorumEffect.Deliver::channel)
                .containsExactly(B, B);
    }

    @Test
    void aDuplicateMessageIdIsConfirmedButNotEnqueuedAgain() {
        qq = queue(Map.of(Deduplication.ARGUMENT, 10L));
        var p1 = new QuorumCommand.Publish(PUBLISHER, 1, message("a", "id=m1"));
        var p2 = new QuorumCommand.Publish(PUBLISHER, 2, message("a", "id=m1"));
        assertThat(apply(new QuorumCommand.Enqueue(List.of(p1, p2))).effects()).containsExactly(
                new QuorumEffect.Confirm(PUBLISHER, 1), new QuorumEffect.Confirm(PUBLISHER, 2));
        assertThat(qq.messageCount()).isEqualTo(1);
    }

    @Test
    void aCopyOfAnAppliedPublishIsConfirmedButNotEnqueuedTwiceAndTheMarksSurviveASnapshot() {
        QuorumCommand.Publish first = new QuorumCommand.Publish(PUBLISHER, 5, message("m5"));
        assertThat(apply(new QuorumCommand.Enqueue(List.of(first))).effects())
                .containsExactly(new QuorumEffect.Confirm(PUBLISHER, 5));
        QuorumQueue.Outcome again = apply(new QuorumCommand.Enqueue(List.of(first,
                new QuorumCommand.Publish(PUBLISHER, 4, message("late")),
                new QuorumCommand.Publish(PUBLISHER, 0, message("unnumbered")),
                new QuorumCommand.Publish(A, 5, message("another enqueuer")))));
        assertThat(again.effects()).hasSize(4).allMatch(e -> e instanceof QuorumEffect.Confirm);
        assertThat(qq.readySnapshot()).extracting(e -> body(e.residentMessage()))
                .containsExactly("m5", "unnumbered", "another enqueuer");

        qq = QuorumSimulation.restore(QuorumSimulation.snapshot(qq));
        apply(new QuorumCommand.Enqueue(List.of(first, new QuorumCommand.Publish(PUBLISHER, 6, message("m6")))));
        assertThat(qq.readySnapshot()).extracting(e -> body(e.residentMessage()))
                .containsExactly("m5", "unnumbered", "another enqueuer", "m6");
    }

    @Test
    void aLateConsumerIsCancelledByATickAndItsDeliveriesComeBack() {
        qq = new QuorumQueue(new QuorumQueue.Definition("/", "qq", Map.of(), 1_000), PropertiesRewriter.UNCHANGED);
        publish("a");
        attach(A, "c1", 0);
        now += 1_001;
        QuorumQueue.Outcome o = apply(new QuorumCommand.Tick());
        assertThat(o.effects()).containsExactly(new QuorumEffect.ConsumerCancelled(A, "c1"));
        assertThat(qq.messageCount()).isEqualTo(1);
    }

    @Test
    void anUnusedQueueExpiresAndThenRefusesEveryCommand() {
        qq = queue(Map.of("x-expires", 1_000L));
        apply(new QuorumCommand.Tick()); // the lease starts
        now += 1_001;
        assertThat(apply(new QuorumCommand.Tick()).effects()).containsExactly(new QuorumEffect.QueueExpired());
        assertThatThrownBy(() -> publish("a")).isInstanceOfSatisfying(BrokerException.class,
                e -> assertThat(e.code()).isEqualTo(ErrorCode.NOT_FOUND));
    }

    @Test
    void aDefinitionKeepsOnlyTheArgumentsAQueueCanReadSoItsSnapshotAlwaysWrites() {
        var d = new QuorumQueue.Definition("/", "qq", Map.of("x-max-length", 3, "x-mine", Map.of("a", 1),
                "x-single-active-consumer", true, "x-dead-letter-exchange", "dlx"), -1);
        assertThat(d.arguments()).containsOnlyKeys("x-max-length", "x-single-active-consumer", "x-dead-letter-exchange");
        QuorumQueue restored = QuorumSimulation.restore(QuorumSimulation.snapshot(new QuorumQueue(d,
                PropertiesRewriter.UNCHANGED)));
        assertThat(restored.definition().arguments()).containsEntry("x-max-length", 3L);
    }

    @Test
    void deliveryIdsNeverRepeatOnAChannelWhoseStateWasDropped() {
        publish("a", "b");
        long first = deliveries(apply(new QuorumCommand.Get(A, true))).get(0).deliveryId();
        long second = deliveries(apply(new QuorumCommand.Get(A, true))).get(0).deliveryId();
        assertThat(second).isGreaterThan(first);
    }
}
