package io.holdfast.core;

import static io.holdfast.core.BrokerFixture.NO_ARGS;
import static io.holdfast.core.BrokerFixture.body;
import static io.holdfast.core.BrokerFixture.replyCode;
import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.core.BrokerFixture.RecordingStore.Event;
import io.holdfast.core.BrokerFixture.RecordingStore.Kind;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Message TTL: the queue's {@code x-message-ttl}, the message's {@code expiration}, and expiry at the head. */
class MessageTtlTest {
    private final BrokerFixture f = new BrokerFixture();
    private final Broker broker = f.broker;
    private final BrokerFixture.RecordingStore store = f.store;
    private final ChannelState ch = f.channel(1);

    private void declare(String name, Map<String, Object> args) {
        f.topology.declareQueue(ch, name, false, true, false, false, args);
    }

    /** Publishes a persistent message to {@code queue} at {@code nowMillis}, with an expiration or none (-1). */
    private void publish(String queue, String body, long expirationMillis, long nowMillis) {
        Message m = new Message("", queue, new byte[0], Map.of(), true, expirationMillis,
                body.getBytes(StandardCharsets.UTF_8));
        assertThat(broker.publish(ch, "", queue, m, nowMillis).routedQueues()).isEqualTo(1);
    }

    private void assertRemovedOnce(String... bodies) {
        assertThat(store.events(Kind.REMOVED)).extracting(Event::body).containsExactly(bodies);
        assertThat(store.problems).isEmpty();
    }

    @Test
    void queueTtlDropsMessagesOnceTheirTimeIsUp() {
        declare("q", Map.of("x-message-ttl", 1000));
        publish("q", "a", Message.NO_EXPIRATION, 10_000);
        publish("q", "b", Message.NO_EXPIRATION, 10_500);

        broker.tick(11_000);
        assertThat(f.ready("q")).containsExactly("a", "b");
        broker.tick(11_001);
        assertThat(f.ready("q")).containsExactly("b");
        broker.tick(11_500);
        assertThat(f.ready("q")).containsExactly("b");
        broker.tick(11_501);
        assertThat(f.ready("q")).isEmpty();
        assertRemovedOnce("a", "b");
        assertThat(store.live("q")).isEmpty();
    }

    @Test
    void expirationPropertyAloneLimitsTheMessage() {
        declare("q", NO_ARGS);
        publish("q", "short", 200, 0);
        publish("q", "forever", Message.NO_EXPIRATION, 0);

        broker.tick(1_000_000);

        assertThat(f.ready("q")).containsExactly("forever");
        assertRemovedOnce("short");
    }

    @Test
    void theSmallerOfQueueTtlAndExpirationWins() {
        declare("q", Map.of("x-message-ttl", 1000));
        publish("q", "message-shorter", 200, 0);
        publish("q", "queue-shorter", 5000, 0);

        assertThat(f.queueState("q").readySnapshot()).extracting(QueueEntry::expiresAtMillis)
                .containsExactly(200L, 1000L);
        assertThat(f.queueState("q").readySnapshot()).extracting(QueueEntry::enqueuedAtMillis)
                .containsExactly(0L, 0L);
    }

    @Test
    void expiredHeadIsNeverGivenToBasicGet() {
        declare("q", NO_ARGS);
        publish("q", "old", 100, 0);
        publish("q", "fresh", Message.NO_EXPIRATION, 0);

        Broker.GetResult got = broker.get(ch, "q", true, 101);

        assertThat(body(got.message())).isEqualTo("fresh");
        assertThat(got.messageCount()).isZero();
        assertThat(broker.get(ch, "q", true, 102)).isNull();
        assertRemovedOnce("old", "fresh");
    }

    @Test
    void expiredHeadIsNeverDeliveredToANewConsumer() {
        declare("q", NO_ARGS);
        publish("q", "old", 100, 0);
        publish("q", "fresh", Message.NO_EXPIRATION, 0);

        broker.advanceClock(500);
        f.consume(ch, "q", false);

        assertThat(f.output(ch).bodies()).containsExactly("fresh");
        assertRemovedOnce("old");
    }

