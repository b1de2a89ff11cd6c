package io.holdfast.core;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Messages into queues and out to consumers: enqueueing what was routed (within each queue's TTL and length
 * limit), which queues may have something to deliver, round-robin to their consumers, basic.get, the prefetch
 * credit an unacked delivery holds, and what becomes of a delivery that comes back unsettled (requeued,
 * dead-lettered or quarantined).
 *
 * <p>Part of the {@link Broker} state machine: broker thread only, time from the broker's clock.
 */
final class Deliveries {
    private final Broker broker;
    private final DeadLetters deadLetters;
    private final Quarantine quarantine;
    /** Queues that may be able to deliver, in the order they became so. */
    private final Set<Queue> toDispatch = new LinkedHashSet<>();
    /** Of those, queues that took back requeued messages: their length limit is applied before they deliver. */
    private final Set<Queue> requeuedInto = new HashSet<>();
    /**
     * Queues whose head (the head of a priority, on a priority queue) has an expiry, and the earliest of those
     * expiries: what {@link #expireDue} looks at. Every path that gives a queue a new head notes it here.
     */
    private final Set<Queue> expiring = new LinkedHashSet<>();
    private long expiryDueMillis = Long.MAX_VALUE;

    Deliveries(Broker broker, DeadLetters deadLetters, Quarantine quarantine) {
        this.broker = broker;
        this.deadLetters = deadLetters;
        this.quarantine = quarantine;
    }

    /** Marks {@code q} for the next {@link #dispatch()}. */
    void schedule(Queue q) {
        toDispatch.add(q);
    }

    /** Delivers from every marked queue, including those marked on the way, until none is left. */
    void dispatch() {
        while (!toDispatch.isEmpty()) {
            var it = toDispatch.iterator();
            Queue q = it.next();
            it.remove();
            if (!q.deleted && !requeuedInto.isEmpty() && requeuedInto.remove(q)) {
                dropOverLimit(q);
            }
            if (!q.deleted) {
                dispatch(q);
            }
        }
    }

    /**
     * Enqueues {@code message} on each of {@code targets} that takes it, for a publish or a dead-lettered copy;
     * returns how many refused it. A queue full with reject-publish refuses it (dead-lettering it with
     * reject-publish-dlx); otherwise, after deliveries to waiting consumers when {@code dispatchFirst}, a
     * TTL 0 message nobody took expires and drop-head makes room. What leaves this way is dead-lettered when
     * its queue says so. Queues with new messages are left for the caller's {@link #dispatch()}.
     */
    int enqueueRouted(Set<Queue> targets, Message message, boolean dispatchFirst) {
        List<Queue> took = new ArrayList<>(targets.size());
        List<QueueEntry> entries = new ArrayList<>(targets.size());
        int duplicates = 0;
        int handedOff = 0;
        for (Queue q : targets) {
            if (broker.replicated(q)) {
                broker.replicatedQueues().enqueue(q, message); // its replicas decide; a refusal comes back as a nack
                handedOff++;
                continue;
            }
            expireHead(q); // expired messages must not count against a length limit
            if (broker.deduplication().duplicate(q, message)) {
                duplicates++; // x-message-deduplication: taken already, so neither enqueued nor refused
                continue;
            }
            if (q.rejects(message)) {
                if (q.deadLettersRefused()) {
                    deadLetters.refused(q, message);
                }
                continue;
            }
            QueueEntry e = q.enqueue(message, broker.nextSeq(), broker.clockMillis(), broker.rewriter());
            noteExpiry(q, e.expiresAtMillis);
            broker.deduplication().remember(q, message, e); // before the store's enqueue record
            if (q.stores(message)) {
                broker.store().enqueued(q, e);
            }
            toDispatch.add(q);
            took.add(q);
            entries.add(e);
        }
        if (dispatchFirst) {
            dispatch();
        }
        for (int i = 0; i < took.size(); i++) {
            Queue q = took.get(i);
            QueueEntry fresh = entries.get(i);
            if (!q.deleted && fresh.expiresAtMillis <= broker.clockMillis() && q.withdrawNewest(fresh)) {
                deadLetters.remove(q, fresh, DeadLetters.Reason.EXPIRED); // TTL 0 and no consumer took it
            }
            if (!q.deleted) {
                dropOverLimit(q);
            }
        }
        return targets.size() - took.size() - duplicates - handedOff;
    }

