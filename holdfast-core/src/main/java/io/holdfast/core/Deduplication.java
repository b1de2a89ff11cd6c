package io.holdfast.core;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;

/**
 * Publisher deduplication, the queue argument {@value #ARGUMENT}: a queue remembers the {@code message-id}s it
 * took within a window, and a message whose id it remembers is not enqueued again (the publish still counts as
 * routed, so its confirm is an ack and a mandatory publish gets no basic.return). A publisher that retries
 * after a lost confirm thus creates no duplicate.
 *
 * <p>The window is either a count, an integer N from 1 to {@value #MAX_COUNT} (the last N distinct ids the
 * queue took), or a duration such as {@code "500ms"}, {@code "30s"}, {@code "10m"}, {@code "1h"} (the ids it took
 * within that long, by the broker's clock). Only messages with a {@code message-id} take part; a duplicate does
 * not renew its id. The check applies to every message that enters the queue: published, released by a delayed
 * exchange, or a dead-lettered copy (as in the RabbitMQ deduplication plugin, whose queue-level check sits in
 * the queue). A message that entered and then left at once (TTL 0, drop-head) still counts as taken.
 *
 * <p>On a durable queue the ids of persistent messages are kept by the store ({@link MessageStore#remembered}
 * before the enqueue, {@link MessageStore#forgotten} when the id leaves the window), so the window survives a
 * restart; a duplicate of a persistent message on a durable queue is reported with
 * {@link MessageStore#duplicate}, so that its confirm never overtakes the original's.
 *
 * <p>Part of the {@link Broker} state machine: broker thread only. The plain publish path pays one
 * {@link Map#isEmpty()} while no queue has deduplication; message properties are decoded (through
 * {@link PropertiesRewriter#messageId}) only for messages routed to a queue that has it.
 */
public final class Deduplication {
    /** The queue argument. */
    public static final String ARGUMENT = "x-message-deduplication";
    /** The largest count window: each id costs memory. */
    public static final long MAX_COUNT = 10_000_000;

    /** One message-id a queue remembers. Mutable only through the store's fields. */
    public static final class Remembered {
        final String messageId;
        final long seq;
        final long timeMillis;
        /** Kept by the store: taken from a persistent message on a durable queue. */
        final boolean stored;
        /** Where the store keeps this id; opaque to the core, -1 for nowhere (yet). */
        public long storeRef = -1;
        /** Set when the id has left its window, so late store callbacks can settle it. */
        public boolean forgotten;
        /**
         * Set by the store when it could not write this id (the original publish was nacked): the id no
         * longer counts, so a retry is taken and stored rather than confirmed as a duplicate of a message
         * held only in memory.
         */
        public boolean writeFailed;

        Remembered(String messageId, long seq, long timeMillis, boolean stored) {
            this.messageId = messageId;
            this.seq = seq;
            this.timeMillis = timeMillis;
            this.stored = stored;
        }

        /** A stored id read back at start-up, for {@link #restore}. */
        public static Remembered recovered(String messageId, long seq, long timeMillis, long storeRef) {
            Remembered r = new Remembered(messageId, seq, timeMillis, true);
            r.storeRef = storeRef;
            return r;
        }

        public String messageId() { return messageId; }

        /** The queue position of the message that brought the id (unique broker-wide; orders a count window). */
        public long seq() { return seq; }

        /** When the queue took it (the broker's clock). */
        public long timeMillis() { return timeMillis; }
    }

    /**
     * A queue's window: ids in the order it took them. A time window also holds at most {@link #MAX_COUNT}
     * ids (the oldest go first), so a fast publisher cannot grow it without bound.
     */
    static final class Window {
        final long maxCount;
        final long maxAgeMillis;
        final LinkedHashMap<String, Remembered> ids = new LinkedHashMap<>();

        Window(long maxCount, long maxAgeMillis) {
            this(maxCount, maxAgeMillis, MAX_COUNT);
        }

        /** {@code cap}: the most ids a time window holds (tests use a small one). */
        Window(long maxCount, long maxAgeMillis, long cap) {
            this.maxCount = maxCount > 0 ? maxCount : cap;
            this.maxAgeMillis = maxAgeMillis;
        }

        /** Drops the ids older than the window; returns them. */
        List<Remembered> expire(long nowMillis, List<Remembered> out) {
            if (maxAgeMillis < 0) {
                return out;
            }
            Iterator<Remembered> it = ids.values().iterator();
            while (it.hasNext()) {
                Remembered r = it.next();
                if (nowMillis - r.timeMillis < maxAgeMillis) {
                    break;
                }
                it.remove();
                out.add(r);
            }
            return out;
        }

        /** Adds {@code r} (whose id is not in the window), then drops the oldest beyond the count. */
        List<Remembered> add(Remembered r, List<Remembered> out) {
            ids.put(r.messageId, r);
            if (maxCount > 0) {
                Iterator<Remembered> it = ids.values().iterator();
                while (ids.size() > maxCount) {
                    out.add(it.next());
                    it.remove();
                }
            }
            return out;
        }
    }

    private final Broker broker;
    private final PropertiesRewriter rewriter;
    private final Map<Queue, Window> windows = new IdentityHashMap<>();
    /** The message whose id was read last, and its id: a message routed to several queues is decoded once. */
    private Message lastMessage;
    private String lastId;
    private long duplicates;

    Deduplication(Broker broker, PropertiesRewriter rewriter) {
        this.broker = broker;
        this.rewriter = rewriter;
    }

    /** Checks the argument: 406 PRECONDITION_FAILED naming it when it is neither a count nor a duration. */
    static void validate(Map<String, Object> args) {
        Object v = args.get(ARGUMENT);
        if (v != null) {
            parse(v);
        }
    }