    @Test
    void expiredMessagesWaitingForCreditAreDroppedWhenCreditReturns() {
        declare("q", NO_ARGS);
        broker.qos(ch, 1, false);
        f.consume(ch, "q", false);
        publish("q", "first", Message.NO_EXPIRATION, 0);
        publish("q", "second", 100, 0);
        publish("q", "third", Message.NO_EXPIRATION, 0);

        broker.advanceClock(200);
        broker.ack(ch, f.output(ch).last().deliveryTag(), false);

        assertThat(f.output(ch).bodies()).containsExactly("first", "third");
        assertRemovedOnce("first", "second");
    }

    @Test
    void anExpiredMessageBehindALiveHeadWaitsForIt() {
        declare("q", NO_ARGS);
        publish("q", "long", 10_000, 0);
        publish("q", "short", 10, 0);

        broker.tick(100);
        assertThat(f.ready("q")).containsExactly("long", "short");

        assertThat(body(broker.get(ch, "q", true, 100).message())).isEqualTo("long");
        assertThat(broker.get(ch, "q", true, 100)).isNull();
        assertRemovedOnce("long", "short");
    }

    @Test
    void requeuedMessagePastItsTimeIsDroppedNotRedelivered() {
        declare("q", NO_ARGS);
        publish("q", "m", 100, 0);
        Broker.GetResult got = broker.get(ch, "q", false, 50);

        broker.advanceClock(150);
        broker.reject(ch, got.deliveryTag(), false, true);
        assertThat(f.ready("q")).containsExactly("m");
        broker.tick(150);

        assertThat(f.ready("q")).isEmpty();
        assertRemovedOnce("m");
    }

    @Test
    void unackedMessagesDoNotExpire() {
        declare("q", Map.of("x-message-ttl", 100));
        publish("q", "m", Message.NO_EXPIRATION, 0);
        Broker.GetResult got = broker.get(ch, "q", false, 50);

        broker.tick(10_000);
        assertThat(store.events(Kind.REMOVED)).isEmpty();
        broker.ack(ch, got.deliveryTag(), false);
        assertRemovedOnce("m");
    }

    @Test
    void ttlZeroGoesToAConsumerThatCanTakeItAtOnce() {
        declare("q", Map.of("x-message-ttl", 0));
        f.consume(ch, "q", false);

        publish("q", "m", Message.NO_EXPIRATION, 5);

        assertThat(f.output(ch).bodies()).containsExactly("m");
        assertThat(store.events(Kind.REMOVED)).isEmpty();
    }

    @Test
    void ttlZeroWithoutAConsumerIsDiscardedAtOnce() {
        declare("q", NO_ARGS);
        publish("q", "m", 0, 5);

        assertThat(f.ready("q")).isEmpty();
        assertThat(broker.get(ch, "q", true, 5)).isNull();
        assertRemovedOnce("m");
    }

    @Test
    void ttlZeroIsDiscardedWhenTheConsumerHasNoCredit() {
        declare("q", NO_ARGS);
        broker.qos(ch, 1, false);
        f.consume(ch, "q", false);
        publish("q", "first", Message.NO_EXPIRATION, 0);
        publish("q", "zero", 0, 0);

        broker.ack(ch, f.output(ch).last().deliveryTag(), false);

        assertThat(f.output(ch).bodies()).containsExactly("first");
        assertRemovedOnce("zero", "first");
    }

    @Test
    void expiredMessagesDoNotCountAgainstALengthLimit() {
        declare("q", Map.of("x-max-length", 1, "x-overflow", "reject-publish"));
        publish("q", "old", 100, 0);

        Message m = new Message("", "q", new byte[0], Map.of(), true, Message.NO_EXPIRATION,
                "new".getBytes(StandardCharsets.UTF_8));
        assertThat(broker.publish(ch, "", "q", m, 200).rejected()).isFalse();

        assertThat(f.ready("q")).containsExactly("new");
        assertRemovedOnce("old");
    }

    @Test
    void transientMessagesExpireWithoutTheStore() {
        f.topology.declareQueue(ch, "t", false, false, false, false, Map.of("x-message-ttl", 10));
        f.publishTo(ch, "t", "m");

        broker.tick(11);

        assertThat(f.ready("t")).isEmpty();
        assertThat(store.events).isEmpty();
    }

