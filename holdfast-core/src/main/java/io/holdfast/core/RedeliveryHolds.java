package io.holdfast.core;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * Retry with backoff ({@code x-redelivery-backoff}): a delivery that comes back unsettled (nack or reject with
 * requeue, channel or connection closed, recover, consumer timeout) and is not over its
 * {@code x-delivery-limit} is held back for the delay its delivery count calls for, then goes back to its
 * original position in the queue, flagged redelivered, ahead of every later message.
 *
 * <p>Held entries are released when the broker's clock reaches their time: on every {@link Broker#tick} and
 * every {@link Broker#advanceClock} (one comparison when nothing is due). A held message whose TTL runs out
 * is let go at its expiry, as an expired one (dead-lettered when its queue says so), never delivered. The store
 * hears of the ready time ({@link MessageStore#held}), so a held message is still held after a restart.
 *
 * <p>Part of the {@link Broker} state machine: broker thread only, time from the broker's clock.
 */
final class RedeliveryHolds {
    private final Broker broker;
    private final Deliveries deliveries;
    private final DeadLetters deadLetters;
    /** Queues that hold (or held) entries; deleted or emptied ones are dropped on the next release. */
    private final Set<Queue> holding = new LinkedHashSet<>();
    /** The earliest time any held entry is due; Long.MAX_VALUE when none is held. */
    private long nextWakeMillis = Long.MAX_VALUE;

    RedeliveryHolds(Broker broker, Deliveries deliveries, DeadLetters deadLetters) {
        this.broker = broker;
        this.deliveries = deliveries;
        this.deadLetters = deadLetters;
    }

    /**
     * Holds a returned entry back if its queue has a backoff with a delay for it; false (nothing done) when
     * the entry should be requeued at once. The caller has already applied the delivery limit.
     */
    boolean hold(Queue q, QueueEntry e) {
        RedeliveryBackoff backoff = q.redeliveryBackoff();
        if (backoff == null) {
            return false;
        }
        long delay = backoff.delayMillis(e.seq, e.deliveryCount);
        if (delay <= 0) {
            return false;
        }
        long now = broker.clockMillis();
        long readyAt = now > Long.MAX_VALUE - delay ? Long.MAX_VALUE : now + delay;
        e.redelivered = true;
        q.hold(e, readyAt);
        track(q);
        if (q.stores(e)) {
            broker.store().held(q, e, readyAt); // the delivery count and the ready time survive a crash
        }
        return true;
    }

    /** Puts back a recovered entry that was held until {@code readyAtMillis}; call in sequence order. */
    void restore(Queue q, QueueEntry e, long readyAtMillis) {
        q.restoreHeld(e, readyAtMillis);
        track(q);
    }

    /** Puts back an entry held until {@code readyAtMillis}, from a replicated queue's snapshot, in any order. */
    void rehold(Queue q, QueueEntry e, long readyAtMillis) {
        q.hold(e, readyAtMillis);
        track(q);
    }

    /** The earliest time a held entry is due; Long.MAX_VALUE when none is held. */
    long nextWakeMillis() {
        return nextWakeMillis;
    }

    /** True once the clock has reached the earliest held entry's time. */
    boolean due(long nowMillis) {
        return nowMillis >= nextWakeMillis;
    }

    /**
     * Every held entry whose time has come goes back to its position (its queue is marked for the next
     * dispatch), or, if its TTL ran out meanwhile, leaves as expired.
     */
    void releaseDue() {
        long now = broker.clockMillis();
        long next = Long.MAX_VALUE;
        for (Queue q : new ArrayList<>(holding)) {
            if (q.deleted) {
                holding.remove(q); // its held entries were settled with it
                continue;
            }
            boolean released = false;
            for (QueueEntry e : q.takeDueHeld(now)) {
                if (e.removed) {
                    continue;
                }
                if (e.expired(now)) {
                    deadLetters.remove(q, e, DeadLetters.Reason.EXPIRED);
                } else {
                    q.release(e);
                    deliveries.noteExpiry(q, e.expiresAtMillis);
                    released = true;
                }
            }
            if (released) {
                deliveries.schedule(q);
            }
            long wake = q.nextHeldWakeMillis();
            if (wake == Long.MAX_VALUE) {
                holding.remove(q);
            }
            next = Math.min(next, wake);
        }
        nextWakeMillis = next;
    }

    private void track(Queue q) {
        holding.add(q);
        nextWakeMillis = Math.min(nextWakeMillis, q.nextHeldWakeMillis());
    }
}