    /**
     * drop-head: ready messages leave from the head (dead-lettered when the queue says so) until the queue is
     * within its limits; after a publish, and, as RabbitMQ's requeue does, after messages came back.
     */
    private void dropOverLimit(Queue q) {
        List<QueueEntry> dropped = q.dropOverLimit();
        for (QueueEntry e : dropped) {
            deadLetters.remove(q, e, DeadLetters.Reason.MAXLEN);
        }
        if (!dropped.isEmpty()) {
            expireHead(q); // a new head, which may have expired already (RabbitMQ drops expired ones here too)
        }
    }

    /**
     * Each ready message goes to the next consumer in turn of the highest priority that has one which can take
     * it (see {@link QueueConsumers}); one found unable to take is set aside until it may take again. A
     * single-active-consumer queue gives messages only to its first registered consumer, as long as that one
     * has credit.
     */
    private void dispatch(Queue q) {
        if (q.singleActiveConsumer()) {
            Consumer active = q.activeConsumer();
            while (active != null && expireHead(q) && active.canTake() && headReadable(q)) {
                deliver(q, active);
            }
            return;
        }
        Consumer c;
        while (!q.consumers.isEmpty() && expireHead(q) && (c = q.consumers.next()) != null) {
            if (!c.canTake()) {
                q.consumers.block(c);
                continue;
            }
            if (!headReadable(q)) {
                return; // the store is reading it; Broker#readable dispatches the queue again
            }
            q.consumers.delivered(c);
            deliver(q, c);
        }
    }

    /** The head of {@code q} (which has one) is in memory, or its store can give it without waiting for the disk. */
    private boolean headReadable(Queue q) {
        QueueEntry head = q.peek();
        return head.message != null || broker.store().readable(q, head);
    }

    /** {@code c} may be able to take again: back in its queue's turn, and its queue is dispatched. */
    void wake(Consumer c) {
        c.queue.consumers.unblock(c);
        toDispatch.add(c.queue);
    }

    /** Every consumer of {@code ch} may be able to take again (the channel is writable, its prefetch changed). */
    void wakeAll(ChannelState ch) {
        for (Consumer c : ch.consumers.values()) {
            wake(c);
        }
    }

    /** Sends the queue's next ready message to {@code c}, which has credit for it. */
    private void deliver(Queue q, Consumer c) {
        QueueEntry e = q.poll();
        Message m = broker.messageOf(q, e);
        if (m == null) {
            return; // unreadable: dropped, the caller's loop offers the next one
        }
        long tag = c.channel.nextDeliveryTag++;
        boolean redelivered = e.redelivered;
        e.deliveryCount++;
        q.countDelivery(redelivered);
        if (c.noAck) {
            broker.settle(q, e);
        } else {
            c.channel.unacked.put(tag, new ChannelState.Unacked(q, e, c, broker.clockMillis()));
            c.unacked++;
            c.channel.consumerUnacked++;
            q.markUnacked(e);
        }
        c.channel.output.deliver(c.tag, tag, redelivered, e, m);
    }

    /**
     * Drops (or dead-letters) the expired messages at the head of {@code q}; true if a live ready message
     * remains. The live head's expiry is noted for {@link #expireDue}.
     */
    boolean expireHead(Queue q) {
        for (QueueEntry e : q.dropExpired(broker.clockMillis())) {
            deadLetters.remove(q, e, DeadLetters.Reason.EXPIRED);
        }
        noteExpiry(q, q.headExpiresAtMillis());
        return q.hasReady();
    }