    @Test
    void restoredEntryKeepsItsStoredExpiry() {
        Queue q = f.topology.restoreQueue("/", "r", false, Map.of("x-message-ttl", 10_000));
        f.topology.restoreEntry(q, 1, BrokerFixture.message("", "r", Map.of(), false, "old"), false, 0, 1_000,
                11_000);
        broker.advanceSequence(1);

        broker.tick(11_000);
        assertThat(f.ready("r")).containsExactly("old");
        broker.tick(11_001);
        assertThat(f.ready("r")).isEmpty();
    }

    @Test
    void expirationPropertyIsParsedAsRabbitMqDoes() {
        assertThat(Message.parseExpiration(null)).isEqualTo(Message.NO_EXPIRATION);
        assertThat(Message.parseExpiration("0")).isZero();
        assertThat(Message.parseExpiration("60000")).isEqualTo(60_000);
        for (String bad : new String[] {"", "abc", "-1", "10s", " 5", "1.5", "99999999999999999999"}) {
            assertThat(replyCode(() -> Message.parseExpiration(bad))).as(bad).isEqualTo(406);
        }
        BrokerException e = org.assertj.core.api.Assertions.catchThrowableOfType(BrokerException.class,
                () -> Message.parseExpiration("-1"));
        assertThat(e.getMessage()).isEqualTo("invalid expiration '-1': {value_negative,-1}");
    }

    // ---- when the broker must look again (Broker#nextExpiryMillis, Broker#expireDue) ----

    @Test
    void theNextExpiryIsTheFirstMillisecondTheHeadIsExpired() {
        declare("q", Map.of("x-message-ttl", 100));
        assertThat(broker.nextExpiryMillis()).isEqualTo(Long.MAX_VALUE);
        publish("q", "a", Message.NO_EXPIRATION, 1_000);
        publish("q", "b", Message.NO_EXPIRATION, 1_050);
        assertThat(broker.nextExpiryMillis()).isEqualTo(1_101);

        broker.expireDue(1_100);
        assertThat(f.ready("q")).containsExactly("a", "b");
        broker.expireDue(1_101);

        assertThat(f.ready("q")).containsExactly("b");
        assertThat(broker.nextExpiryMillis()).isEqualTo(1_151);
        broker.expireDue(1_151);
        assertThat(f.ready("q")).isEmpty();
        assertThat(broker.nextExpiryMillis()).isEqualTo(Long.MAX_VALUE);
        assertRemovedOnce("a", "b");
    }

    @Test
    void aMessageThatBecomesTheHeadIsNotedWhenItDoes() {
        declare("q", NO_ARGS);
        publish("q", "long", 10_000, 0);
        publish("q", "short", 1_000, 0);
        broker.tick(1); // looks at heads only: "short" waits behind "long", as in RabbitMQ
        assertThat(broker.nextExpiryMillis()).isEqualTo(10_001);

        assertThat(body(broker.get(ch, "q", true, 2).message())).isEqualTo("long");

        assertThat(broker.nextExpiryMillis()).isEqualTo(1_001);
        broker.expireDue(1_001);
        assertThat(f.ready("q")).isEmpty();
    }

    @Test
    void aRequeuedMessageKeepsItsExpiryAndIsNotedAgain() {
        declare("q", Map.of("x-message-ttl", 500));
        publish("q", "m", Message.NO_EXPIRATION, 0);
        Broker.GetResult got = broker.get(ch, "q", false, 1);
        broker.tick(2);
        assertThat(broker.nextExpiryMillis()).as("nothing ready").isEqualTo(Long.MAX_VALUE);

        broker.reject(ch, got.deliveryTag(), false, true);

        assertThat(broker.nextExpiryMillis()).isEqualTo(501);
        broker.expireDue(501);
        assertThat(f.ready("q")).isEmpty();
    }

    @Test
    void everyPriorityHeadCounts() {
        declare("p", Map.of("x-max-priority", 5));
        Message low = new Message("", "p", BrokerFixture.TextProperties.withPriority(0), Map.of(), true, 300,
                "low".getBytes(StandardCharsets.UTF_8));
        Message high = new Message("", "p", BrokerFixture.TextProperties.withPriority(5), Map.of(), true, 900,
                "high".getBytes(StandardCharsets.UTF_8));
        broker.publish(ch, "", "p", high, 0);
        broker.publish(ch, "", "p", low, 0);
        broker.tick(1);

        assertThat(broker.nextExpiryMillis()).isEqualTo(301);
        broker.expireDue(301);
        assertThat(f.ready("p")).containsExactly("high");
    }
}
