package io.holdfast.core;

/**
 * What the broker does when a manual-ack delivery stays unacked longer than its consumer timeout
 * ({@code consumer_timeout} in the config, {@code x-consumer-timeout} on the queue).
 */
public enum ConsumerTimeoutAction {
    /**
     * The late consumer is cancelled (server-sent basic.cancel) and its unacked deliveries go back to
     * their queues; the channel and its other consumers go on. Deliveries made by basic.get have no
     * consumer to cancel and are not timed.
     */
    CANCEL_CONSUMER,
    /**
     * RabbitMQ 3.x: the whole channel is closed with 406 and all its unacked deliveries, basic.get ones
     * included, go back to their queues.
     */
    CLOSE_CHANNEL
}
