package io.holdfast.server.engine;

import java.util.concurrent.atomic.LongAdder;

/**
 * Broker-wide message counts since start, as RabbitMQ's Prometheus plugin names them
 * ({@code rabbitmq_global_messages_*_total}), and the publisher confirm latency. Written by the broker
 * thread, read by metrics scrapes: any thread.
 */
public final class MessageCounters {
    /** Publishes received. */
    public final LongAdder received = new LongAdder();
    /** Publishes received on channels in confirm mode. */
    public final LongAdder receivedConfirm = new LongAdder();
    /** Publishes routed to at least one queue. */
    public final LongAdder routed = new LongAdder();
    /** Unroutable publishes returned to a mandatory publisher. */
    public final LongAdder unroutableReturned = new LongAdder();
    /** Unroutable publishes dropped (not mandatory). */
    public final LongAdder unroutableDropped = new LongAdder();
    /** Publishes confirmed with basic.ack. */
    public final LongAdder confirmed = new LongAdder();
    /** Messages delivered to consumers or fetched with basic.get. */
    public final LongAdder delivered = new LongAdder();
    /** Deliveries flagged redelivered. */
    public final LongAdder redelivered = new LongAdder();
    /** Messages acknowledged by clients (outside transactions: at their ack). */
    public final LongAdder acknowledged = new LongAdder();

    private volatile ConfirmLatency confirmLatency = nanos -> { };

    /** Where confirm latencies go, publish received to basic.ack sent; set once by the metrics side. */
    public interface ConfirmLatency {
        void record(long nanos);
    }

    public void confirmLatency(ConfirmLatency sink) {
        this.confirmLatency = sink;
    }

    public ConfirmLatency confirmLatency() {
        return confirmLatency;
    }
}
