package io.holdfast.core;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A {@link QuorumQueue}'s snapshot: its live state only (the messages it still holds, with their bodies; its
 * consumers and their unacked deliveries; its counters), never every message it ever took. Restoring it gives a
 * queue that goes on exactly as the original would: the same next delivery, the same consumer in turn, the same
 * ids. Big-endian, with {@link QuorumWire}'s {@code str}, {@code channel} and {@code message}:
 *
 * <pre>
 * snapshot   := u32 magic "HFQQ" | u16 version (2; 1 is read too) | definition | u8 expired | u8 hadConsumers
 *               | i64 clockMillis | i64 lastBrokerSeq | i64 lastQueueSeq | i64 lastUsedMillis | i64 deliveryIdFloor
 *               | entries requeued | entries ready | u32 n | n × (entry | i64 readyAtMillis)   (held, in due order)
 *               | entries unacked (delivery order)
 *               | u32 n | n × chan                                   (channels, in the order they were opened)
 *               | u32 n | n × (u32 chanIndex | u32 consumerIndex)   (the queue's consumers in registration order)
 *               | u32 n | n × (u32 chanIndex | u32 consumerIndex)   (those that may take, in delivery turn)
 *               | u32 n | n × (str messageId | i64 seq | i64 timeMillis)   (the deduplication window, oldest first)
 *               | u32 n | n × (channel | i64 publishSeq)            (each enqueuer's last publish; version 2 on)
 * definition := str vhost | str name | i64 consumerTimeoutMillis | u16 n | n × (str key | arg)   (keys sorted)
 * arg        := u8 1 | i64 integer  /  u8 2 | str text  /  u8 3 | u8 boolean
 * entries    := u32 n | n × entry
 * entry      := i64 seq | message | u8 redelivered | i32 deliveryCount | i64 enqueuedAtMillis | i64 expiresAtMillis
 * chan       := channel | i64 nextDeliveryId | i32 prefetch
 *               | u32 n | n × (str tag | u8 flags (1 noAck, 2 exclusive, 4 still consuming) | i32 prefetch
 *                              | i32 priority)                  (consuming ones first, then cancelled ones that
 *                                                               still hold deliveries)
 *               | u32 n | n × (i64 deliveryId | i64 seq | i32 consumerIndex (-1: basic.get) | i64 deliveredAtMillis)
 * </pre>
 *
 * The caller frames and checksums the bytes. Same thread rules as the queue.
 */
public final class QuorumSnapshot {
    static final int MAGIC = 0x48465151; // "HFQQ"
    static final int VERSION = 2;
    private static final int NO_ACK = 1;
    private static final int EXCLUSIVE = 2;
    private static final int CONSUMING = 4;

    private QuorumSnapshot() {}

    public static void write(QuorumQueue qq, DataOutput out) throws IOException {
        Queue q = qq.queue;
        out.writeInt(MAGIC);
        out.writeShort(VERSION);
        writeDefinition(out, qq.definition);
        out.writeBoolean(qq.expired);
        out.writeBoolean(q.hadConsumers);
        out.writeLong(qq.broker.clockMillis());
        out.writeLong(qq.broker.lastSeq());
        out.writeLong(q.lastSeq());
        out.writeLong(q.lastUsedMillis());
        out.writeLong(qq.deliveryIdFloor);
        writeEntries(out, new ArrayList<>(q.requeuedEntries()));
        writeEntries(out, new ArrayList<>(q.readyEntries()));
        List<QueueEntry> held = new ArrayList<>();
        q.forEachHeld(held::add);
        out.writeInt(held.size());
        for (QueueEntry e : held) {
            writeEntry(out, e);
            out.writeLong(q.heldUntilMillis(e));
        }
        writeEntries(out, new ArrayList<>(q.unackedEntries()));

        Map<ChannelState, Integer> channelIndex = new IdentityHashMap<>();
        Map<Consumer, Integer> consumerIndex = new IdentityHashMap<>();
        out.writeInt(qq.channels.size());
        for (Map.Entry<RemoteChannel, ChannelState> c : qq.channels.entrySet()) {
            channelIndex.put(c.getValue(), channelIndex.size());
            writeChannel(out, c.getKey(), c.getValue(), consumerIndex);
        }
        List<Consumer> registered = new ArrayList<>(q.consumers);
        writeConsumerRefs(out, registered, channelIndex, consumerIndex);
        writeConsumerRefs(out, q.consumers.inTurn(), channelIndex, consumerIndex);
        List<Deduplication.Remembered> ids = new ArrayList<>();
        qq.broker.deduplication().forEach((queue, r) -> ids.add(r));
        out.writeInt(ids.size());
        for (Deduplication.Remembered r : ids) {
            QuorumWire.writeString(out, r.messageId());
            out.writeLong(r.seq());
            out.writeLong(r.timeMillis());
        }
        out.writeInt(qq.enqueuers.size());
        for (Map.Entry<RemoteChannel, Long> e : new TreeMap<>(qq.enqueuers).entrySet()) {
            QuorumWire.writeChannel(out, e.getKey());
            out.writeLong(e.getValue());
        }
    }

    /** A queue that goes on as the one {@link #write} wrote; {@code rewriter} as given to the original. */
    public static QuorumQueue read(DataInput in, PropertiesRewriter rewriter) throws IOException {
        if (in.readInt() != MAGIC) {
            throw new IOException("not a quorum queue snapshot (bad magic)");
        }
        int version = in.readUnsignedShort();
        if (version != 1 && version != VERSION) {
            throw new IOException("quorum queue snapshot version " + version + " is not 1 or " + VERSION);
        }
        QuorumQueue qq = new QuorumQueue(readDefinition(in), rewriter);
        Queue q = qq.queue;
        qq.expired = in.readBoolean();
        q.hadConsumers = in.readBoolean();
        qq.broker.advanceClock(in.readLong());
        qq.broker.advanceSequence(in.readLong());
        long lastQueueSeq = in.readLong();
        long lastUsedMillis = in.readLong();
        qq.deliveryIdFloor = in.readLong();
        List<QueueEntry> requeued = readEntries(in);
        List<QueueEntry> ready = readEntries(in);
        int heldCount = in.readInt();
        List<QueueEntry> held = new ArrayList<>();
        List<Long> readyAt = new ArrayList<>();
        for (int i = 0; i < heldCount; i++) {
            held.add(readEntry(in));
            readyAt.add(in.readLong());
        }
        List<QueueEntry> unacked = readEntries(in);
        q.restoreLive(requeued, ready, unacked, lastQueueSeq, lastUsedMillis);
        for (int i = 0; i < held.size(); i++) {
            qq.broker.holds().rehold(q, held.get(i), readyAt.get(i));
        }
        Map<Long, QueueEntry> unackedBySeq = new HashMap<>();
        unacked.forEach(e -> unackedBySeq.put(e.seq(), e));

        int channelCount = in.readInt();
        List<List<Consumer>> consumers = new ArrayList<>();
        for (int i = 0; i < channelCount; i++) {
            consumers.add(readChannel(in, qq, unackedBySeq));
        }
        List<Consumer> registered = readConsumerRefs(in, consumers);
        List<Consumer> inTurn = readConsumerRefs(in, consumers);
        q.consumers.restore(registered, inTurn);
        int idCount = in.readInt();
        List<Deduplication.Remembered> ids = new ArrayList<>();
        for (int i = 0; i < idCount; i++) {
            ids.add(Deduplication.Remembered.recovered(QuorumWire.readString(in), in.readLong(), in.readLong(), -1));
        }
        qq.broker.deduplication().restore(q, ids);
        int enqueuers = version == 1 ? 0 : in.readInt();
        for (int i = 0; i < enqueuers; i++) {
            qq.enqueuers.put(QuorumWire.readChannel(in), in.readLong());
        }
        return qq;
    }

    private static void writeDefinition(DataOutput out, QuorumQueue.Definition d) throws IOException {
        QuorumWire.writeString(out, d.vhost());
        QuorumWire.writeString(out, d.name());
        out.writeLong(d.consumerTimeoutMillis());
        Map<String, Object> sorted = new TreeMap<>(d.arguments()); // Map.copyOf's order differs from JVM to JVM
        out.writeShort(sorted.size());
        for (Map.Entry<String, Object> a : sorted.entrySet()) {
            QuorumWire.writeString(out, a.getKey());
            Object v = a.getValue();
            if (QueueArguments.isIntegral(v)) {
                out.writeByte(1);
                out.writeLong(((Number) v).longValue());
            } else if (v instanceof Boolean b) {
                out.writeByte(3);
                out.writeBoolean(b);
            } else if (QueueArguments.isText(v)) {
                out.writeByte(2);
                QuorumWire.writeString(out, QueueArguments.show(v));
            } else {
                throw new IOException("argument '" + a.getKey() + "' of type " + v.getClass().getSimpleName()
                        + " cannot be replicated");
            }
        }
    }

    private static QuorumQueue.Definition readDefinition(DataInput in) throws IOException {
        String vhost = QuorumWire.readString(in);
        String name = QuorumWire.readString(in);
        long timeout = in.readLong();
        int n = in.readUnsignedShort();
        Map<String, Object> args = new HashMap<>();
        for (int i = 0; i < n; i++) {
            String key = QuorumWire.readString(in);
            int type = in.readUnsignedByte();
            switch (type) {
                case 1 -> args.put(key, in.readLong());
                case 2 -> args.put(key, QuorumWire.readString(in));
                case 3 -> args.put(key, in.readBoolean());
                default -> throw new IOException("argument '" + key + "' has unknown type " + type);
            }
        }
        return new QuorumQueue.Definition(vhost, name, args, timeout);
    }

    private static void writeEntries(DataOutput out, List<QueueEntry> entries) throws IOException {
        out.writeInt(entries.size());
        for (QueueEntry e : entries) {
            writeEntry(out, e);
        }
    }

    private static void writeEntry(DataOutput out, QueueEntry e) throws IOException {
        out.writeLong(e.seq());
        QuorumWire.writeMessage(out, e.residentMessage());
        out.writeBoolean(e.redelivered());
        out.writeInt(e.deliveryCount());
        out.writeLong(e.enqueuedAtMillis());
        out.writeLong(e.expiresAtMillis());
    }

    private static List<QueueEntry> readEntries(DataInput in) throws IOException {
        int n = in.readInt();
        List<QueueEntry> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(readEntry(in));
        }
        return out;
    }

    private static QueueEntry readEntry(DataInput in) throws IOException {
        long seq = in.readLong();
        Message m = QuorumWire.readMessage(in);
        return new QueueEntry(seq, m, in.readBoolean(), in.readInt(), in.readLong(), in.readLong());
    }

    private static void writeChannel(DataOutput out, RemoteChannel ref, ChannelState ch,
                                     Map<Consumer, Integer> consumerIndex) throws IOException {
        QuorumWire.writeChannel(out, ref);
        out.writeLong(ch.nextDeliveryTag);
        out.writeInt(ch.prefetchPerConsumer);
        List<Consumer> consumers = new ArrayList<>(ch.consumers.values());
        for (ChannelState.Unacked u : ch.unacked.values()) {
            Consumer c = u.consumer();
            if (c != null && ch.consumers.get(c.tag) != c && !consumers.contains(c)) {
                consumers.add(c); // cancelled, but its deliveries are still ackable
            }
        }
        out.writeInt(consumers.size());
        for (int i = 0; i < consumers.size(); i++) {
            Consumer c = consumers.get(i);
            consumerIndex.put(c, i);
            QuorumWire.writeString(out, c.tag);
            boolean consuming = ch.consumers.get(c.tag) == c;
            out.writeByte((c.noAck ? NO_ACK : 0) | (c.exclusive ? EXCLUSIVE : 0) | (consuming ? CONSUMING : 0));
            out.writeInt(c.prefetch);
            out.writeInt(c.priority);
        }
        out.writeInt(ch.unacked.size());
        for (Map.Entry<Long, ChannelState.Unacked> u : ch.unacked.entrySet()) {
            out.writeLong(u.getKey());
            out.writeLong(u.getValue().entry().seq());
            Consumer c = u.getValue().consumer();
            out.writeInt(c == null ? -1 : consumerIndex.get(c));
            out.writeLong(u.getValue().deliveredAtMillis());
        }
    }

    /** Reads one channel into {@code qq}; returns its consumers by index. */
    private static List<Consumer> readChannel(DataInput in, QuorumQueue qq, Map<Long, QueueEntry> unackedBySeq)
            throws IOException {
        ChannelState ch = qq.openChannel(QuorumWire.readChannel(in));
        ch.nextDeliveryTag = in.readLong();
        ch.prefetchPerConsumer = in.readInt();
        int n = in.readInt();
        List<Consumer> consumers = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            String tag = QuorumWire.readString(in);
            int flags = in.readUnsignedByte();
            int prefetch = in.readInt();
            int priority = in.readInt();
            Map<String, Object> args = priority == 0 ? null : Map.of(Consumer.PRIORITY_ARGUMENT, priority);
            Consumer c = new Consumer(tag, ch, qq.queue, (flags & NO_ACK) != 0, (flags & EXCLUSIVE) != 0, prefetch,
                    args);
            if ((flags & CONSUMING) != 0) {
                ch.consumers.put(tag, c);
            }
            consumers.add(c);
        }
        int unacked = in.readInt();
        for (int i = 0; i < unacked; i++) {
            long tag = in.readLong();
            QueueEntry e = unackedBySeq.get(in.readLong());
            int index = in.readInt();
            long deliveredAt = in.readLong();
            if (e == null || index >= consumers.size()) {
                throw new IOException("an unacked delivery names an entry or consumer the snapshot lacks");
            }
            Consumer c = index < 0 ? null : consumers.get(index);
            ch.unacked.put(tag, new ChannelState.Unacked(qq.queue, e, c, deliveredAt));
            if (c != null) {
                c.unacked++;
                ch.consumerUnacked++;
            }
        }
        return consumers;
    }

    private static void writeConsumerRefs(DataOutput out, List<Consumer> list, Map<ChannelState, Integer> channelIndex,
                                          Map<Consumer, Integer> consumerIndex) throws IOException {
        out.writeInt(list.size());
        for (Consumer c : list) {
            out.writeInt(channelIndex.get(c.channel));
            out.writeInt(consumerIndex.get(c));
        }
    }

    private static List<Consumer> readConsumerRefs(DataInput in, List<List<Consumer>> consumers) throws IOException {
        int n = in.readInt();
        List<Consumer> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int channel = in.readInt();
            int consumer = in.readInt();
            if (channel < 0 || channel >= consumers.size() || consumer < 0 || consumer >= consumers.get(channel).size()) {
                throw new IOException("a consumer reference points outside the snapshot");
            }
            out.add(consumers.get(channel).get(consumer));
        }
        return out;
    }
}
