package io.holdfast.core;

import static io.holdfast.core.BrokerFixture.NO_ARGS;
import static io.holdfast.core.BrokerFixture.replyCode;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.holdfast.core.BrokerFixture.RecordingStore.Event;
import io.holdfast.core.BrokerFixture.RecordingStore.Kind;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The {@code x-delayed-message} exchange: held until its {@code x-delay} has passed, then routed as its type. */
class DelayedMessageTest {
    private static final String HOLDING = DelayedMessages.HOLDING_PREFIX + "delayed";

    private final BrokerFixture f = new BrokerFixture();
    private final Broker broker = f.broker;
    private final BrokerFixture.RecordingStore store = f.store;
    private final ChannelState ch = f.channel(1);

    private void declareDelayed(String name, String type, boolean durable) {
        f.topology.declareExchange(ch, name, "x-delayed-message", false, durable, false, false,
                Map.of("x-delayed-type", type));
    }

    /** Publishes a persistent message to {@code exchange} at {@code nowMillis} with these headers. */
    private Broker.PublishResult publish(String exchange, String key, String body, Map<String, Object> headers,
                                         long nowMillis) {
        return broker.publish(ch, exchange, key, BrokerFixture.message(exchange, key, headers, true, body), nowMillis);
    }

    private Broker.PublishResult publishDelayed(String key, String body, Object delay, long nowMillis) {
        return publish("delayed", key, body, Map.of("x-delay", delay), nowMillis);
    }

    @Test
    void heldUntilItsDelayHasPassedThenRoutedByKey() {
        declareDelayed("delayed", "direct", true);
        f.durableQueue(ch, "q");
        f.topology.bindQueue(ch, "q", "delayed", "k", NO_ARGS);

        assertThat(publishDelayed("k", "m", 1000, 10_000).unroutable()).isFalse();
        assertThat(f.ready("q")).isEmpty();
        broker.tick(10_999);
        assertThat(f.ready("q")).isEmpty();
        broker.tick(11_000);
        assertThat(f.ready("q")).containsExactly("m");
        assertThat(broker.delayedMessages().heldCount()).isZero();
        assertThat(store.problems).isEmpty();
    }

    @Test
    void routedWithTheRulesOfEachDelayedType() {
        declareDelayed("t", "topic", false);
        declareDelayed("fan", "fanout", false);
        declareDelayed("h", "headers", false);
        for (String q : new String[] {"topic-q", "fanout-q1", "fanout-q2", "headers-q", "other"}) {
            f.queue(ch, q);
        }
        f.topology.bindQueue(ch, "topic-q", "t", "stock.*", NO_ARGS);
        f.topology.bindQueue(ch, "other", "t", "news.#", NO_ARGS);
        f.topology.bindQueue(ch, "fanout-q1", "fan", "ignored", NO_ARGS);
        f.topology.bindQueue(ch, "fanout-q2", "fan", "", NO_ARGS);
        f.topology.bindQueue(ch, "headers-q", "h", "", Map.of("x-match", "all", "format", "pdf"));

        publish("t", "stock.nyse", "topic", Map.of("x-delay", 100), 0);
        publish("fan", "any", "fanout", Map.of("x-delay", 100), 0);
        publish("h", "", "headers", Map.of("x-delay", 100, "format", "pdf"), 0);
        publish("h", "", "headers-miss", Map.of("x-delay", 100, "format", "doc"), 0);
        broker.tick(50);
        assertThat(f.ready("topic-q")).isEmpty();
        broker.tick(100);

        assertThat(f.ready("topic-q")).containsExactly("topic");
        assertThat(f.ready("other")).isEmpty();
        assertThat(f.ready("fanout-q1")).containsExactly("fanout");
        assertThat(f.ready("fanout-q2")).containsExactly("fanout");
        assertThat(f.ready("headers-q")).containsExactly("headers");
    }

    @Test
    void dueMessagesAreRoutedInDueOrderThenPublishOrder() {
        declareDelayed("delayed", "fanout", true);
        f.durableQueue(ch, "q");
        f.topology.bindQueue(ch, "q", "delayed", "", NO_ARGS);

        publishDelayed("", "third", 3000, 0);
        publishDelayed("", "first", 1000, 0);
        publishDelayed("", "second-a", 2000, 0);
        publishDelayed("", "second-b", 1500, 500);
        broker.tick(1000);
        assertThat(f.ready("q")).containsExactly("first");
        broker.tick(10_000);
        assertThat(f.ready("q")).containsExactly("first", "second-a", "second-b", "third");
    }

