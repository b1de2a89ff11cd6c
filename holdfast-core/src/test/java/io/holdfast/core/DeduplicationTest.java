package io.holdfast.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@code x-message-deduplication}: a message whose id its queue remembers is not enqueued again. */
class DeduplicationTest {
    /** Properties are the text {@code id=X} or nothing. */
    static final class IdProperties implements PropertiesRewriter {
        int decoded;

        @Override
        public String expiration(byte[] properties) {
            return null;
        }

        @Override
        public byte[] deadLettered(byte[] properties, Map<String, Object> headers) {
            return properties;
        }

        @Override
        public String messageId(byte[] properties) {
            decoded++;
            String text = new String(properties, StandardCharsets.UTF_8);
            return text.startsWith("id=") ? text.substring(3) : null;
        }
    }

    /** Records what the core tells the store of ids; holds messages in memory. */
    static final class IdStore implements MessageStore {
        final List<String> calls = new ArrayList<>();
        long nextRef = 100;

        @Override public void enqueued(Queue queue, QueueEntry entry) {
            calls.add("enqueued " + entry.seq());
        }

        @Override public void removed(Queue queue, QueueEntry entry) {}

        @Override public void returned(Queue queue, QueueEntry entry) {}

        @Override public Message load(Queue queue, QueueEntry entry) {
            throw new AssertionError("nothing is paged out");
        }

        /** Ids whose write "fails", as on a full disk. */
        final java.util.Set<String> failing = new java.util.HashSet<>();

        @Override public void remembered(Queue queue, Deduplication.Remembered id) {
            if (failing.contains(id.messageId())) {
                id.writeFailed = true;
                calls.add("failed " + id.messageId());
                return;
            }
            id.storeRef = nextRef++;
            calls.add("remembered " + id.messageId() + " seq " + id.seq());
        }

        @Override public void forgotten(Queue queue, Deduplication.Remembered id) {
            calls.add("forgotten " + id.messageId());
        }

        @Override public void duplicate(Queue queue, String messageId) {
            calls.add("duplicate " + messageId);
        }
    }

    private final IdProperties properties = new IdProperties();
    private final IdStore store = new IdStore();
    private final Broker broker = new Broker(store, BrokerFixture.counter(), properties);
    private final ChannelState ch = broker.openChannel(1, 1, "/", new BrokerFixture.RecordingOutput("1/1",
            new ArrayList<>()));

    private void declare(String name, boolean durable, Object window) {
        Map<String, Object> args = new HashMap<>();
        if (window != null) {
            args.put(Deduplication.ARGUMENT, window);
        }
        broker.topology().declareQueue(ch, name, false, durable, false, false, args);
    }

    private Broker.PublishResult publish(String exchange, String key, String id, boolean persistent, long now) {
        byte[] props = id == null ? new byte[0] : ("id=" + id).getBytes(StandardCharsets.UTF_8);
        return broker.publish(ch, exchange, key, new Message(exchange, key, props, Map.of(), persistent,
                Message.NO_EXPIRATION, "body".getBytes(StandardCharsets.UTF_8)), now);
    }

    private int count(String queue) {
        return broker.virtualHost("/").queue(queue).messageCount();
    }

    @Test
    void duplicateWithinACountWindowIsNotEnqueuedButCountsAsRouted() {
        declare("q", false, 2);
        publish("", "q", "a", false, 0);
        Broker.PublishResult again = publish("", "q", "a", false, 0);

        assertThat(again.routedQueues()).isEqualTo(1);
        assertThat(again.rejected()).isFalse();
        assertThat(count("q")).isEqualTo(1);
        assertThat(broker.deduplication().duplicateCount()).isEqualTo(1);
    }

    @Test
    void anIdPushedOutOfTheCountWindowIsEnqueuedAgain() {
        declare("q", false, 2);
        publish("", "q", "a", false, 0);
        publish("", "q", "b", false, 0);
        publish("", "q", "c", false, 0); // a leaves the window
        publish("", "q", "b", false, 0); // still remembered

        assertThat(broker.deduplication().messageIds(broker.virtualHost("/").queue("q"))).containsExactly("b", "c");
        publish("", "q", "a", false, 0);

        assertThat(count("q")).isEqualTo(4);
    }

    @Test
    void aTimeWindowForgetsIdsByTheBrokersClock() {
        declare("q", false, "30s");
        publish("", "q", "a", false, 1_000);
        publish("", "q", "a", false, 30_999);
        assertThat(count("q")).isEqualTo(1);

        publish("", "q", "a", false, 31_000);
        assertThat(count("q")).isEqualTo(2);
    }

    @Test
    void tickForgetsIdsPastATimeWindowAndTellsTheStore() {
        declare("q", true, "500ms");
        publish("", "q", "a", true, 0);
        broker.tick(499);
        assertThat(store.calls).doesNotContain("forgotten a");

        broker.tick(500);
        assertThat(store.calls).contains("forgotten a");
        assertThat(broker.deduplication().messageIds(broker.virtualHost("/").queue("q"))).isEmpty();
    }

    @Test
    void messagesWithoutAMessageIdAreAlwaysEnqueued() {
        declare("q", false, 5);
        publish("", "q", null, false, 0);
        publish("", "q", null, false, 0);

        assertThat(count("q")).isEqualTo(2);
    }

