package io.holdfast.server.amqp;

import io.holdfast.server.engine.MessageCounters;
import java.util.ArrayDeque;

/**
 * Publisher confirms for one channel, sent in publish order: a confirm waits until every earlier
 * publish of the channel is settled, so a run of successes becomes one {@code basic.ack multiple}. An
 * ack that covers a single message says {@code multiple=false}, as RabbitMQ's do: clients count
 * confirms by it (the Java client's metrics ignore multiple acks). Broker thread only.
 */
final class ConfirmTracker {
    /** Where confirms go: one basic.ack or basic.nack each. */
    interface Sink {
        void confirm(long seq, boolean ack, boolean multiple);
    }

    /** One publish awaiting its confirm. */
    static final class Pending {
        final long seq;
        /** When the publish was received, for the confirm latency. */
        final long receivedNanos = System.nanoTime();
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
    private final MessageCounters counters;
    private long lastSeq;

    ConfirmTracker(MessageCounters counters) {
        this.counters = counters;
    }

    /** Publishes registered and not yet confirmed. */
    int outstanding() {
        return outstanding.size();
    }

    Pending register() {
        Pending p = new Pending(++lastSeq);
        outstanding.addLast(p);
        return p;
    }

    /**
     * Marks a publish settled and sends what can be sent: each run of settled acks as one ack of its
     * last sequence number (multiple when the run holds more than one), each nack alone.
     */
    void complete(Pending p, boolean ack, Sink send) {
        p.done = true;
        p.ack &= ack;
        long ackUpTo = -1;
        int acks = 0;
        while (!outstanding.isEmpty() && outstanding.peekFirst().done) {
            Pending head = outstanding.pollFirst();
            if (head.ack) {
                ackUpTo = head.seq;
                acks++;
                counters.confirmed.increment();
                counters.confirmLatency().record(System.nanoTime() - head.receivedNanos);
            } else {
                if (acks > 0) {
                    send.confirm(ackUpTo, true, acks > 1);
                    acks = 0;
                }
                send.confirm(head.seq, false, false);
            }
        }
        if (acks > 0) {
            send.confirm(ackUpTo, true, acks > 1);
        }
    }
}
