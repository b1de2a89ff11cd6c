package io.holdfast.server.amqp;

import java.util.ArrayDeque;
import java.util.function.BiConsumer;

/**
 * Publisher confirms for one channel, sent in publish order: a confirm waits until every earlier
 * publish of the channel is settled, so a run of successes becomes one {@code basic.ack multiple}.
 * Broker thread only.
 */
final class ConfirmTracker {
    /** One publish awaiting its confirm. */
    static final class Pending {
        final long seq;
        boolean done;
        boolean ack = true;

        Pending(long seq) {
            this.seq = seq;
        }

        /** The broker refused the message on some queue: its confirm will be a nack. */
        void refuse() {
            ack = false;
        }
    }

    private final ArrayDeque<Pending> outstanding = new ArrayDeque<>();
    private long lastSeq;

    Pending register() {
        Pending p = new Pending(++lastSeq);
        outstanding.addLast(p);
        return p;
    }

    /**
     * Marks a publish settled and sends what can be sent: {@code send.accept(seq, ack)} with acks
     * coalesced (the caller sends basic.ack multiple=true for an ack, basic.nack for a nack).
     */
    void complete(Pending p, boolean ack, BiConsumer<Long, Boolean> send) {
        p.done = true;
        p.ack &= ack;
        long ackUpTo = -1;
        while (!outstanding.isEmpty() && outstanding.peekFirst().done) {
            Pending head = outstanding.pollFirst();
            if (head.ack) {
                ackUpTo = head.seq;
            } else {
                if (ackUpTo >= 0) {
                    send.accept(ackUpTo, true);
                    ackUpTo = -1;
                }
                send.accept(head.seq, false);
            }
        }
        if (ackUpTo >= 0) {
            send.accept(ackUpTo, true);
        }
    }
}