    @Test
    void noZeroNegativeOrTooLongDelayRoutesAtOnce() {
        declareDelayed("delayed", "direct", false);
        f.queue(ch, "q");
        f.topology.bindQueue(ch, "q", "delayed", "k", NO_ARGS);

        assertThat(publish("delayed", "k", "none", NO_ARGS, 0).routedQueues()).isEqualTo(1);
        assertThat(publishDelayed("k", "zero", 0, 0).routedQueues()).isEqualTo(1);
        assertThat(publishDelayed("k", "negative", -5000, 0).routedQueues()).isEqualTo(1);
        assertThat(publishDelayed("k", "long-zero", 0L, 0).routedQueues()).isEqualTo(1);
        assertThat(publishDelayed("k", "beyond-limit", 1L << 32, 0).routedQueues()).isEqualTo(1);
        assertThat(publishDelayed("k", "text", "1000", 0).routedQueues()).isEqualTo(1);

        assertThat(f.ready("q")).containsExactly("none", "zero", "negative", "long-zero", "beyond-limit", "text");
        assertThat(broker.delayedMessages().heldCount()).isZero();
    }

    @Test
    void anUndelayedPublishWithNoRouteIsUnroutableButAHeldOneIsNot() {
        declareDelayed("delayed", "direct", false);

        assertThat(publish("delayed", "nowhere", "now", NO_ARGS, 0).unroutable()).isTrue();
        assertThat(publishDelayed("nowhere", "later", 500, 0).unroutable()).as("mandatory: not returned").isFalse();
        broker.tick(500); // still no route: dropped
        assertThat(broker.delayedMessages().heldCount()).isZero();
    }

    @Test
    void routingIsDecidedWhenTheMessageIsDue() {
        declareDelayed("delayed", "direct", false);
        f.queue(ch, "early");
        f.queue(ch, "late");
        f.topology.bindQueue(ch, "early", "delayed", "k", NO_ARGS);

        publishDelayed("k", "m", 1000, 0);
        f.topology.unbindQueue(ch, "early", "delayed", "k", NO_ARGS);
        f.topology.bindQueue(ch, "late", "delayed", "k", NO_ARGS);
        broker.tick(1000);

        assertThat(f.ready("early")).isEmpty();
        assertThat(f.ready("late")).containsExactly("m");
    }

    @Test
    void theRoutedCopyCarriesTheNegatedDelayAndGoesToAConsumer() {
        declareDelayed("delayed", "direct", false);
        f.queue(ch, "q");
        f.topology.bindQueue(ch, "q", "delayed", "k", NO_ARGS);
        f.consume(ch, "q", true);

        publish("delayed", "k", "m", Map.of("x-delay", 5000, "keep", "me"), 0);
        assertThat(f.output(ch).deliveries).isEmpty();
        broker.tick(5000);

        Message delivered = f.output(ch).last().message();
        assertThat(delivered.headers()).containsEntry("x-delay", -5000).containsEntry("keep", "me");
        assertThat(BrokerFixture.body(delivered)).isEqualTo("m");
    }

    @Test
    void storedCopiesAreEnqueuedBeforeTheHeldRecordIsRemoved() {
        declareDelayed("delayed", "fanout", true);
        f.durableQueue(ch, "q1");
        f.durableQueue(ch, "q2");
        f.topology.bindQueue(ch, "q1", "delayed", "", NO_ARGS);
        f.topology.bindQueue(ch, "q2", "delayed", "", NO_ARGS);

        publishDelayed("", "m", 1000, 0);
        assertThat(store.live(HOLDING)).containsExactly("m");
        broker.tick(1000);

        assertThat(store.events).extracting(Event::kind, Event::queue).containsExactly(
                org.assertj.core.groups.Tuple.tuple(Kind.ENQUEUED, HOLDING),
                org.assertj.core.groups.Tuple.tuple(Kind.ENQUEUED, "q1"),
                org.assertj.core.groups.Tuple.tuple(Kind.ENQUEUED, "q2"),
                org.assertj.core.groups.Tuple.tuple(Kind.REMOVED, HOLDING));
        assertThat(store.loads).as("the held message was paged out and read back").isEqualTo(1);
        assertThat(store.live(HOLDING)).isEmpty();
        assertThat(store.problems).isEmpty();
    }

    @Test
    void theHeldEntryKeepsPublishAndDueTimesForTheStore() {
        declareDelayed("delayed", "direct", true);
        publishDelayed("k", "m", 2500, 7000);

        QueueEntry[] held = new QueueEntry[1];
        broker.delayedMessages().forEach((holding, e) -> held[0] = e);
        assertThat(held[0].enqueuedAtMillis()).isEqualTo(7000);
        assertThat(held[0].expiresAtMillis()).as("the due time").isEqualTo(9500);
    }

