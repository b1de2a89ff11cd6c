package io.holdfast.core;

/**
 * The seam between queues and durable storage. The core calls it, on the broker thread, for every
 * persistent message that enters or leaves a durable queue, in the order the queue changes; the
 * implementation appends records and must not block for long. {@link #NONE} keeps everything in
 * memory.
 *
 * <p>A store may {@link QueueEntry#pageOut page out} a message it holds durably, to keep memory bounded;
 * the core then asks for it with {@link #load} when it delivers it. A store that reads on another thread says,
 * through {@link #readable}, whether a queue's paged-out head can be loaded without waiting for the disk.
 */
public interface MessageStore {
    /** A persistent message was enqueued on a durable queue. */
    void enqueued(Queue queue, QueueEntry entry);

    /** The entry left the queue for good (acked, purged, dropped by a length limit, expired, queue deleted). */
    void removed(Queue queue, QueueEntry entry);

    /**
     * A delivered entry came back to its queue unsettled; its {@link QueueEntry#deliveryCount()} and
     * redelivered flag changed. The store records them so they survive a crash.
     */
    void returned(Queue queue, QueueEntry entry);

    /**
     * Like {@link #returned}, and the entry is held back by its queue's {@code x-redelivery-backoff} until
     * {@code readyAtMillis} (wall clock): a store that survives restarts records that time too, so that after
     * one the entry is still held back until then (see {@link Topology#restoreEntry(Queue, QueueEntry, long)}).
     */
    default void held(Queue queue, QueueEntry entry, long readyAtMillis) {
        returned(queue, entry);
    }

    /**
     * A message-id entered the {@link Deduplication} window of a durable queue with a persistent message, just
     * before that message's {@link #enqueued}: a store that survives restarts records it (within the command's
     * writes, so the publish's confirm implies it) and keeps the record until {@link #forgotten}.
     */
    default void remembered(Queue queue, Deduplication.Remembered id) {}

    /** The id left its queue's window (it aged out, was pushed out, or the queue was deleted). */
    default void forgotten(Queue queue, Deduplication.Remembered id) {}

    /**
     * A persistent message was not enqueued on a durable queue because the queue remembered its message-id. A
     * store whose writes complete asynchronously makes the command wait for its writes so far, the original's
     * among them (for instance with one small ordered write), so the duplicate's confirm never overtakes it.
     */
    default void duplicate(Queue queue, String messageId) {}

    /**
     * Reads back the message of an entry this store paged out. Returns null if it cannot be read (the
     * stored copy is damaged or the disk failed): the store has logged and counted that, and the core
     * drops the entry rather than deliver something it cannot vouch for.
     */
    Message load(Queue queue, QueueEntry entry);

    /**
     * Whether {@link #load} can give the message of {@code head}, the paged-out entry its queue would deliver
     * next, without waiting for the disk (including when it will answer null for a damaged copy). False when the
     * store is reading it elsewhere: the queue then delivers nothing until the store calls
     * {@link Broker#readable(Queue)}, so order is kept while other queues go on. The default reads in
     * {@link #load}, on the caller's thread.
     */
    default boolean readable(Queue queue, QueueEntry head) {
        return true;
    }

    /**
     * Where durable plain queues page the index of a long backlog's middle out (see {@link ReadyEntries}), or null
     * (the default) to keep every entry in memory.
     */
    default IndexPages indexPages() {
        return null;
    }

    MessageStore NONE = new MessageStore() {
        @Override public void enqueued(Queue queue, QueueEntry entry) {}

        @Override public void removed(Queue queue, QueueEntry entry) {}

        @Override public void returned(Queue queue, QueueEntry entry) {}

        @Override public Message load(Queue queue, QueueEntry entry) {
            throw new IllegalStateException("nothing is paged out without a store");
        }
    };
}