    /** {@code q} has a new head (or head of a priority) that expires at {@code expiresAtMillis}. */
    void noteExpiry(Queue q, long expiresAtMillis) {
        if (expiresAtMillis != QueueEntry.NEVER) {
            expiring.add(q);
            // An entry is expired once the clock is past its expiry (see QueueEntry#expired).
            expiryDueMillis = Math.min(expiryDueMillis, expiresAtMillis + 1);
        }
    }

    /** The earliest time a queue head is expired, as far as noted; Long.MAX_VALUE when none has an expiry. */
    long expiryDueMillis() {
        return expiryDueMillis;
    }

    /** Forgets what was noted, for {@link Broker#tick}, which visits every queue's head and notes them again. */
    void renoteExpiries() {
        expiring.clear();
        expiryDueMillis = Long.MAX_VALUE;
    }

    /**
     * Once the broker's clock has reached {@link #expiryDueMillis}: the queues whose heads have expiries drop the
     * expired ones (dead-lettered when they say so), and note their next. Queues whose head then has none leave
     * the set, to be noted again when they get a head that has one.
     */
    void expireDue() {
        if (broker.clockMillis() < expiryDueMillis) {
            return;
        }
        List<Queue> due = new ArrayList<>(expiring);
        renoteExpiries();
        for (Queue q : due) {
            if (!q.deleted) {
                expireHead(q);
            }
        }
    }

    /** basic.get from {@code q}, for {@link Broker#get}: null when it has no ready message that is not expired. */
    Broker.GetResult get(ChannelState ch, Queue q, boolean noAck) {
        QueueEntry e;
        Message m;
        do {
            expireHead(q);
            e = q.poll();
            if (e == null) {
                return null;
            }
            m = broker.messageOf(q, e);
        } while (m == null);
        long tag = ch.nextDeliveryTag++;
        boolean redelivered = e.redelivered;
        e.deliveryCount++;
        q.countDelivery(redelivered);
        if (noAck) {
            broker.settle(q, e);
        } else {
            ch.unacked.put(tag, new ChannelState.Unacked(q, e, null, broker.clockMillis()));
            q.markUnacked(e);
        }
        expireHead(q); // as RabbitMQ's fetch: what expired behind it goes now, and the count leaves it out
        dispatch(); // to the queues that took what expired on the way, when dead-lettered
        return new Broker.GetResult(tag, redelivered, e, m, q.readyCount());
    }

    /** Takes the deliveries an ack or reject names off the channel, giving back their credit. */
    List<ChannelState.Unacked> takeUnacked(ChannelState ch, long deliveryTag, boolean multiple) {
        List<ChannelState.Unacked> out = new ArrayList<>(named(ch, deliveryTag, multiple).values());
        out.forEach(this::release);
        return out;
    }

    /**
     * Takes the deliveries an ack or reject names off the channel's unacked set, by tag in tag order, keeping
     * their credit; refused with 406, changing nothing, when the tag is not unacked.
     */
    LinkedHashMap<Long, ChannelState.Unacked> named(ChannelState ch, long deliveryTag, boolean multiple) {
        LinkedHashMap<Long, ChannelState.Unacked> out = new LinkedHashMap<>();
        if (multiple) {
            // As RabbitMQ: "up to and including" needs the named tag itself to be unacked (0 means all).
            if (deliveryTag != 0 && !ch.unacked.containsKey(deliveryTag)) {
                throw BrokerException.precondition("unknown delivery tag " + deliveryTag);
            }
            var it = ch.unacked.entrySet().iterator();
            while (it.hasNext()) {
                var e = it.next();
                if (deliveryTag != 0 && e.getKey() > deliveryTag) {
                    break;
                }
                out.put(e.getKey(), e.getValue());
                it.remove();
            }
        } else {
            ChannelState.Unacked u = ch.unacked.remove(deliveryTag);
            if (u == null) {
                throw BrokerException.precondition("unknown delivery tag " + deliveryTag);
            }
            out.put(deliveryTag, u);
        }
        return out;
    }

