package io.holdfast.core;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The vhost's {@link Broker#QUARANTINE_QUEUE}, for messages that went over their queue's
 * {@code x-delivery-limit} when it has no {@code x-dead-letter-exchange}, and the operator's way back out of it.
 *
 * <p>The move keeps the message (exchange, routing key, properties, body, persistence) and its delivery
 * count, and adds two headers: {@value #QUEUE_HEADER} (the queue it came from) and {@value #REASON_HEADER}
 * ({@code delivery_limit}, RabbitMQ's {@code x-death} reason for it). The copy is flagged redelivered and never
 * expires. The copy enters the quarantine queue (and the store, if the quarantine queue stores it) first, then
 * the entry is settled from its queue: a crash in between leaves a duplicate, never a loss.
 *
 * <p>{@link #republish} sends messages back to the queue they came from in the same order: the copy is enqueued
 * there (and its store record written) before the quarantined entry is settled, so a crash in between leaves the
 * message in both, never in neither. The copy keeps every header, the two above included, so a consumer can tell
 * a message that came back from quarantine (and, after such a crash, may come twice).
 *
 * <p>Part of the {@link Broker} state machine: broker thread only, time from the broker's clock.
 */
final class Quarantine {
    /** The header naming the queue a quarantined message came from. */
    static final String QUEUE_HEADER = "x-quarantine-queue";
    /** The header saying why it was quarantined. */
    static final String REASON_HEADER = "x-quarantine-reason";
    private static final String DELIVERY_LIMIT = "delivery_limit";

    private final Broker broker;
    private long quarantinedCount;
    private Broker.QuarantineListener listener = (source, entry, quarantine) -> { };
    /** Set in a broker that hands quarantined messages out instead of keeping them (see {@link QuorumQueue}). */
    private Broker.DeadLetterHandoff handoff;

    Quarantine(Broker broker) {
        this.broker = broker;
    }

    void listener(Broker.QuarantineListener listener) {
        this.listener = listener;
    }

    void handoff(Broker.DeadLetterHandoff handoff) {
        this.handoff = handoff;
    }

    /** Messages moved to the quarantine queue since the broker started. */
    long quarantinedCount() {
        return quarantinedCount;
    }

    /**
     * Moves the entry from {@code source} to its vhost's quarantine queue, creating that queue on first use;
     * returns the quarantine queue, for the caller to dispatch, or null if the message was unreadable (and so
     * already dropped) or handed out (see {@link Broker.DeadLetterHandoff}).
     */
    Queue move(Queue source, QueueEntry e) {
        if (handoff != null) {
            Message m = broker.messageOf(source, e);
            if (m != null) {
                handoff.quarantined(source, m, e.deliveryCount);
                broker.settle(source, e);
                quarantinedCount++;
            }
            return null; // the node carrying out the effects puts it in its vhost's quarantine queue
        }
        Message m = broker.messageOf(source, e);
        if (m == null) {
            return null; // unreadable: already dropped
        }
        Queue quarantine = admit(source, m, e.deliveryCount);
        broker.settle(source, e);
        return quarantine;
    }

    /**
     * Puts a copy of {@code m}, which left {@code source} after {@code deliveryCount} deliveries, at the tail of the
     * vhost's quarantine queue (made on first use, and stored if it stores the copy); returns that queue.
     */
    Queue admit(Queue source, Message m, int deliveryCount) {
        VirtualHost v = broker.requireVhost(source.vhost());
        Queue quarantine = v.queue(Broker.QUARANTINE_QUEUE);
        if (quarantine == null) {
            quarantine = new Queue(v.name(), Broker.QUARANTINE_QUEUE, true, false, false, Map.of(), -1);
            quarantine.used(broker.clockMillis());
            v.queues.put(Broker.QUARANTINE_QUEUE, quarantine);
            broker.durableTopologyChanged();
        }
        Map<String, Object> headers = new LinkedHashMap<>(m.headers());
        headers.put(QUEUE_HEADER, source.name());
        headers.put(REASON_HEADER, DELIVERY_LIMIT);
        Message kept = new Message(m.exchange(), m.routingKey(), broker.rewriter().withHeaders(m.properties(), headers),
                headers, m.persistent(), m.expirationMillis(), m.body());
        QueueEntry copy = new QueueEntry(broker.nextSeq(), kept, true, deliveryCount, broker.clockMillis(),
                QueueEntry.NEVER);
        listener.quarantining(source, copy, quarantine);
        quarantine.restore(copy); // appends at the tail, as a publish would
        if (quarantine.stores(copy)) {
            broker.store().enqueued(quarantine, copy);
        }
        quarantinedCount++;
        return quarantine;
    }

    /**
     * The queue a quarantined message came from: its {@value #QUEUE_HEADER}, or for one quarantined before that
     * header existed and published to the default exchange, its routing key; null if neither says.
     */
    static String sourceQueue(Message m) {
        Object q = m.headers().get(QUEUE_HEADER);
        if (q != null) {
            return String.valueOf(q);
        }
        return m.exchange().isEmpty() ? m.routingKey() : null;
    }

    private static String reason(Message m) {
        Object r = m.headers().get(REASON_HEADER);
        return r == null ? DELIVERY_LIMIT : String.valueOf(r);
    }

    /**
     * Up to {@code max} ready quarantined messages of {@code vhost}, oldest first, only those from
     * {@code fromQueue} unless it is null. Reads each message it passes (from the store if paged out).
     */
    List<Broker.Quarantined> list(String vhost, String fromQueue, int max) {
        List<Broker.Quarantined> out = new ArrayList<>();
        scan(vhost, fromQueue, (e, m) -> {
            out.add(new Broker.Quarantined(e.seq, sourceQueue(m), reason(m), e.deliveryCount, m));
            return out.size() < max;
        }, max > 0);
        return out;
    }

    /** How many ready quarantined messages of {@code vhost} came from {@code fromQueue}. Reads each message. */
    int count(String vhost, String fromQueue) {
        int[] n = {0};
        scan(vhost, fromQueue, (e, m) -> {
            n[0]++;
            return true;
        }, true);
        return n[0];
    }

    /**
     * Shows {@code visit} the ready quarantined messages of {@code vhost} from {@code fromQueue} (all if null), oldest
     * first, until it answers false; an unreadable one is dropped on the way (as every read of it does).
     */
    private void scan(String vhost, String fromQueue, java.util.function.BiPredicate<QueueEntry, Message> visit,
                      boolean go) {
        Queue q = broker.requireVhost(vhost).queue(Broker.QUARANTINE_QUEUE);
        if (q == null) {
            return;
        }
        long after = 0;
        List<QueueEntry> page;
        while (go && !(page = q.readyAfter(after, 1000)).isEmpty()) {
            List<QueueEntry> unreadable = new ArrayList<>();
            for (QueueEntry e : page) {
                after = e.seq;
                Message m = broker.messageOf(q, e);
                if (m == null) {
                    unreadable.add(e);
                } else if (go && (fromQueue == null || fromQueue.equals(sourceQueue(m)))) {
                    go = visit.test(e, m);
                }
            }
            unreadable.forEach(q::removeReady); // settled by messageOf already
        }
    }

    /**
     * One step of a republish: looks at up to {@code examineMax} ready quarantined messages after position
     * {@code afterSeq} and sends back those from {@code fromQueue} (every one if null), at most
     * {@code republishMax}, each to the queue it came from. One whose queue no longer exists, or refuses it
     * (full with {@code reject-publish}), stays in quarantine. The caller dispatches.
     */
    Broker.Republished republish(String vhost, String fromQueue, long afterSeq, int examineMax, int republishMax) {
        VirtualHost v = broker.requireVhost(vhost);
        Queue q = v.queue(Broker.QUARANTINE_QUEUE);
        if (q == null) {
            return new Broker.Republished(0, 0, afterSeq, 0);
        }
        int republished = 0;
        int stayed = 0;
        long next = afterSeq;
        List<QueueEntry> unreadable = new ArrayList<>();
        for (QueueEntry e : q.readyAfter(afterSeq, examineMax)) {
            if (republished >= republishMax) {
                break;
            }
            next = e.seq;
            Message m = broker.messageOf(q, e);
            if (m == null) {
                unreadable.add(e);
                continue;
            }
            String source = sourceQueue(m);
            if (fromQueue != null && !fromQueue.equals(source)) {
                continue;
            }
            Queue target = source == null ? null : v.queue(source);
            // The copy is enqueued (its store record written) before the quarantined entry is settled.
            if (target == null || target == q || broker.deliveries().enqueueRouted(Set.of(target), m, false) > 0) {
                stayed++;
                continue;
            }
            q.removeReady(e);
            broker.settle(q, e);
            republished++;
        }
        unreadable.forEach(q::removeReady); // settled by messageOf already
        return new Broker.Republished(republished, stayed, next, q.readyCountAfter(next));
    }
}
