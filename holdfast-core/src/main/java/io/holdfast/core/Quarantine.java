package io.holdfast.core;

import java.util.Map;

/**
 * The vhost's {@link Broker#QUARANTINE_QUEUE}, for messages that went over their queue's
 * {@code x-delivery-limit} when it has no {@code x-dead-letter-exchange}.
 *
 * <p>The move keeps the message (exchange, routing key, properties, body, persistence) and its delivery
 * count; the copy is flagged redelivered and never expires. The copy enters the quarantine queue (and the
 * store, if the quarantine queue stores it) first, then the entry is settled from its queue: a crash in
 * between leaves a duplicate, never a loss.
 *
 * <p>Part of the {@link Broker} state machine: broker thread only, time from the broker's clock.
 */
final class Quarantine {
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
        VirtualHost v = broker.requireVhost(source.vhost());
        Queue quarantine = v.queue(Broker.QUARANTINE_QUEUE);
        if (quarantine == null) {
            quarantine = new Queue(v.name(), Broker.QUARANTINE_QUEUE, true, false, false, Map.of(), -1);
            quarantine.used(broker.clockMillis());
            v.queues.put(Broker.QUARANTINE_QUEUE, quarantine);
            broker.durableTopologyChanged();
        }
        Message m = broker.messageOf(source, e);
        if (m == null) {
            return null; // unreadable: already dropped
        }
        listener.quarantining(source, e, quarantine);
        QueueEntry copy = new QueueEntry(broker.nextSeq(), m, true, e.deliveryCount, broker.clockMillis(),
                QueueEntry.NEVER);
        quarantine.restore(copy); // appends at the tail, as a publish would
        if (quarantine.stores(copy)) {
            broker.store().enqueued(quarantine, copy);
        }
        broker.settle(source, e);
        quarantinedCount++;
        return quarantine;
    }
}
