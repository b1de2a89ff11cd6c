package io.holdfast.core;

/**
 * A message's place in one queue: its position ({@link #seq}, which fixes the order forever) and
 * what the queue knows of its deliveries. Mutable, owned by the queue's thread.
 *
 * <p>An entry is the queue's compact index record. The message itself may be <em>paged out</em>: once
 * the store holds it durably, the store may drop the body from memory ({@link #pageOut}) and read it
 * back when it is delivered ({@link MessageStore#load}). So the core never reads {@link #message}
 * directly but asks the broker, which loads a paged-out message from the store.
 */
public final class QueueEntry {
    /** {@link #expiresAtMillis} of an entry that never expires. */
    public static final long NEVER = Long.MAX_VALUE;

    final long seq;
    /** The message, or null while it is paged out. */
    Message message;
    /** The body's size, kept when the message is paged out (for {@code x-max-length-bytes}). */
    final int sizeBytes;
    final boolean persistent;
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
    /** Where the store keeps this entry; opaque to the core (see {@link MessageStore}), -1 for nowhere. */
    public long storeRef = -1;
    /** Set when the entry has left the queue, so late store callbacks can settle it. */
    public boolean removed;
    /**
     * The message's {@code priority} property (0..255, unsigned), kept only for a priority queue (see
     * {@link PriorityLevels}); 0 elsewhere. A byte fits the object's padding: it stays 64 bytes.
     */
    byte priority;

    public QueueEntry(long seq, Message message, boolean redelivered, int deliveryCount, long enqueuedAtMillis,
                      long expiresAtMillis) {
        this(seq, message, message.body().length, message.persistent(), redelivered, deliveryCount, enqueuedAtMillis,
                expiresAtMillis);
    }

    private QueueEntry(long seq, Message message, int sizeBytes, boolean persistent, boolean redelivered,
                       int deliveryCount, long enqueuedAtMillis, long expiresAtMillis) {
        this.seq = seq;
        this.message = message;
        this.sizeBytes = sizeBytes;
        this.persistent = persistent;
        this.enqueuedAtMillis = enqueuedAtMillis;
        this.expiresAtMillis = expiresAtMillis;
        this.redelivered = redelivered;
        this.deliveryCount = deliveryCount;
    }

    /**
     * An entry recovered from the store with its persistent message paged out: the store reads the
     * message back when it is needed.
     */
    public static QueueEntry pagedOut(long seq, int sizeBytes, boolean redelivered, int deliveryCount,
                                      long enqueuedAtMillis, long expiresAtMillis, long storeRef) {
        QueueEntry e = new QueueEntry(seq, null, sizeBytes, true, redelivered, deliveryCount, enqueuedAtMillis,
                expiresAtMillis);
        e.storeRef = storeRef;
        return e;
    }

    /**
     * As {@link #pagedOut(long, int, boolean, int, long, long, long)}, with the message's {@code priority}
     * property (0..255; only a priority queue looks at it), which the store reads from the stored properties.
     */
    public static QueueEntry pagedOut(long seq, int sizeBytes, boolean redelivered, int deliveryCount,
                                      long enqueuedAtMillis, long expiresAtMillis, long storeRef, int priority) {
        QueueEntry e = pagedOut(seq, sizeBytes, redelivered, deliveryCount, enqueuedAtMillis, expiresAtMillis, storeRef);
        e.priority = (byte) priority;
        return e;
    }

    public long seq() { return seq; }

    /** The message if it is in memory; null once {@link #pageOut paged out}. */
    public Message residentMessage() { return message; }

    /** The body's size in bytes, whether or not the message is in memory. */
    public int sizeBytes() { return sizeBytes; }

    public boolean persistent() { return persistent; }

    public boolean redelivered() { return redelivered; }

    public int deliveryCount() { return deliveryCount; }

    public long enqueuedAtMillis() { return enqueuedAtMillis; }

    public long expiresAtMillis() { return expiresAtMillis; }

    /**
     * The message's {@code priority} property (0..255) as its queue knows it: a priority queue's entries carry
     * it (clamped to the queue's maximum when enqueued); a plain queue's may carry 0 instead.
     */
    public int priority() { return priority & 0xFF; }

    /**
     * Drops the message from memory; the store, which holds it durably at {@link #storeRef}, will
     * {@link MessageStore#load load} it when it is needed.
     *
     * @throws IllegalStateException if the message is not persistent or not stored
     */
    public void pageOut() {
        Preconditions.check(persistent && storeRef >= 0, "only a stored persistent message can be paged out");
        message = null;
    }

    /** True once {@code nowMillis} is past the last millisecond the message may be delivered in. */
    boolean expired(long nowMillis) {
        return nowMillis > expiresAtMillis;
    }
}
