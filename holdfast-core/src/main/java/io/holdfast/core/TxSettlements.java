package io.holdfast.core;

import java.util.ArrayList;
import java.util.List;

/**
 * Acks, nacks and rejects on a channel in tx mode, as RabbitMQ's channel handles them: the deliveries they name
 * leave the channel's unacked set at once ({@link #hold}), so an unknown or already settled tag is refused with
 * 406 {@code unknown delivery tag N} then and there, and basic.recover no longer redelivers them; they keep their
 * prefetch credit and stay in their queues until tx.commit settles them ({@link #ack}, {@link #reject}). tx.rollback
 * gives them back to the unacked set ({@link #rollback}); a channel that closes returns them to their queues like
 * every other unacked delivery.
 *
 * <p>Part of the {@link Broker} state machine: broker thread only.
 */
public final class TxSettlements {
    /** Deliveries one ack, nack or reject named in an open transaction, in tag order. */
    public static final class Held {
        final List<Long> tags;

        private Held(List<Long> tags) {
            this.tags = tags;
        }
    }

    private final Broker broker;
    private final Deliveries deliveries;

    TxSettlements(Broker broker, Deliveries deliveries) {
        this.broker = broker;
        this.deliveries = deliveries;
    }

    /**
     * An ack, nack or reject in tx mode: takes the deliveries it names off the channel's unacked set now.
     *
     * @throws BrokerException 406 for an unknown tag (never delivered, settled, or held by this transaction
     *                         already), having changed nothing
     */
    public Held hold(ChannelState ch, long deliveryTag, boolean multiple) {
        var named = deliveries.named(ch, deliveryTag, multiple);
        ch.heldForTx.putAll(named);
        return new Held(new ArrayList<>(named.keySet()));
    }

    /** tx.commit of an ack: the held deliveries are settled. */
    public void ack(ChannelState ch, Held held) {
        broker.acked(take(ch, held));
    }

    /** tx.commit of a nack or reject: the held deliveries are requeued, or dropped (dead-lettered). */
    public void reject(ChannelState ch, Held held, boolean requeue) {
        broker.rejected(take(ch, held), requeue);
    }

    /** tx.rollback: every held delivery is unacked again, in tag order, to be acked, rejected or recovered. */
    public void rollback(ChannelState ch) {
        deliveries.unhold(ch);
    }

    private List<ChannelState.Unacked> take(ChannelState ch, Held held) {
        List<ChannelState.Unacked> out = new ArrayList<>(held.tags.size());
        for (long tag : held.tags) {
            ChannelState.Unacked u = ch.heldForTx.remove(tag);
            if (u != null) { // else returned since, by a close (a channel that closes returns what it held)
                deliveries.release(u);
                out.add(u);
            }
        }
        return out;
    }
}
