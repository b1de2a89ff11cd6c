package io.holdfast.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.groups.Tuple.tuple;

import io.holdfast.core.BrokerFixture.RecordingStore.Event;
import io.holdfast.core.BrokerFixture.RecordingStore.Kind;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Dead-lettering as RabbitMQ documents it: what leaves a queue with {@code x-dead-letter-exchange} (rejected,
 * expired, maxlen, delivery_limit) is republished there with an {@code x-death} header; the copy is stored
 * before the original is removed (contract rule 2).
 */
class DeadLetterTest {
    private BrokerFixture f;
    private Broker broker;
    private ChannelState ch;

    @BeforeEach
    void setUp() {
        f = new BrokerFixture();
        broker = f.broker;
        ch = f.channel(1);
        f.exchange(ch, "dlx", "direct");
    }

    @AfterEach
    void theStoreSeamsContractHeld() {
        assertThat(f.store.problems).isEmpty();
    }

    private void declare(String name, boolean durable, Object... args) {
        Map<String, Object> map = new LinkedHashMap<>();
        for (int i = 0; i < args.length; i += 2) {
            map.put((String) args[i], args[i + 1]);
        }
        f.topology.declareQueue(ch, name, false, durable, false, false, map);
    }

    /** "work" dead-letters to "dlx", where "dlq" is bound with {@code key}. */
    private void workAndDlq(String key, Object... workArgs) {
        Object[] args = new Object[workArgs.length + 2];
        args[0] = "x-dead-letter-exchange";
        args[1] = "dlx";
        System.arraycopy(workArgs, 0, args, 2, workArgs.length);
        declare("work", false, args);
        f.queue(ch, "dlq");
        f.topology.bindQueue(ch, "dlq", "dlx", key, Map.of());
    }

    private void rejectNext(String queue) {
        Broker.GetResult r = broker.get(ch, queue, false, broker.clockMillis());
        assertThat(r).as("a message on " + queue).isNotNull();
        broker.reject(ch, r.deliveryTag(), false, false);
    }