    @Test
    void onlyTheQueueWithDeduplicationSkipsAndOthersPayNothing() {
        declare("plain", false, null);
        publish("", "plain", "a", false, 0);
        assertThat(properties.decoded).as("no queue has deduplication: properties are not decoded").isZero();

        declare("dedup", false, 10);
        broker.topology().bindQueue(ch, "plain", "amq.fanout", "", Map.of());
        broker.topology().bindQueue(ch, "dedup", "amq.fanout", "", Map.of());
        publish("amq.fanout", "", "a", false, 0);
        publish("amq.fanout", "", "a", false, 0);

        assertThat(count("dedup")).isEqualTo(1);
        assertThat(count("plain")).isEqualTo(3);
        assertThat(properties.decoded).as("decoded once per publish, not per queue").isEqualTo(2);
    }

    @Test
    void persistentIdsOnADurableQueueGoToTheStoreBeforeTheEnqueue() {
        declare("d", true, 1);
        publish("", "d", "a", true, 0);
        publish("", "d", "a", true, 0);
        publish("", "d", "b", true, 0);
        publish("", "d", "t", false, 0); // transient: remembered in memory only

        assertThat(store.calls).containsExactly("remembered a seq 1", "enqueued 1", "duplicate a",
                "remembered b seq 2", "forgotten a", "enqueued 2", "forgotten b");
    }

    @Test
    void deletingAQueueForgetsItsIds() {
        declare("d", true, 10);
        publish("", "d", "a", true, 0);
        broker.topology().deleteQueue(ch, "d", false, false);

        assertThat(store.calls).endsWith("forgotten a");
        declare("d", true, 10);
        publish("", "d", "a", true, 0);
        assertThat(count("d")).isEqualTo(1);
    }

    @Test
    void badArgumentsAreRefusedNamingTheArgument() {
        for (Object bad : new Object[] {0, -3, "", "10", "5x", "0s", "1.5s", true, 20_000_000L}) {
            BrokerException e = org.assertj.core.api.Assertions.catchThrowableOfType(BrokerException.class,
                    () -> declare("bad", false, bad));
            assertThat(e).as("value %s", bad).isNotNull();
            assertThat(e.code().code()).isEqualTo(406);
            assertThat(e.getMessage()).contains("invalid arg 'x-message-deduplication' for queue");
        }
        assertThat(broker.virtualHost("/").queue("bad")).isNull();
    }

    @Test
    void goodArgumentsAreTakenAndComparedOnRedeclare() {
        for (Object good : new Object[] {1, 100L, "500ms", "30s", "10m", "1h"}) {
            declare("ok-" + good, false, good);
        }
        declare("ok-1", false, 1L); // the same value in another width
        BrokerException e = org.assertj.core.api.Assertions.catchThrowableOfType(BrokerException.class,
                () -> declare("ok-1", false, 2));
        assertThat(e.code().code()).isEqualTo(406);
        assertThat(e.getMessage()).contains("inequivalent arg 'x-message-deduplication'");
    }

    @Test
    void aRestoredWindowIsOrderedByPositionAndBounded() {
        Queue q = broker.topology().restoreQueue("/", "d", false, Map.of(Deduplication.ARGUMENT, 2));
        List<Deduplication.Remembered> kept = broker.deduplication().restore(q, List.of(
                Deduplication.Remembered.recovered("c", 30, 0, 1003),
                Deduplication.Remembered.recovered("a", 10, 0, 1001),
                Deduplication.Remembered.recovered("b", 20, 0, 1002)));
        broker.advanceSequence(30);

        assertThat(kept).extracting(Deduplication.Remembered::messageId).containsExactly("b", "c");
        assertThat(kept).extracting(r -> r.storeRef).containsExactly(1002L, 1003L);
        publish("", "d", "c", true, 0);
        assertThat(count("d")).isZero();
        publish("", "d", "a", true, 0);
        assertThat(count("d")).isEqualTo(1);
        assertThat(store.calls).contains("forgotten b");
    }

    @Test
    void aQueueWithoutTheArgumentRestoresNoIds() {
        Queue q = broker.topology().restoreQueue("/", "plain", false, Map.of());
        assertThat(broker.deduplication().restore(q, List.of(Deduplication.Remembered.recovered("a", 1, 0, 5))))
                .isEmpty();
    }

    @Test
    void aRetryAfterTheOriginalCouldNotBeStoredIsTakenAgain() {
        declare("q", true, 10);
        store.failing.add("a");
        publish("", "q", "a", true, 0); // its write fails: the publisher gets a nack
        store.failing.clear();

        publish("", "q", "a", true, 0);

        assertThat(count("q")).as("the retry is enqueued (and stored) rather than confirmed as a duplicate")
                .isEqualTo(2);
        assertThat(store.calls).containsSubsequence("failed a", "remembered a seq 2");
        publish("", "q", "a", true, 0);
        assertThat(count("q")).as("the stored retry is remembered").isEqualTo(2);
    }

    @Test
    void aTimeWindowIsAlsoCappedInCount() {
        Deduplication.Window w = new Deduplication.Window(-1, 60_000, 3);
        List<Deduplication.Remembered> gone = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            w.add(Deduplication.Remembered.recovered("id" + i, i, 0, -1), gone);
        }

        assertThat(w.ids.keySet()).containsExactly("id2", "id3", "id4");
        assertThat(gone).extracting(Deduplication.Remembered::messageId).containsExactly("id0", "id1");
    }
}
