package io.holdfast.core;

/**
 * The seam between queues and durable storage. The core calls it, on the broker thread, for every
 * persistent message that enters or leaves a durable queue, in the order the queue changes; the
 * implementation appends records and must not block for long. {@link #NONE} keeps everything in
 * memory.
 */
public interface MessageStore {
    /** A persistent message was enqueued on a durable queue. */
    void enqueued(Queue queue, QueueEntry entry);

    /** The entry left the queue for good (acked, purged, dropped by a length limit, expired, queue deleted). */
    void removed(Queue queue, QueueEntry entry);

    MessageStore NONE = new MessageStore() {
        @Override public void enqueued(Queue queue, QueueEntry entry) {}

        @Override public void removed(Queue queue, QueueEntry entry) {}
    };
}