    @Test
    void onlyPersistentMessagesOnDurableExchangesAreStored() {
        declareDelayed("delayed", "direct", true);
        declareDelayed("transient-x", "direct", false);
        broker.publish(ch, "delayed", "k", BrokerFixture.message("delayed", "k", Map.of("x-delay", 10), false, "t"), 0);
        publish("transient-x", "k", "p", Map.of("x-delay", 10), 0);

        assertThat(store.events).isEmpty();
        assertThat(broker.delayedMessages().heldCount()).isEqualTo(2);
        broker.tick(10);
        assertThat(store.events).isEmpty();
        assertThat(store.problems).isEmpty();
    }

    @Test
    void expirationCountsFromWhenTheMessageReachesItsQueue() {
        declareDelayed("delayed", "direct", true);
        f.durableQueue(ch, "q");
        f.topology.bindQueue(ch, "q", "delayed", "k", NO_ARGS);
        Message m = new Message("delayed", "k", BrokerFixture.TextProperties.withExpiration("500"),
                Map.of("x-delay", 1000), true, 500, "m".getBytes(StandardCharsets.UTF_8));
        broker.publish(ch, "delayed", "k", m, 0);

        broker.tick(1000);
        assertThat(f.queueState("q").readySnapshot()).extracting(QueueEntry::expiresAtMillis)
                .containsExactly(1500L);
    }

    @Test
    void deletingTheExchangeDropsWhatItHolds() {
        declareDelayed("delayed", "direct", true);
        f.durableQueue(ch, "q");
        f.topology.bindQueue(ch, "q", "delayed", "k", NO_ARGS);
        publishDelayed("k", "m", 1000, 0);

        f.topology.deleteExchange(ch, "delayed", false);
        assertThat(broker.delayedMessages().heldCount()).isZero();
        assertThat(store.live(HOLDING)).isEmpty();
        declareDelayed("delayed", "direct", true);
        f.topology.bindQueue(ch, "q", "delayed", "k", NO_ARGS);
        broker.tick(5000);

        assertThat(f.ready("q")).isEmpty();
        assertThat(store.events(Kind.REMOVED)).extracting(Event::queue).containsExactly(HOLDING);
        assertThat(store.problems).isEmpty();
    }

    @Test
    void aMessageDeadLetteredToADelayedExchangeIsHeldForItsDelay() {
        declareDelayed("delayed", "direct", true);
        f.topology.declareQueue(ch, "work", false, true, false, false, Map.of("x-dead-letter-exchange", "delayed"));
        f.durableQueue(ch, "retry");
        f.topology.bindQueue(ch, "retry", "delayed", "work", NO_ARGS);
        publish("", "work", "m", Map.of("x-delay", 1000), 0);

        Broker.GetResult got = broker.get(ch, "work", false, 100);
        broker.reject(ch, got.deliveryTag(), false, false);
        assertThat(f.ready("retry")).isEmpty();
        assertThat(store.live(HOLDING)).containsExactly("m");
        assertThat(store.events).extracting(Event::kind, Event::queue).endsWith(
                org.assertj.core.groups.Tuple.tuple(Kind.ENQUEUED, HOLDING),
                org.assertj.core.groups.Tuple.tuple(Kind.REMOVED, "work"));
        broker.tick(1099);
        assertThat(f.ready("retry")).isEmpty();
        broker.tick(1100);

        assertThat(f.ready("retry")).containsExactly("m");
        assertThat(store.problems).isEmpty();
    }

    @Test
    void aDeclarationWithoutAUsableDelayedTypeIsRefusedNamingTheArgument() {
        for (Map<String, Object> args : List.<Map<String, Object>>of(NO_ARGS, Map.of("x-delayed-type", "nonsense"),
                Map.of("x-delayed-type", 42), Map.of("x-delayed-type", "x-delayed-message"))) {
            BrokerException e = catchThrowableOfType(BrokerException.class, () -> f.topology.declareExchange(ch,
                    "bad", "x-delayed-message", false, true, false, false, args));
            assertThat(e).as("arguments %s", args).isNotNull();
            assertThat(e.code()).isEqualTo(ErrorCode.PRECONDITION_FAILED);
            assertThat(e.getMessage()).contains("'x-delayed-type'");
        }
        assertThat(broker.virtualHost("/").exchange("bad")).isNull();
    }

    @Test
    void redeclaringEquivalentlyWorksAndAnotherTypeIsRefused() {
        declareDelayed("delayed", "direct", true);
        declareDelayed("delayed", "direct", true);
        assertThat(replyCode(() -> f.exchange(ch, "delayed", "direct"))).isEqualTo(406);
        assertThat(broker.virtualHost("/").exchange("delayed").type().wireName()).isEqualTo("x-delayed-message");
    }

    @Test
    void aNameTooLongForTheStoreIsRefused() {
        Map<String, Object> args = new HashMap<>();
        args.put("x-delayed-type", "direct");
        String name = "x".repeat(250);
        assertThat(replyCode(() -> f.topology.declareExchange(ch, name, "x-delayed-message", false, true, false,
                false, args))).isEqualTo(406);
    }
}
