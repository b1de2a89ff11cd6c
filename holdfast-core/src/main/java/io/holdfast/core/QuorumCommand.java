package io.holdfast.core;

import java.util.List;
import java.util.Objects;

/**
 * What a replicated queue's log holds: every change to a {@link QuorumQueue} is one of these, applied in log order
 * on every replica with the log's time. Immutable values; the cluster module turns them into bytes and back.
 */
public sealed interface QuorumCommand {

    /**
     * One published message and who to confirm it to.
     *
     * @param publisher  the publishing channel, whose node sends basic.ack (or basic.nack) once the command is applied
     * @param publishSeq the channel's publish sequence number (the confirm's delivery tag)
     * @param message    the message; its headers are not replicated (the properties bytes carry them)
     */
    record Publish(RemoteChannel publisher, long publishSeq, Message message) {
        public Publish {
            Objects.requireNonNull(publisher, "publisher");
            Objects.requireNonNull(message, "message");
        }
    }

    /** Messages routed to the queue, in publish order: each is enqueued (or refused) and confirmed. */
    record Enqueue(List<Publish> messages) implements QuorumCommand {
        public Enqueue {
            messages = List.copyOf(messages);
        }
    }

    /**
     * basic.consume on {@code channel}. The consumer's tag is the one the client gave or its node generated (never
     * empty here: names are chosen outside the replicated state).
     *
     * @param prefetch the channel's per-consumer prefetch (basic.qos global=false) when it consumed; 0 for none
     * @param priority {@code x-priority}, 0 when absent
     */
    record Attach(RemoteChannel channel, String tag, int prefetch, boolean noAck, boolean exclusive, int priority)
            implements QuorumCommand {
        public Attach {
            Objects.requireNonNull(channel, "channel");
            Objects.requireNonNull(tag, "tag");
        }
    }

    /** What becomes of the deliveries a {@link Settle} names. */
    enum Disposition {
        /** basic.ack: they leave the queue. */
        ACK,
        /** basic.nack/reject with requeue: back to their positions, redelivered (or over the delivery limit). */
        REQUEUE,
        /** basic.nack/reject without requeue: dead-lettered when the queue says so, else dropped. */
        DISCARD
    }

    /**
     * Settles the channel's delivery {@code deliveryId} (the id in the {@link QuorumEffect.Deliver} effect), or with
     * {@code multiple} every delivery of the queue on that channel up to and including it (0: all of them).
     */
    record Settle(RemoteChannel channel, long deliveryId, boolean multiple, Disposition disposition)
            implements QuorumCommand {
        public Settle {
            Objects.requireNonNull(channel, "channel");
            Objects.requireNonNull(disposition, "disposition");
        }
    }

    /** basic.cancel: the consumer goes; its unacked deliveries stay ackable. */
    record Cancel(RemoteChannel channel, String tag) implements QuorumCommand {}

    /** The channel closed (or its connection): its consumers go, its unacked deliveries come back redelivered. */
    record CloseChannel(RemoteChannel channel) implements QuorumCommand {}

    /** basic.recover with requeue: the channel's unacked deliveries of this queue come back redelivered. */
    record Recover(RemoteChannel channel) implements QuorumCommand {}

    /** The node is gone (or restarted): every channel on it closes, as {@link CloseChannel} each. */
    record NodeDown(String node) implements QuorumCommand {}

    /** queue.purge: the ready and held messages go (not the unacked ones); the outcome counts them. */
    record Purge() implements QuorumCommand {}

    /** basic.get: the next ready message, as a delivery without a consumer tag, or none. */
    record Get(RemoteChannel channel, boolean noAck) implements QuorumCommand {}

    /**
     * Time passes: expired messages leave the head, held-back ones whose backoff is over become ready, late consumers
     * (consumer timeout) are cancelled, and an unused queue with {@code x-expires} expires. The leader submits one
     * every few hundred milliseconds; the time is the log's, never a clock's.
     */
    record Tick() implements QuorumCommand {}
}
