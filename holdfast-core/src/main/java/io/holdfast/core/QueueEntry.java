package io.holdfast.core;

/**
 * A message's place in one queue: its position ({@link #seq}, which fixes the order forever) and
 * what the queue knows of its deliveries. Mutable, owned by the queue's thread.
 */
public final class QueueEntry {
    /** {@link #expiresAtMillis} of an entry that never expires. */
    public static final long NEVER = Long.MAX_VALUE;

    final long seq;
    final Message message;
    /** Wall-clock time the queue took the message (the broker's clock, passed in by the caller). */
    final long enqueuedAtMillis;
    /**
     * The last wall-clock millisecond the message may be delivered in, from the smaller of the queue's
     * {@code x-message-ttl} and the message's {@code expiration}; {@link #NEVER} without a TTL. Stored
     * with persistent messages, so a restart does not restart the count.
     */
    final long expiresAtMillis;
    boolean redelivered;
    int deliveryCount;
    /** Where the store keeps this entry; opaque to the core (see {@link MessageStore}). */
    public long storeRef = -1;
    /** Set when the entry has left the queue, so late store callbacks can settle it. */
    public boolean removed;

    public QueueEntry(long seq, Message message, boolean redelivered, int deliveryCount, long enqueuedAtMillis,
                      long expiresAtMillis) {
        this.seq = seq;
        this.message = message;
        this.enqueuedAtMillis = enqueuedAtMillis;
        this.expiresAtMillis = expiresAtMillis;
        this.redelivered = redelivered;
        this.deliveryCount = deliveryCount;
    }

    public long seq() { return seq; }

    public Message message() { return message; }

    public boolean redelivered() { return redelivered; }

    public int deliveryCount() { return deliveryCount; }

    public long enqueuedAtMillis() { return enqueuedAtMillis; }

    public long expiresAtMillis() { return expiresAtMillis; }

    /** True once {@code nowMillis} is past the last millisecond the message may be delivered in. */
    boolean expired(long nowMillis) {
        return nowMillis > expiresAtMillis;
    }
}
