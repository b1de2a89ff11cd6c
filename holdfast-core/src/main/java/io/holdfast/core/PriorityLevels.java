package io.holdfast.core;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The ready messages of a priority queue ({@code x-max-priority}): one level per priority 0..max, each
 * ordered as a plain queue is (a deque in enqueue order, with a small sorted map in front for requeued
 * messages, which go back to their original position). The highest non-empty level is offered first; within
 * a level, by position. A message's priority is its {@code priority} property ({@link QueueEntry#priority}),
 * and one above the queue's maximum counts as the maximum, as in RabbitMQ.
 *
 * <p>Why the per-level deque and map work: within a level, delivery always takes the lowest position, so a
 * message coming back to its level precedes every ready message of that level.
 *
 * <p>Only queues with the argument have one (see {@link Queue}); plain queues keep their single deque. Owned
 * by the queue's (the broker) thread.
 */
final class PriorityLevels {
    static final String ARGUMENT = "x-max-priority";
    /** RabbitMQ's limit: the property is an octet. */
    static final int MAX = 255;

    private static final class Level {
        final ArrayDeque<QueueEntry> ready = new ArrayDeque<>();
        final TreeMap<Long, QueueEntry> requeued = new TreeMap<>();

        QueueEntry peek() {
            return requeued.isEmpty() ? ready.peekFirst() : requeued.firstEntry().getValue();
        }

        QueueEntry poll() {
            return requeued.isEmpty() ? ready.pollFirst() : requeued.pollFirstEntry().getValue();
        }

        boolean isEmpty() {
            return requeued.isEmpty() && ready.isEmpty();
        }
    }

    private final Level[] levels;
    private int size;
    /** The highest level that may hold a message: levels above it are empty (saves scanning 255 levels). */
    private int top = -1;

    private PriorityLevels(int maxPriority) {
        levels = new Level[maxPriority + 1];
        for (int i = 0; i < levels.length; i++) {
            levels[i] = new Level();
        }
    }

    /** The levels for a queue's arguments, or null when it is not a priority queue (or, from an old file, invalid). */
    static PriorityLevels of(Map<String, Object> arguments) {
        Object v = arguments.get(ARGUMENT);
        if (!QueueArguments.isIntegral(v)) {
            return null;
        }
        long max = ((Number) v).longValue();
        return max >= 1 && max <= MAX ? new PriorityLevels((int) max) : null;
    }

    /** Refuses an {@code x-max-priority} outside 1..255 with 406, as RabbitMQ does. */
    static void validate(Map<String, Object> arguments) {
        Object v = arguments.get(ARGUMENT);
        if (v == null) {
            return;
        }
        if (!QueueArguments.isIntegral(v)) {
            throw BrokerException.precondition("invalid arg '" + ARGUMENT + "' for queue: expected an integer, got '"
                    + QueueArguments.show(v) + "'");
        }
        long n = ((Number) v).longValue();
        if (n < 1 || n > MAX) {
            throw BrokerException.precondition("invalid arg '" + ARGUMENT + "' for queue: value " + n
                    + " must be between 1 and " + MAX);
        }
    }

    int maxPriority() {
        return levels.length - 1;
    }

    private Level levelOf(QueueEntry e) {
        return levels[Math.min(e.priority(), levels.length - 1)];
    }

    private void grew(QueueEntry e) {
        size++;
        top = Math.max(top, Math.min(e.priority(), levels.length - 1));
    }

    int size() {
        return size;
    }

    boolean isEmpty() {
        return size == 0;
    }

    /** A new or recovered entry goes to the tail of its level. */
    void addLast(QueueEntry e) {
        levelOf(e).ready.addLast(e);
        grew(e);
    }

    /** A delivered entry comes back to its position in its level. */
    void requeue(QueueEntry e) {
        Level l = levelOf(e);
        Preconditions.check(l.ready.isEmpty() || e.seq < l.ready.peekFirst().seq,
                "a requeued entry must precede every ready entry of its level");
        l.requeued.put(e.seq, e);
        grew(e);
    }

    /**
     * A held entry is ready again: after a restart, later entries of its level may precede it in the deque
     * (they came back with the recovery), so they move into the sorted part first, keeping the order.
     */
    void release(QueueEntry e) {
        Level l = levelOf(e);
        while (!l.ready.isEmpty() && l.ready.peekFirst().seq < e.seq) {
            QueueEntry first = l.ready.pollFirst();
            l.requeued.put(first.seq, first);
        }
        requeue(e);
    }

    private Level highest() {
        while (top >= 0 && levels[top].isEmpty()) {
            top--;
        }
        return top < 0 ? null : levels[top];
    }

    /** The next entry in delivery order: the head of the highest non-empty level, or null. */
    QueueEntry peek() {
        Level l = highest();
        return l == null ? null : l.peek();
    }

    /** Takes the next entry in delivery order, or null. */
    QueueEntry poll() {
        Level l = highest();
        if (l == null) {
            return null;
        }
        size--;
        return l.poll();
    }

    /**
     * Takes the expired entries from the head of every level (so an expired low-priority message does not
     * wait behind live higher-priority ones), highest level first.
     */
    List<QueueEntry> dropExpired(long nowMillis) {
        List<QueueEntry> out = List.of();
        for (int i = Math.min(top, levels.length - 1); i >= 0; i--) {
            Level l = levels[i];
            QueueEntry head;
            while ((head = l.peek()) != null && head.expired(nowMillis)) {
                if (out.isEmpty()) {
                    out = new ArrayList<>();
                }
                out.add(l.poll());
                size--;
            }
        }
        return out;
    }

    /** The earliest expiry among the heads of the levels, or {@link QueueEntry#NEVER}. */
    long earliestHeadExpiry() {
        long earliest = QueueEntry.NEVER;
        for (int i = Math.min(top, levels.length - 1); i >= 0; i--) {
            QueueEntry head = levels[i].peek();
            if (head != null && head.expiresAtMillis < earliest) {
                earliest = head.expiresAtMillis;
            }
        }
        return earliest;
    }

    /** Takes {@code e} back if it is still the newest entry of its level; false otherwise. */
    boolean withdrawNewest(QueueEntry e) {
        Level l = levelOf(e);
        if (l.ready.peekLast() != e) {
            return false;
        }
        l.ready.pollLast();
        size--;
        return true;
    }

    /** Every entry in delivery order. */
    /** As {@link #snapshot}, without copying: valid until the levels next change. */
    java.util.Iterator<QueueEntry> inOrder() {
        List<java.util.Iterator<QueueEntry>> parts = new ArrayList<>();
        for (int i = Math.min(top, levels.length - 1); i >= 0; i--) {
            parts.add(levels[i].requeued.values().iterator());
            parts.add(levels[i].ready.iterator());
        }
        return Queue.chain(parts);
    }

    List<QueueEntry> snapshot() {
        List<QueueEntry> out = new ArrayList<>(size);
        for (int i = levels.length - 1; i >= 0; i--) {
            out.addAll(levels[i].requeued.values());
            out.addAll(levels[i].ready);
        }
        return out;
    }

    /** Removes and returns every entry, in delivery order. */
    List<QueueEntry> clear() {
        List<QueueEntry> out = snapshot();
        for (Level l : levels) {
            l.requeued.clear();
            l.ready.clear();
        }
        size = 0;
        top = -1;
        return out;
    }

    void forEach(java.util.function.Consumer<QueueEntry> action) {
        for (int i = levels.length - 1; i >= 0; i--) {
            levels[i].requeued.values().forEach(action);
            levels[i].ready.forEach(action);
        }
    }
}
