package io.holdfast.core;

/**
 * A message's place in one queue: its position ({@link #seq}, which fixes the order forever) and
 * what the queue knows of its deliveries. Mutable, owned by the queue's thread.
 */
public final class QueueEntry {
    final long seq;
    final Message message;
    boolean redelivered;
    int deliveryCount;
    /** Where the store keeps this entry; opaque to the core (see {@link MessageStore}). */
    public long storeRef = -1;
    /** Set when the entry has left the queue, so late store callbacks can settle it. */
    public boolean removed;

    public QueueEntry(long seq, Message message, boolean redelivered, int deliveryCount) {
        this.seq = seq;
        this.message = message;
        this.redelivered = redelivered;
        this.deliveryCount = deliveryCount;
    }

    public long seq() { return seq; }

    public Message message() { return message; }

    public boolean redelivered() { return redelivered; }

    public int deliveryCount() { return deliveryCount; }
}
