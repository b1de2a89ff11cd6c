package io.holdfast.server.persistence;

import io.holdfast.core.Deduplication;
import io.holdfast.core.Message;
import io.holdfast.core.Queue;
import io.holdfast.core.QueueEntry;
import io.holdfast.protocol.BasicProperties;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * The message records Holdfast writes to the journal (the journal sees opaque payloads; their length
 * and CRC32C are its business). Layouts, all integers big-endian, strings as u8 length + UTF-8:
 *
 * <pre>
 * ENQUEUE (1):    type u8 | seq u64 | flags u8 (bit 0 redelivered) | deliveryCount u32 | vhost | queue
 *                 | exchange | routingKey | properties (u32 length + bytes) | body (u32 length + bytes)
 * REMOVE  (2):    type u8 | seq u64 | vhost | queue
 * DELIVERED (3):  type u8 | seq u64 | deliveryCount u32 | vhost | queue
 * ENQUEUE_V2 (4): type u8 | seq u64 | flags u8 (bit 0 redelivered) | deliveryCount u32
 *                 | enqueuedAtMillis u64 | expiresAtMillis u64 (0 = never) | vhost | queue
 *                 | exchange | routingKey | properties (u32 length + bytes) | body (u32 length + bytes)
 * HELD (5):       type u8 | seq u64 | deliveryCount u32 | readyAtMillis u64 | vhost | queue
 * DEDUP (6):      type u8 | seq u64 | timeMillis u64 | vhost | queue | messageId (u16 length + UTF-8)
 * DUPLICATE (7):  type u8 | vhost | queue | messageId (u16 length + UTF-8)
 * </pre>
 *
 * DEDUP: the message-id of the persistent message at {@code seq} entered the {@code x-message-deduplication}
 * window of its durable queue at {@code timeMillis} (see {@link io.holdfast.core.Deduplication}). Written just
 * before the message's enqueue record and live until the id leaves the window; replay rebuilds each window
 * from them, ordered by {@code seq} (compaction copies keep it), applying the window's bound again. DUPLICATE,
 * never live and skipped by replay, is written for a duplicate that was not enqueued: its only job is its place
 * in the journal's order, so the duplicate's confirm waits for the original's records (see
 * {@link DeduplicationJournal}).
 *
 * HELD is DELIVERED for a message that {@code x-redelivery-backoff} holds back until {@code readyAtMillis}
 * (wall clock): replay keeps that time so the message is still held after a restart. Compaction writes it
 * again after the entry's new enqueue record while the entry is held.
 *
 * Enqueues are written as ENQUEUE_V2, which adds the wall-clock enqueue time and the last millisecond
 * the message may be delivered in (its TTL fixed at publish), so expiry after a restart counts from the
 * original publish. ENQUEUE (1), written before message TTL existed, stays readable: such a message
 * has no expiry. Compaction rewrites records through {@link #enqueue}, so it keeps both times.
 *
 * DELIVERED is written each time a stored message comes back to its queue unsettled (so its delivery
 * count, which {@code x-delivery-limit} judges, survives a crash), and at a clean shutdown for each
 * stored message that has been delivered, so that after the restart it is still flagged redelivered
 * (contract rule 4); after a crash every recovered message is flagged anyway.
 *
 * A queue position ({@code seq}) is unique broker-wide and never reused, so replaying the records in
 * journal order rebuilds every queue.
 */
public final class JournalRecords {
    static final byte ENQUEUE = 1;
    static final byte REMOVE = 2;
    static final byte DELIVERED = 3;
    static final byte ENQUEUE_V2 = 4;
    static final byte HELD = 5;
    static final byte DEDUP = 6;
    static final byte DUPLICATE = 7;

    private JournalRecords() {}

    /** The enqueue record of {@code e}, whose message is {@code m}. */
    static byte[] enqueue(Queue q, QueueEntry e, Message m) {
        byte[] vhost = utf8(q.vhost());
        byte[] queue = utf8(q.name());
        byte[] exchange = utf8(m.exchange());
        byte[] key = utf8(m.routingKey());
        int size = 1 + 8 + 1 + 4 + 8 + 8 + 4 + vhost.length + queue.length + exchange.length + key.length
                + 4 + m.properties().length + 4 + m.body().length;
        ByteBuffer b = ByteBuffer.allocate(size);
        b.put(ENQUEUE_V2).putLong(e.seq()).put((byte) (e.redelivered() ? 1 : 0)).putInt(e.deliveryCount());
        b.putLong(e.enqueuedAtMillis()).putLong(e.expiresAtMillis() == QueueEntry.NEVER ? 0 : e.expiresAtMillis());
        putShort(b, vhost);
        putShort(b, queue);
        putShort(b, exchange);
        putShort(b, key);
        b.putInt(m.properties().length).put(m.properties());
        b.putInt(m.body().length).put(m.body());
        return b.array();
    }

    static byte[] remove(Queue q, QueueEntry e) {
        byte[] vhost = utf8(q.vhost());
        byte[] queue = utf8(q.name());
        ByteBuffer b = ByteBuffer.allocate(1 + 8 + 2 + vhost.length + queue.length);
        b.put(REMOVE).putLong(e.seq());
        putShort(b, vhost);
        putShort(b, queue);
        return b.array();
    }

    public static byte[] delivered(Queue q, QueueEntry e) {
        byte[] vhost = utf8(q.vhost());
        byte[] queue = utf8(q.name());
        ByteBuffer b = ByteBuffer.allocate(1 + 8 + 4 + 2 + vhost.length + queue.length);
        b.put(DELIVERED).putLong(e.seq()).putInt(e.deliveryCount());
        putShort(b, vhost);
        putShort(b, queue);
        return b.array();
    }

    /** The HELD record of {@code e}, held back by its queue's backoff until {@code readyAtMillis}. */
    static byte[] held(Queue q, QueueEntry e, long readyAtMillis) {
        byte[] vhost = utf8(q.vhost());
        byte[] queue = utf8(q.name());
        ByteBuffer b = ByteBuffer.allocate(1 + 8 + 4 + 8 + 2 + vhost.length + queue.length);
        b.put(HELD).putLong(e.seq()).putInt(e.deliveryCount()).putLong(readyAtMillis);
        putShort(b, vhost);
        putShort(b, queue);
        return b.array();
    }

    /** The DEDUP record of {@code id}, remembered by queue {@code q}. */
    static byte[] dedup(Queue q, Deduplication.Remembered id) {
        byte[] vhost = utf8(q.vhost());
        byte[] queue = utf8(q.name());
        byte[] messageId = utf8(id.messageId());
        ByteBuffer b = ByteBuffer.allocate(1 + 8 + 8 + 2 + vhost.length + queue.length + 2 + messageId.length);
        b.put(DEDUP).putLong(id.seq()).putLong(id.timeMillis());
        putShort(b, vhost);
        putShort(b, queue);
        b.putShort((short) messageId.length).put(messageId);
        return b.array();
    }

    /** The DUPLICATE record of a message with {@code messageId} that queue {@code q} did not take again. */
    static byte[] duplicate(Queue q, String messageId) {
        byte[] vhost = utf8(q.vhost());
        byte[] queue = utf8(q.name());
        byte[] id = utf8(messageId);
        ByteBuffer b = ByteBuffer.allocate(1 + 2 + vhost.length + queue.length + 2 + id.length);
        b.put(DUPLICATE);
        putShort(b, vhost);
        putShort(b, queue);
        b.putShort((short) id.length).put(id);
        return b.array();
    }

    /** A decoded DEDUP or DUPLICATE record (seq and time 0 for DUPLICATE). */
    record DedupDecoded(byte type, long seq, long timeMillis, String vhost, String queue, String messageId) {}

    /** True if the record in {@code data} at {@code offset} is a DEDUP or DUPLICATE one. */
    static boolean isDedup(byte[] data, int offset, int length) {
        return length > 0 && (data[offset] == DEDUP || data[offset] == DUPLICATE);
    }

    /** Decodes a DEDUP or DUPLICATE record; throws IllegalArgumentException if it is not one. */
    static DedupDecoded decodeDedup(byte[] data, int offset, int length, Names names) {
        ByteBuffer b = ByteBuffer.wrap(data, offset, length);
        try {
            byte type = b.get();
            if (type != DEDUP && type != DUPLICATE) {
                throw new IllegalArgumentException("not a deduplication record: type " + type);
            }
            long seq = type == DEDUP ? b.getLong() : 0;
            long time = type == DEDUP ? b.getLong() : 0;
            String vhost = names.get(b);
            String queue = names.get(b);
            int idLength = b.getShort() & 0xffff;
            if (idLength != b.remaining()) {
                throw new IllegalArgumentException("message-id of " + idLength + " bytes but " + b.remaining()
                        + " left");
            }
            String id = new String(data, b.arrayOffset() + b.position(), idLength, StandardCharsets.UTF_8);
            return new DedupDecoded(type, seq, time, vhost, queue, id);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("malformed journal record: " + e, e);
        }
    }

    /**
     * A decoded record; message fields are null for REMOVE, DELIVERED and HELD (whose ready time travels in
     * the {@code enqueuedAtMillis} slot: see {@link #readyAtMillis}). The times are those of
     * ENQUEUE_V2; an old ENQUEUE has enqueue time 0 and never expires ({@link QueueEntry#NEVER}).
     */
    record Decoded(byte type, long seq, boolean redelivered, int deliveryCount, long enqueuedAtMillis,
                   long expiresAtMillis, String vhost, String queue, String exchange, String routingKey,
                   byte[] properties, byte[] body, int bodySize, int priority) {
        /** True for either version of the enqueue record. */
        boolean isEnqueue() {
            return type == ENQUEUE || type == ENQUEUE_V2;
        }

        /** For HELD, when the backoff lets the message go; -1 for every other record. */
        long readyAtMillis() {
            return type == HELD ? enqueuedAtMillis : -1;
        }

    }

    /** Decodes a record; throws IllegalArgumentException if it is not one of ours. */
    static Decoded decode(byte[] payload) {
        return decode(payload, new Names(), true);
    }

    /**
     * Decodes a record, taking names (vhost, queue, exchange, routing key) from {@code names}: a
     * replay sees the same few names millions of times, and one String per name keeps recovery fast
     * and the recovered queues small. Without {@code content}, an enqueue's properties and body are
     * skipped (null), only the body's size and the message's priority (0 when it has none) are read: what a
     * replay needs to index a paged-out message and put it in its place in a priority queue.
     */
    static Decoded decode(byte[] payload, Names names, boolean content) {
        return decode(payload, 0, payload.length, names, content);
    }

    /** As {@link #decode(byte[], Names, boolean)}, for the record in {@code data[offset, offset + length)}. */
    static Decoded decode(byte[] data, int offset, int length, Names names, boolean content) {
        ByteBuffer b = ByteBuffer.wrap(data, offset, length);
        try {
            byte type = b.get();
            long seq = b.getLong();
            if (type == REMOVE) {
                return new Decoded(type, seq, false, 0, 0, QueueEntry.NEVER, names.get(b), names.get(b), null, null,
                        null, null, 0, 0);
            }
            if (type == DELIVERED) {
                int count = b.getInt();
                return new Decoded(type, seq, true, count, 0, QueueEntry.NEVER, names.get(b), names.get(b), null, null,
                        null, null, 0, 0);
            }
            if (type == HELD) {
                int count = b.getInt();
                long readyAt = b.getLong();
                return new Decoded(type, seq, true, count, readyAt, QueueEntry.NEVER, names.get(b), names.get(b), null,
                        null, null, null, 0, 0);
            }
            if (type != ENQUEUE && type != ENQUEUE_V2) {
                throw new IllegalArgumentException("unknown journal record type " + type);
            }
            boolean redelivered = (b.get() & 1) != 0;
            int count = b.getInt();
            long enqueuedAt = 0;
            long expiresAt = QueueEntry.NEVER;
            if (type == ENQUEUE_V2) {
                enqueuedAt = b.getLong();
                long stored = b.getLong();
                expiresAt = stored == 0 ? QueueEntry.NEVER : stored;
            }
            String vhost = names.get(b);
            String queue = names.get(b);
            String exchange = names.get(b);
            String key = names.get(b);
            int propsSize = b.getInt();
            if (propsSize < 0) {
                throw new IllegalArgumentException("properties size " + propsSize);
            }
            int propsStart = b.position();
            b.position(Math.addExact(propsStart, propsSize)); // past the end: thrown, the record is malformed
            int priority = BasicProperties.priorityOf(data, propsStart, propsSize);
            byte[] props = content ? java.util.Arrays.copyOfRange(data, propsStart, propsStart + propsSize) : null;
            int bodySize = b.getInt();
            byte[] body = null;
            if (content) {
                body = new byte[bodySize];
                b.get(body);
            } else if (bodySize < 0 || bodySize != b.remaining()) {
                throw new IllegalArgumentException("body size " + bodySize + " but " + b.remaining() + " bytes left");
            }
            return new Decoded(type, seq, redelivered, count, enqueuedAt, expiresAt, vhost, queue, exchange, key,
                    props, body, bodySize, priority);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("malformed journal record: " + e, e);
        }
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static void putShort(ByteBuffer b, byte[] s) {
        b.put((byte) s.length).put(s);
    }

    /** A small cache of decoded short strings, keyed by their bytes; one per replay, one thread. */
    static final class Names {
        private static final int SLOTS = 256;
        private final byte[][] keys = new byte[SLOTS][];
        private final String[] values = new String[SLOTS];

        String get(ByteBuffer b) {
            int len = b.get() & 0xff;
            if (len > b.remaining()) { // the array may hold other bytes past the record: never read them
                throw new java.nio.BufferUnderflowException();
            }
            int start = b.arrayOffset() + b.position();
            byte[] array = b.array();
            int hash = 1;
            for (int i = start; i < start + len; i++) {
                hash = 31 * hash + array[i];
            }
            int slot = (hash ^ (hash >>> 16)) & (SLOTS - 1);
            byte[] key = keys[slot];
            b.position(b.position() + len);
            if (key != null && java.util.Arrays.equals(key, 0, key.length, array, start, start + len)) {
                return values[slot];
            }
            String value = new String(array, start, len, StandardCharsets.UTF_8);
            keys[slot] = java.util.Arrays.copyOfRange(array, start, start + len);
            values[slot] = value;
            return value;
        }
    }
}