    /** The deliveries held by an open transaction are unacked again, the set kept in tag order (see {@link TxSettlements}). */
    void unhold(ChannelState ch) {
        if (ch.heldForTx.isEmpty()) {
            return;
        }
        var merged = new java.util.TreeMap<Long, ChannelState.Unacked>(ch.unacked);
        merged.putAll(ch.heldForTx);
        ch.heldForTx.clear();
        ch.unacked.clear();
        ch.unacked.putAll(merged);
    }

    /** Every unacked delivery of the channel goes back to its queue (recover, or the channel closed). */
    void returnAll(ChannelState ch) {
        List<ChannelState.Unacked> all = new ArrayList<>(ch.unacked.values());
        ch.unacked.clear();
        for (ChannelState.Unacked u : all) {
            release(u);
            returnToQueue(u.queue(), u.entry());
        }
    }

    /** Gives back the prefetch credit an unacked delivery held. */
    void release(ChannelState.Unacked u) {
        u.queue().unmarkUnacked(u.entry());
        Consumer c = u.consumer();
        if (c != null) {
            c.unacked--;
            ChannelState ch = c.channel;
            ch.consumerUnacked--;
            if (ch.prefetchGlobal != 0 && ch.consumerUnacked == ch.prefetchGlobal - 1) {
                // The channel just went below its shared limit: any of its consumers may take now, whatever
                // its queue, even when the delivery was made to a consumer since cancelled.
                wakeAll(ch);
            } else if (ch.consumers.get(c.tag) == c) {
                wake(c);
            }
        }
    }

    /**
     * A delivery comes back unsettled (nack/reject with requeue, channel or connection closed, recover,
     * consumer timeout): it goes back to its position, flagged redelivered, unless it went over its queue's
     * {@code x-delivery-limit}.
     *
     * <p>The limit, as in RabbitMQ 3.x quorum queues: with {@code x-delivery-limit} N a message may be
     * delivered N+1 times; when it comes back and its delivery count (deliveries made, this one included)
     * is greater than N, it is not requeued but dead-lettered (reason {@code delivery_limit}) when its queue has
     * an {@code x-dead-letter-exchange}, else moved to the vhost's {@link Broker#QUARANTINE_QUEUE} (see
     * {@link Quarantine}). N = 0 means the first return quarantines it; with N = 3 the deliveries carry no
     * {@code x-delivery-count}, then 1, 2, 3, and the fourth one's return quarantines it. The quarantine queue
     * itself never quarantines.
     *
     * <p>With {@code x-redelivery-backoff} a message within the limit is held back for its delay first (see
     * {@link RedeliveryHolds}).
     */
    void returnToQueue(Queue q, QueueEntry e) {
        if (q.deleted) {
            return; // settled when its queue was deleted
        }
        long limit = q.deliveryLimit();
        if (limit >= 0 && e.deliveryCount > limit && !q.name().equals(Broker.QUARANTINE_QUEUE)) {
            if (q.deadLetterExchange() != null) {
                deadLetters.remove(q, e, DeadLetters.Reason.DELIVERY_LIMIT);
            } else {
                Queue target = quarantine.move(q, e);
                if (target != null) {
                    toDispatch.add(target);
                }
            }
            return;
        }
        if (broker.holds().hold(q, e)) {
            return; // x-redelivery-backoff: back at its position once its delay is over
        }
        q.requeue(e);
        noteExpiry(q, e.expiresAtMillis);
        if (q.stores(e)) {
            broker.store().returned(q, e); // the delivery count survives a crash
        }
        toDispatch.add(q);
        requeuedInto.add(q); // its length limit applies once everything returning with e is back
    }
}
