package io.holdfast.core;

import java.util.AbstractCollection;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * A queue's consumers, as RabbitMQ keeps them: in registration order (for single active consumer, exclusive
 * checks and cancellation), and, for delivery, the <em>active</em> ones by {@code x-priority}, highest first,
 * round-robin within a priority. A consumer that cannot take a message (prefetch, channel flow, a client that
 * does not read) is set aside as <em>blocked</em> when delivery finds it so, and put back at the end of its
 * priority when something may have unblocked it ({@link #unblock}); so a delivery looks only at the consumer it
 * gives the message to, or at one it blocks, never at every consumer.
 *
 * <p>Why this order: RabbitMQ's consumer priorities give messages to the highest-priority consumers while they
 * have room, and to lower ones only while every higher one is blocked. Priorities are few (most queues have one),
 * so they are a short list sorted highest first.
 *
 * <p>Owned by the broker thread, like the {@link Queue} it belongs to.
 */
final class QueueConsumers extends AbstractCollection<Consumer> {
    /** The consumers of one priority that may take a message, in round-robin order; {@code count} counts all. */
    private static final class Level {
        final int priority;
        final ArrayDeque<Consumer> active = new ArrayDeque<>();
        int count;

        Level(int priority) {
            this.priority = priority;
        }
    }

    private final ArrayDeque<Consumer> registered = new ArrayDeque<>();
    /** Highest priority first. */
    private final List<Level> levels = new ArrayList<>(1);

    @Override
    public boolean add(Consumer c) {
        registered.addLast(c);
        Level l = level(c.priority, true);
        l.count++;
        c.blocked = false;
        l.active.addLast(c);
        return true;
    }

    @Override
    public boolean remove(Object o) {
        if (!(o instanceof Consumer c) || !registered.remove(c)) {
            return false;
        }
        Level l = level(c.priority, false);
        l.active.remove(c);
        c.blocked = false; // so that a late unblock of a cancelled consumer does nothing
        if (--l.count == 0) {
            levels.remove(l);
        }
        return true;
    }

    @Override
    public void clear() {
        registered.forEach(c -> c.blocked = false);
        registered.clear();
        levels.clear();
    }

    @Override
    public Iterator<Consumer> iterator() {
        return java.util.Collections.unmodifiableCollection(registered).iterator();
    }

    @Override
    public int size() {
        return registered.size();
    }

    @Override
    public boolean isEmpty() {
        return registered.isEmpty();
    }

    /** The earliest registered consumer still consuming, or null. */
    Consumer first() {
        return registered.peekFirst();
    }

    /** The consumer the next message goes to if it can take it: the next in turn of the highest priority with active consumers. */
    Consumer next() {
        for (int i = 0; i < levels.size(); i++) {
            Consumer c = levels.get(i).active.peekFirst();
            if (c != null) {
                return c;
            }
        }
        return null;
    }

    /** {@code c}, just given a message, goes to the end of its priority's turn. */
    void delivered(Consumer c) {
        ArrayDeque<Consumer> active = level(c.priority, false).active;
        if (active.peekFirst() == c) {
            active.pollFirst();
            active.addLast(c);
        }
    }

    /** {@code c}, the {@link #next} consumer, cannot take a message now: it waits aside until {@link #unblock}. */
    void block(Consumer c) {
        Level l = level(c.priority, false);
        if (l.active.peekFirst() == c) {
            l.active.pollFirst();
        } else {
            l.active.remove(c);
        }
        c.blocked = true;
    }

    /** {@code c} may be able to take again (credit came back, the channel is writable): it rejoins at the end of its priority. */
    void unblock(Consumer c) {
        if (c.blocked) {
            c.blocked = false;
            level(c.priority, false).active.addLast(c);
        }
    }

    /** The consumers that may take, in the turn delivery offers them (highest priority first); the rest are blocked. */
    List<Consumer> inTurn() {
        List<Consumer> out = new ArrayList<>();
        for (Level l : levels) {
            out.addAll(l.active);
        }
        return out;
    }

    /** Puts back consumers as {@link #iterator} (registration order) and {@link #inTurn} listed them. */
    void restore(List<Consumer> registeredOrder, List<Consumer> inTurn) {
        Preconditions.check(registered.isEmpty(), "restores into a queue without consumers");
        for (Consumer c : registeredOrder) {
            registered.addLast(c);
            level(c.priority, true).count++;
            c.blocked = true;
        }
        for (Consumer c : inTurn) {
            c.blocked = false;
            level(c.priority, false).active.addLast(c);
        }
    }

    private Level level(int priority, boolean create) {
        int i = 0;
        while (i < levels.size() && levels.get(i).priority > priority) {
            i++;
        }
        if (i < levels.size() && levels.get(i).priority == priority) {
            return levels.get(i);
        }
        Preconditions.check(create, "a registered consumer's priority has a level");
        Level l = new Level(priority);
        levels.add(i, l);
        return l;
    }
}