    /** Takes the next message of {@code queue} (acked at once), through the store's load path if paged out. */
    private Broker.GetResult take(String queue) {
        Broker.GetResult r = broker.get(ch, queue, true, broker.clockMillis());
        assertThat(r).as("a message on " + queue).isNotNull();
        return r;
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> deaths(Message m) {
        return (List<Map<String, Object>>) m.headers().get("x-death");
    }

    @Test
    void aRejectedMessageGoesToTheDeadLetterExchangeWithXDeath() {
        workAndDlq("work");
        f.publishTo(ch, "work", "m");
        broker.advanceClock(5_000);
        rejectNext("work");

        assertThat(f.ready("work")).isEmpty();
        Broker.GetResult r = take("dlq");
        Message copy = r.message();
        assertThat(BrokerFixture.body(copy)).isEqualTo("m");
        assertThat(copy.exchange()).isEqualTo("dlx");
        assertThat(copy.routingKey()).isEqualTo("work");
        assertThat(r.redelivered()).isFalse();
        assertThat(r.entry().deliveryCount()).isEqualTo(1); // this get only
        assertThat(deaths(copy)).hasSize(1);
        Map<String, Object> death = deaths(copy).get(0);
        assertThat(death).containsEntry("count", 1L).containsEntry("reason", "rejected")
                .containsEntry("queue", "work").containsEntry("time", Instant.ofEpochMilli(5_000))
                .containsEntry("exchange", "").containsEntry("routing-keys", List.of("work"))
                .doesNotContainKey("original-expiration");
        assertThat(copy.headers()).containsEntry("x-first-death-queue", "work")
                .containsEntry("x-first-death-reason", "rejected").containsEntry("x-first-death-exchange", "")
                .containsEntry("x-last-death-queue", "work").containsEntry("x-last-death-reason", "rejected")
                .containsEntry("x-last-death-exchange", "");
        assertThat(new String(copy.properties(), StandardCharsets.UTF_8)).startsWith("dead-lettered");
        assertThat(broker.deadLetteredCount()).isEqualTo(1);
    }

    @Test
    void aQuorumQueuesDeadLetterEffectIsRoutedHereWithItsXDeath() {
        workAndDlq("work");
        broker.advanceClock(5_000);
        Queue work = f.queueState("work");
        broker.deadLetter(work, BrokerFixture.message("", "work", Map.of(), true, "m"), "delivery_limit");

        Message copy = take("dlq").message();
        assertThat(BrokerFixture.body(copy)).isEqualTo("m");
        assertThat(deaths(copy)).singleElement().satisfies(d -> assertThat(d).containsEntry("reason", "delivery_limit")
                .containsEntry("queue", "work"));
        assertThat(f.ready("work")).isEmpty(); // the source's own state is not touched: the replicated queue has it
    }

    @Test
    void anXDeathWithRepeatedEntriesFromAnOlderBrokerIsMergedNotGrown() {
        workAndDlq("work");
        // As brokers before RabbitMQ 3.5 wrote it: one entry per death, without counts, newest first.
        List<Object> old = List.of(
                Map.of("queue", "work", "reason", "rejected", "time", Instant.ofEpochMilli(3_000)),
                Map.of("queue", "other", "reason", "expired", "count", 2L),
                Map.of("queue", "work", "reason", "rejected", "time", Instant.ofEpochMilli(2_000)),
                Map.of("queue", "work", "reason", "rejected", "time", Instant.ofEpochMilli(1_000)));
        broker.publish(ch, "", "work", BrokerFixture.message("", "work", Map.of("x-death", old), false, "m"), 0);

        rejectNext("work");

        List<Map<String, Object>> deaths = deaths(take("dlq").message());
        assertThat(deaths).extracting(d -> d.get("queue"), d -> d.get("reason"), d -> d.get("count"))
                .containsExactly(tuple("work", "rejected", 4L), tuple("other", "expired", 2L));
        assertThat(deaths.get(0)).as("the newest entry is the one kept").containsEntry("time",
                Instant.ofEpochMilli(3_000));
    }

    @Test
    void anExpiredMessageIsDeadLetteredAsExpired() {
        workAndDlq("work", "x-message-ttl", 100);
        f.publishTo(ch, "work", "old");
        broker.tick(50);
        assertThat(f.ready("dlq")).isEmpty();
        broker.tick(200);
        assertThat(f.ready("work")).isEmpty();
        Map<String, Object> death = deaths(take("dlq").message()).get(0);
        assertThat(death).containsEntry("reason", "expired").containsEntry("time", Instant.ofEpochMilli(200));
    }

    @Test
    void aPerMessageExpirationBecomesOriginalExpirationAndTheCopyNeverExpires() {
        workAndDlq("work");
        Message m = new Message("", "work", BrokerFixture.TextProperties.withExpiration("100"), Map.of(), false,
                100, "short-lived".getBytes(StandardCharsets.UTF_8));
        broker.publish(ch, "", "work", m, 0);
        broker.tick(1_000);
        QueueEntry copyEntry = f.queueState("dlq").readySnapshot().get(0);
        assertThat(copyEntry.expiresAtMillis()).isEqualTo(QueueEntry.NEVER);
        Message copy = take("dlq").message();
        assertThat(copy.expirationMillis()).isEqualTo(Message.NO_EXPIRATION);
        assertThat(new String(copy.properties(), StandardCharsets.UTF_8)).doesNotContain("expiration=");
        assertThat(deaths(copy).get(0)).containsEntry("reason", "expired")
                .containsEntry("original-expiration", "100");
    }

    @Test
    void dropHeadDeadLettersTheDroppedHeadAsMaxlen() {
        workAndDlq("work", "x-max-length", 1);
        f.publishTo(ch, "work", "a", "b", "c");
        assertThat(f.ready("work")).containsExactly("c");
        assertThat(f.ready("dlq")).containsExactly("a", "b");
        assertThat(deaths(take("dlq").message()).get(0)).containsEntry("reason", "maxlen");
    }

    @Test
    void rejectPublishDlxRefusesTheNewMessageAndDeadLettersIt() {
        workAndDlq("work", "x-max-length", 1, "x-overflow", "reject-publish-dlx");
        f.publishTo(ch, "work", "a");
        Broker.PublishResult r = broker.publish(ch, "", "work", BrokerFixture.message("", "work", Map.of(), false,
                "b"), 0);
        assertThat(r.rejected()).isTrue();
        assertThat(f.ready("work")).containsExactly("a");
        assertThat(f.ready("dlq")).containsExactly("b");
        assertThat(deaths(take("dlq").message()).get(0)).containsEntry("reason", "maxlen")
                .containsEntry("queue", "work");
    }

    @Test
    void rejectPublishWithoutDlxDoesNotDeadLetter() {
        workAndDlq("work", "x-max-length", 1, "x-overflow", "reject-publish");
        f.publishTo(ch, "work", "a");
        broker.publish(ch, "", "work", BrokerFixture.message("", "work", Map.of(), false, "b"), 0);
        assertThat(f.ready("dlq")).isEmpty();
    }

    @Test
    void overTheDeliveryLimitWithADlxGoesToTheDlqNotQuarantine() {
        workAndDlq("work", "x-delivery-limit", 1);
        f.publishTo(ch, "work", "poison");
        for (int i = 0; i < 2; i++) {
            broker.reject(ch, broker.get(ch, "work", false, 0).deliveryTag(), false, true);
        }
        assertThat(f.ready("work")).isEmpty();
        assertThat(broker.virtualHost("/").queue(Broker.QUARANTINE_QUEUE)).isNull();
        assertThat(broker.quarantinedCount()).isZero();
        QueueEntry copyEntry = f.queueState("dlq").readySnapshot().get(0);
        assertThat(copyEntry.deliveryCount()).isZero();
        assertThat(copyEntry.redelivered()).isFalse();
        assertThat(deaths(take("dlq").message()).get(0)).containsEntry("reason", "delivery_limit");
    }

    @Test
    void theDeadLetterRoutingKeyReplacesTheMessagesOwn() {
        workAndDlq("dead", "x-dead-letter-routing-key", "dead");
        f.publishTo(ch, "work", "m");
        rejectNext("work");
        Message copy = take("dlq").message();
        assertThat(copy.routingKey()).isEqualTo("dead");
        assertThat(deaths(copy).get(0)).containsEntry("routing-keys", List.of("work"));
    }

    @Test
    void aFanoutDlxCopiesToEveryBoundQueue() {
        f.exchange(ch, "fan", "fanout");
        declare("work", false, "x-dead-letter-exchange", "fan");
        f.queue(ch, "d1");
        f.queue(ch, "d2");
        f.topology.bindQueue(ch, "d1", "fan", "", Map.of());
        f.topology.bindQueue(ch, "d2", "fan", "", Map.of());
        f.publishTo(ch, "work", "m");
        rejectNext("work");
        assertThat(f.ready("d1")).containsExactly("m");
        assertThat(f.ready("d2")).containsExactly("m");
        assertThat(broker.deadLetteredCount()).isEqualTo(1);
    }

    @Test
    void aMissingDlxOrNoRouteDropsTheMessage() {
        List<String> heard = new java.util.ArrayList<>();
        broker.deadLetterDropListener((source, why) -> heard.add(source.name() + ": " + why));
        declare("work", false, "x-dead-letter-exchange", "nowhere");
        declare("work2", false, "x-dead-letter-exchange", "dlx"); // nothing bound
        f.publishTo(ch, "work", "m");
        f.publishTo(ch, "work2", "m2");
        rejectNext("work");
        rejectNext("work2");
        assertThat(f.ready("work")).isEmpty();
        assertThat(f.ready("work2")).isEmpty();
        assertThat(broker.deadLetteredCount()).isZero();
        assertThat(broker.deadLetterDroppedCount()).isEqualTo(2);
        assertThat(heard).containsExactly("work: no exchange", "work2: no route");
    }

    @Test
    void theSameQueueAndReasonCountsUpAndMovesToTheFront() {
        // a and b reject into each other through the default exchange
        declare("a", false, "x-dead-letter-exchange", "", "x-dead-letter-routing-key", "b");
        declare("b", false, "x-dead-letter-exchange", "", "x-dead-letter-routing-key", "a");
        f.publishTo(ch, "a", "m");
        rejectNext("a");
        rejectNext("b");
        rejectNext("a");
        assertThat(f.ready("b")).containsExactly("m");
        Message m = f.queueState("b").readySnapshot().get(0).residentMessage();
        assertThat(deaths(m)).extracting(d -> d.get("queue"), d -> d.get("reason"), d -> d.get("count"))
                .containsExactly(tuple("a", "rejected", 2L), tuple("b", "rejected", 1L));
        assertThat(deaths(m).get(0)).containsEntry("exchange", "");
        assertThat(m.headers()).containsEntry("x-first-death-queue", "a").containsEntry("x-last-death-queue", "a");
        rejectNext("b");
        m = f.queueState("a").readySnapshot().get(0).residentMessage();
        assertThat(deaths(m)).extracting(d -> d.get("queue"), d -> d.get("count"))
                .containsExactly(tuple("b", 2L), tuple("a", 2L));
        assertThat(m.headers()).containsEntry("x-first-death-queue", "a").containsEntry("x-last-death-queue", "b");
    }

    @Test
    void aFullyAutomaticCycleIsDropped() {
        declare("a", false, "x-message-ttl", 10, "x-dead-letter-exchange", "", "x-dead-letter-routing-key", "b");
        declare("b", false, "x-message-ttl", 10, "x-dead-letter-exchange", "", "x-dead-letter-routing-key", "a");
        f.publishTo(ch, "a", "m");
        broker.tick(20);
        assertThat(f.ready("b")).containsExactly("m");
        broker.tick(40);
        assertThat(f.ready("a")).isEmpty();
        assertThat(f.ready("b")).isEmpty();
        assertThat(broker.deadLetterDroppedCount()).isEqualTo(1);
    }

    @Test
    void queuesThatFeedEachOtherFullStillSettle() {
        // drop-head in a pushes into b, whose drop-head pushes back into a: each copy carries a rejection,
        // so no hop is a cycle, yet every message gets a non-rejected death per queue and the chain ends
        declare("a", true, "x-max-length", 1, "x-dead-letter-exchange", "", "x-dead-letter-routing-key", "b");
        declare("b", true, "x-max-length", 1, "x-dead-letter-exchange", "", "x-dead-letter-routing-key", "a");
        f.publishPersistent(ch, "", "a", "x");
        rejectNext("a");
        f.publishPersistent(ch, "", "b", "y");
        rejectNext("b");
        for (int i = 0; i < 5; i++) {
            f.publishPersistent(ch, "", "a", "z" + i);
        }
        assertThat(f.ready("a")).hasSize(1);
        assertThat(f.ready("b")).hasSize(1);
        assertThat(f.store.live("a")).isEqualTo(f.ready("a"));
        assertThat(f.store.live("b")).isEqualTo(f.ready("b"));
    }

    @Test
    void aSelfTtlCycleIsDroppedAtOnce() {
        declare("a", false, "x-message-ttl", 10, "x-dead-letter-exchange", "", "x-dead-letter-routing-key", "a");
        f.publishTo(ch, "a", "m");
        broker.tick(20);
        assertThat(f.ready("a")).isEmpty();
        assertThat(broker.deadLetterDroppedCount()).isEqualTo(1);
    }

    @Test
    void aCycleThroughARejectionIsAllowed() {
        declare("a", false, "x-dead-letter-exchange", "", "x-dead-letter-routing-key", "b");
        declare("b", false, "x-message-ttl", 10, "x-dead-letter-exchange", "", "x-dead-letter-routing-key", "a");
        f.publishTo(ch, "a", "m");
        rejectNext("a");
        broker.tick(20); // expires in b, back to a: a's death was a rejection
        assertThat(f.ready("a")).containsExactly("m");
        Message m = f.queueState("a").readySnapshot().get(0).residentMessage();
        assertThat(deaths(m)).extracting(d -> d.get("queue"), d -> d.get("reason"))
                .containsExactly(tuple("b", "expired"), tuple("a", "rejected"));
        rejectNext("a"); // and round again
        broker.tick(40);
        assertThat(f.ready("a")).containsExactly("m");
    }

    @Test
    void theCopyIsStoredBeforeTheOriginalIsRemoved() {
        declare("work", true, "x-dead-letter-exchange", "dlx");
        f.durableQueue(ch, "dlq");
        f.topology.bindQueue(ch, "dlq", "dlx", "work", Map.of());
        f.publishPersistent(ch, "", "work", "p");
        rejectNext("work"); // the message is paged out: dead-lettering loads it

        assertThat(f.store.events).extracting(Event::kind, Event::queue, Event::body).containsExactly(
                tuple(Kind.ENQUEUED, "work", "p"),
                tuple(Kind.ENQUEUED, "dlq", "p"),
                tuple(Kind.REMOVED, "work", "p"));
        assertThat(f.store.live("dlq")).containsExactly("p");
        Message copy = take("dlq").message();
        assertThat(copy.persistent()).isTrue();
        assertThat(deaths(copy).get(0)).containsEntry("reason", "rejected");
    }

    @Test
    void expiryAndDropHeadOfPagedOutMessagesAreDeadLetteredToo() {
        declare("work", true, "x-dead-letter-exchange", "dlx", "x-max-length", 1, "x-message-ttl", 100);
        f.durableQueue(ch, "dlq");
        f.topology.bindQueue(ch, "dlq", "dlx", "work", Map.of());
        f.publishPersistent(ch, "", "work", "a");
        f.publishPersistent(ch, "", "work", "b");
        broker.tick(1_000);
        assertThat(f.ready("dlq")).containsExactly("a", "b");
        assertThat(deaths(take("dlq").message()).get(0)).containsEntry("reason", "maxlen");
        assertThat(deaths(take("dlq").message()).get(0)).containsEntry("reason", "expired");
    }

    @Test
    void purgeAndDeleteDoNotDeadLetter() {
        workAndDlq("work");
        f.publishTo(ch, "work", "a", "b");
        f.topology.purgeQueue(ch, "work");
        f.publishTo(ch, "work", "c");
        f.topology.deleteQueue(ch, "work", false, false);
        assertThat(f.ready("dlq")).isEmpty();
        assertThat(broker.deadLetteredCount()).isZero();
    }

    @Test
    void withoutADlxARejectedMessageIsDropped() {
        f.queue(ch, "plain");
        f.publishTo(ch, "plain", "m");
        rejectNext("plain");
        assertThat(f.ready("plain")).isEmpty();
        assertThat(broker.deadLetteredCount()).isZero();
        assertThat(broker.deadLetterDroppedCount()).isZero();
    }

    @Test
    void deadLetterArgumentsMustBeStrings() {
        assertThat(BrokerFixture.replyCode(() -> declare("q1", false, "x-dead-letter-exchange", 5))).isEqualTo(406);
        assertThat(BrokerFixture.replyCode(() -> declare("q2", false, "x-dead-letter-exchange", "dlx",
                "x-dead-letter-routing-key", true))).isEqualTo(406);
        assertThat(BrokerFixture.replyCode(() -> declare("q3", false, "x-dead-letter-routing-key", "k")))
                .isEqualTo(406);
        declare("q4", false, "x-dead-letter-exchange", "dlx");
        assertThat(BrokerFixture.replyCode(() -> declare("q4", false, "x-dead-letter-exchange", "other")))
                .as("compared on redeclare").isEqualTo(406);
    }
}
