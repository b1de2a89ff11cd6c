package io.holdfast.core;

import static io.holdfast.core.BrokerFixture.NO_ARGS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.groups.Tuple.tuple;

import io.holdfast.core.BrokerFixture.RecordingStore;
import io.holdfast.core.BrokerFixture.RecordingStore.Event;
import io.holdfast.core.BrokerFixture.RecordingStore.Kind;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Queue length limits as RabbitMQ documents them: {@code x-max-length} and {@code x-max-length-bytes}
 * count ready messages (bodies only for bytes), {@code x-overflow} drop-head drops the oldest ready
 * messages, reject-publish refuses the new one. Limits are enforced when a message is published and, with
 * drop-head, after messages are requeued.
 */
class QueueLengthLimitTest {
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
    }

    @AfterEach
    void theStoreSeamsContractHeld() {
        assertThat(store.problems).isEmpty();
    }

    private void declare(String name, boolean durable, Map<String, Object> args) {
        f.topology.declareQueue(ch, name, false, durable, false, false, args);
    }

    private Broker.PublishResult publish(String exchange, String routingKey, String body, boolean persistent) {
        return broker.publish(ch, exchange, routingKey,
                BrokerFixture.message(exchange, routingKey, Map.of(), persistent, body), 0);
    }

    // ---- drop-head ----

    @Test
    void dropHeadKeepsTheNewestMessages() {
        declare("q", false, Map.of("x-max-length", 3));

        for (int i = 1; i <= 5; i++) {
            Broker.PublishResult r = publish("", "q", "m" + i, false);
            assertThat(r.routedQueues()).isEqualTo(1);
            assertThat(r.rejected()).isFalse();
        }

        assertThat(f.ready("q")).containsExactly("m3", "m4", "m5");
    }

    @Test
    void droppedPersistentMessagesLeaveTheStoreOnceOldestFirst() {
        declare("d", true, Map.of("x-max-length", 2L, "x-overflow", "drop-head"));

        for (int i = 1; i <= 4; i++) {
            publish("", "d", "m" + i, true);
        }

        assertThat(f.ready("d")).containsExactly("m3", "m4");
        assertThat(store.live("d")).containsExactly("m3", "m4");
        assertThat(store.events(Kind.REMOVED)).extracting(Event::queue, Event::body)
                .containsExactly(tuple("d", "m1"), tuple("d", "m2"));
    }

    @Test
    void maxLengthZeroDropsEveryMessageNobodyTakesAtOnce() {
        declare("d", true, Map.of("x-max-length", 0));

        publish("", "d", "gone", true);
        assertThat(f.ready("d")).isEmpty();
        assertThat(store.live("d")).isEmpty();

        // A consumer waiting with credit takes the message before the limit is applied, as in RabbitMQ.
        f.consume(ch, "d", false);
        publish("", "d", "taken", true);
        assertThat(f.output(ch).bodies()).containsExactly("taken");
        assertThat(store.live("d")).containsExactly("taken");
    }

    @Test
    void unackedMessagesDoNotCountTowardTheLimit() {
        declare("q", false, Map.of("x-max-length", 2));
        f.publishTo(ch, "q", "a", "b");
        assertThat(broker.get(ch, "q", false, 0)).isNotNull();
        assertThat(broker.get(ch, "q", false, 0)).isNotNull();

        f.publishTo(ch, "q", "c", "d");

        assertThat(f.ready("q")).containsExactly("c", "d");
        assertThat(f.queueState("q").unackedCount()).isEqualTo(2);
    }

    @Test
    void requeuedMessagesGoBackToTheirPlacesAndThenDropHeadApplies() {
        declare("d", true, Map.of("x-max-length", 2));
        publish("", "d", "a", true);
        publish("", "d", "b", true);
        Broker.GetResult got = broker.get(ch, "d", false, 0);
        publish("", "d", "c", true);
        assertThat(f.ready("d")).containsExactly("b", "c");

        // As RabbitMQ's requeue: back at its place, at the head, which drop-head then takes.
        broker.reject(ch, got.deliveryTag(), false, true);

        assertThat(f.ready("d")).containsExactly("b", "c");
        assertThat(store.live("d")).containsExactly("b", "c");
        assertThat(store.events(Kind.REMOVED)).extracting(Event::body).containsExactly("a");
    }

    @Test
    void messagesRequeuedTogetherAreAllBackBeforeDropHeadKeepsTheNewest() {
        declare("d", false, Map.of("x-max-length", 3));
        publish("", "d", "a", false);
        publish("", "d", "b", false);
        f.consume(ch, "d", false);
        publish("", "d", "c", false);
        publish("", "d", "d", false);
        broker.cancel(ch, f.output(ch).deliveries.get(0).consumerTag());
        publish("", "d", "e", false);
        assertThat(f.ready("d")).containsExactly("e");

        broker.recover(ch); // a, b, c, d come back to their places; a and b, the head, are dropped

        assertThat(f.ready("d")).containsExactly("c", "d", "e");
    }

    @Test
    void aRequeueOverTheLimitDeadLettersTheHeadAsMaxlen() {
        declare("dlq", false, NO_ARGS);
        declare("d", false, Map.of("x-max-length", 1, "x-dead-letter-exchange", "",
                "x-dead-letter-routing-key", "dlq"));
        publish("", "d", "a", false);
        Broker.GetResult got = broker.get(ch, "d", false, 0);
        publish("", "d", "b", false);

        broker.reject(ch, got.deliveryTag(), false, true);

        assertThat(f.ready("d")).containsExactly("b");
        assertThat(f.ready("dlq")).containsExactly("a");
        Message dead = broker.get(ch, "dlq", true, 0).message();
        assertThat(dead.headers().get("x-last-death-reason")).isEqualTo("maxlen");
    }

    @Test
    void rejectPublishLeavesARequeuedQueueOverItsLimit() {
        declare("r", false, Map.of("x-max-length", 1, "x-overflow", "reject-publish"));
        publish("", "r", "a", false);
        Broker.GetResult got = broker.get(ch, "r", false, 0);
        publish("", "r", "b", false);

        broker.reject(ch, got.deliveryTag(), false, true);

        assertThat(f.ready("r")).as("RabbitMQ drops on requeue only with drop-head").containsExactly("a", "b");
    }

    @Test
    void bytesLimitCountsBodiesOfReadyMessages() {
        declare("q", false, Map.of("x-max-length-bytes", 10));
        // Properties do not count, as in RabbitMQ: only the body's bytes.
        Message withProperties = new Message("", "q", new byte[100], Map.of(), false, Message.NO_EXPIRATION,
                "12345".getBytes(StandardCharsets.UTF_8));
        broker.publish(ch, "", "q", withProperties, 0);
        f.publishTo(ch, "q", "abcde");
        assertThat(f.queueState("q").readyBytes()).isEqualTo(10);
        assertThat(f.ready("q")).containsExactly("12345", "abcde");

        f.publishTo(ch, "q", "x");

        assertThat(f.ready("q")).containsExactly("abcde", "x");
        assertThat(f.queueState("q").readyBytes()).isEqualTo(6);
    }

    @Test
    void bothLimitsApplyTogether() {
        declare("q", false, Map.of("x-max-length", 3, "x-max-length-bytes", 4));

        f.publishTo(ch, "q", "aa", "bb", "c");

        assertThat(f.ready("q")).containsExactly("bb", "c");
    }

    // ---- reject-publish ----

    @Test
    void rejectPublishRefusesNewMessagesWhileFull() {
        declare("d", true, Map.of("x-max-length", 2, "x-overflow", "reject-publish"));
        publish("", "d", "a", true);
        publish("", "d", "b", true);

        Broker.PublishResult r = publish("", "d", "c", true);

        assertThat(r.routedQueues()).isEqualTo(1);
        assertThat(r.rejectedQueues()).isEqualTo(1);
        assertThat(r.rejected()).isTrue();
        assertThat(r.unroutable()).isFalse();
        assertThat(f.ready("d")).containsExactly("a", "b");
        assertThat(store.live("d")).containsExactly("a", "b");
        assertThat(store.events(Kind.REMOVED)).isEmpty();

        // Room again once a message is acked away.
        Broker.GetResult got = broker.get(ch, "d", false, 0);
        broker.ack(ch, got.deliveryTag(), false);
        assertThat(publish("", "d", "d", true).rejected()).isFalse();
        assertThat(f.ready("d")).containsExactly("b", "d");
    }

    @Test
    void rejectPublishDlxBehavesLikeRejectPublish() {
        declare("q", false, Map.of("x-max-length", 1, "x-overflow", "reject-publish-dlx"));

        assertThat(publish("", "q", "a", false).rejected()).isFalse();
        assertThat(publish("", "q", "b", false).rejected()).isTrue();

        assertThat(f.ready("q")).containsExactly("a");
    }

    @Test
    void rejectPublishOnABytesLimit() {
        declare("q", false, Map.of("x-max-length-bytes", 5L, "x-overflow", "reject-publish"));

        assertThat(publish("", "q", "abc", false).rejected()).isFalse();
        assertThat(publish("", "q", "def", false).rejected()).isTrue();
        assertThat(publish("", "q", "gh", false).rejected()).isFalse();

        assertThat(f.ready("q")).containsExactly("abc", "gh");
    }

    @Test
    void maxLengthZeroWithRejectPublishRefusesEverything() {
        declare("q", false, Map.of("x-max-length", 0, "x-overflow", "reject-publish"));

        assertThat(publish("", "q", "a", false).rejected()).isTrue();
        assertThat(f.ready("q")).isEmpty();
    }

    @Test
    void aMessageRefusedByOneOfItsQueuesStillGoesToTheOthers() {
        declare("full", false, Map.of("x-max-length", 0, "x-overflow", "reject-publish"));
        declare("open", false, NO_ARGS);
        f.topology.bindQueue(ch, "full", "amq.fanout", "", NO_ARGS);
        f.topology.bindQueue(ch, "open", "amq.fanout", "", NO_ARGS);

        Broker.PublishResult r = publish("amq.fanout", "", "m", false);

        assertThat(r.routedQueues()).isEqualTo(2);
        assertThat(r.rejectedQueues()).isEqualTo(1);
        assertThat(f.ready("open")).containsExactly("m");
        assertThat(f.ready("full")).isEmpty();
    }

    @Test
    void limitsComeBackWithARestoredQueue() {
        Queue q = f.topology.restoreQueue("/", "r", false, Map.of("x-max-length", 1));
        f.topology.restoreEntry(q, 1, BrokerFixture.message("", "r", Map.of(), false, "old"), false, 0, 0,
                QueueEntry.NEVER);
        broker.advanceSequence(1);

        publish("", "r", "new", false);

        assertThat(f.ready("r")).containsExactly("new");
    }
}