    /** {@code {maxCount, maxAgeMillis}}, one of them -1. */
    private static long[] parse(Object v) {
        if (QueueArguments.isIntegral(v)) {
            long n = ((Number) v).longValue();
            if (n < 1 || n > MAX_COUNT) {
                throw invalid("a count must be from 1 to " + MAX_COUNT + ", got " + n);
            }
            return new long[] {n, -1};
        }
        if (QueueArguments.isText(v)) {
            long millis = Durations.millis(QueueArguments.show(v).trim(), false);
            if (millis > 0) {
                return new long[] {-1, millis};
            }
        }
        throw invalid("expected a count of message-ids (an integer of at least 1) or a positive duration such as "
                + "'500ms', '30s', '10m' or '1h', got '" + QueueArguments.show(v) + "'");
    }

    private static BrokerException invalid(String why) {
        return BrokerException.precondition("invalid arg '" + ARGUMENT + "' for queue: " + why);
    }

    /** A new or recovered queue: gives it a window if it has the argument (a bad one from old metadata: none). */
    void register(Queue q) {
        Object v = q.arguments().get(ARGUMENT);
        if (v == null || windows.containsKey(q)) {
            return;
        }
        try {
            long[] bounds = parse(v);
            windows.put(q, new Window(bounds[0], bounds[1]));
        } catch (BrokerException e) {
            // validated when declared; an unreadable value from an older metadata file means no deduplication
        }
    }

    /** The queue is deleted: its ids go, and the store forgets them. */
    void deleted(Queue q) {
        Window w = windows.remove(q);
        if (w != null) {
            forget(q, new ArrayList<>(w.ids.values()));
            w.ids.clear();
        }
    }

    /**
     * True if {@code q} remembers {@code m}'s message-id: the caller does not enqueue it. A persistent duplicate
     * on a durable queue is reported to the store, within the publish's command, so its confirm waits for the
     * store's earlier writes (the original's among them).
     */
    boolean duplicate(Queue q, Message m) {
        Window w = windows.isEmpty() ? null : windows.get(q);
        if (w == null) {
            return false;
        }
        String id = messageId(m);
        if (id == null) {
            return false;
        }
        forget(q, w.expire(broker.clockMillis(), new ArrayList<>()));
        Remembered seen = w.ids.get(id);
        if (seen == null) {
            return false;
        }
        if (seen.writeFailed) {
            w.ids.remove(id);
            seen.forgotten = true;
            return false;
        }
        duplicates++;
        if (q.stores(m)) {
            broker.store().duplicate(q, id);
        }
        return true;
    }

    /**
     * {@code q} took {@code m} as {@code e}: it remembers its message-id, and the store hears of it before the
     * enqueue (call this before {@link MessageStore#enqueued}).
     */
    void remember(Queue q, Message m, QueueEntry e) {
        Window w = windows.isEmpty() ? null : windows.get(q);
        if (w == null) {
            return;
        }
        String id = messageId(m);
        if (id == null) {
            return;
        }
        Remembered r = new Remembered(id, e.seq(), broker.clockMillis(), q.stores(m));
        List<Remembered> gone = w.add(r, new ArrayList<>());
        if (r.stored) {
            broker.store().remembered(q, r);
        }
        forget(q, gone);
    }

    /** The clock moved: ids older than their time window leave it. */
    void expire() {
        if (windows.isEmpty()) {
            return;
        }
        List<Remembered> gone = new ArrayList<>();
        for (Map.Entry<Queue, Window> e : windows.entrySet()) {
            e.getValue().expire(broker.clockMillis(), gone);
            forget(e.getKey(), gone);
            gone.clear();
        }
    }

    private void forget(Queue q, List<Remembered> gone) {
        for (Remembered r : gone) {
            r.forgotten = true;
            if (r.stored) {
                broker.store().forgotten(q, r);
            }
        }
    }

    private String messageId(Message m) {
        if (m != lastMessage) {
            lastMessage = m;
            lastId = rewriter.messageId(m.properties());
            if (lastId != null && lastId.isEmpty()) {
                lastId = null; // an empty id identifies nothing
            }
        }
        return lastId;
    }

    /**
     * Puts back the stored ids of a recovered queue, in any order: they are ordered by position and the
     * queue's window bound is applied again (evictions were never recorded). Returns those kept, whose store
     * records the caller must keep; the others are dropped without telling the store. Ids past a time window
     * leave it at the next {@link Broker#tick}.
     */
    public List<Remembered> restore(Queue q, List<Remembered> recovered) {
        register(q);
        Window w = windows.get(q);
        if (w == null) {
            return List.of();
        }
        List<Remembered> sorted = new ArrayList<>(recovered);
        sorted.sort(Comparator.comparingLong(Remembered::seq));
        List<Remembered> dropped = new ArrayList<>();
        for (Remembered r : sorted) {
            Remembered old = w.ids.remove(r.messageId);
            if (old != null) {
                old.forgotten = true;
            }
            w.add(r, dropped);
        }
        dropped.forEach(r -> r.forgotten = true);
        return new ArrayList<>(w.ids.values());
    }

    /** Every id each queue remembers, in window order (for compaction and inspection). */
    public void forEach(BiConsumer<Queue, Remembered> action) {
        windows.forEach((q, w) -> w.ids.values().forEach(r -> action.accept(q, r)));
    }

    /** The ids {@code q} remembers, oldest first (empty without deduplication). */
    public List<String> messageIds(Queue q) {
        Window w = windows.get(q);
        return w == null ? List.of() : List.copyOf(w.ids.keySet());
    }

    /** Messages not enqueued because their queue remembered their id, since this broker started. */
    public long duplicateCount() {
        return duplicates;
    }
}
