package io.holdfast.core;

/**
 * What the core sends to one client channel. Implemented by the session layer; called only on the
 * broker thread, and must not block (it queues frames for the network).
 */
public interface ChannelOutput {
    /** basic.deliver to a consumer of {@code message}, the entry's message (read back if it was paged out). */
    void deliver(String consumerTag, long deliveryTag, boolean redelivered, QueueEntry entry, Message message);

    /**
     * basic.deliver of a direct reply-to reply (see {@link DirectReplyTo}) to the channel's reply consumer:
     * never redelivered, never acked; {@code reply} goes out as published (exchange, routing key, properties).
     */
    void deliverReply(String consumerTag, long deliveryTag, Message reply);

    /** Server-sent basic.cancel: the consumer's queue went away, or its consumer timeout ran out. */
    void consumerCancelled(String consumerTag);

    /**
     * A delivery on this channel stayed unacked longer than {@code timeoutMillis} under
     * {@link ConsumerTimeoutAction#CLOSE_CHANNEL}. The core has already closed the channel's state (its
     * unacked deliveries are back in their queues); the session sends channel.close with 406.
     */
    void timedOut(long timeoutMillis);

    /** False while the client is not reading fast enough: the core stops delivering to it. */
    boolean writable();
}
