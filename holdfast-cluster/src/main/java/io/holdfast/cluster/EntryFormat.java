package io.holdfast.cluster;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * The bytes of one Raft log entry (a batch of commands) and of its reply (one result per command). Ratis checks
 * its own log records; this CRC checks the batch again after it crossed the network and the state machine read it
 * back (STYLE habit 8), and the magic and version let a later format be told apart. Integers big-endian.
 *
 * <pre>
 * entry, version 1                         reply, version 1
 *    0  u32  magic 0x48464342 ("HFCB")        0  u32  magic 0x48464352 ("HFCR")
 *    4  u16  version, 1                        4  u16  version, 1
 *    6  u16  reserved, 0                       6  u16  reserved, 0
 *    8  i64  time (ms) of the batching node    8  u32  n, result count
 *   16  u32  n, command count                 12  u32  CRC32C of bytes 0..11 and the results
 *   20  u32  CRC32C of bytes 0..19 and        16  n × (u8 status, 0 ok or 1 rejected;
 *            the commands                               u32 length; bytes: the result, or the
 *   24  n × (u32 length; bytes)                         rejection's message in UTF-8)
 * </pre>
 *
 * <p>Stateless; any thread may call it.
 */
final class EntryFormat {
    static final int ENTRY_MAGIC = 0x48464342;
    static final int REPLY_MAGIC = 0x48464352;
    static final short VERSION = 1;
    static final int ENTRY_HEADER_BYTES = 24;
    static final int REPLY_HEADER_BYTES = 16;
    /** Bytes a command adds to an entry besides its own: its length. */
    static final int COMMAND_OVERHEAD_BYTES = 4;

    static final byte OK = 0;
    static final byte REJECTED = 1;

    private EntryFormat() {}

    /** A decoded entry. */
    record Entry(long timeMillis, List<byte[]> commands) {}

    /** One command's outcome: {@code status} {@link #OK} with the result, or {@link #REJECTED} with a message. */
    record Result(byte status, byte[] bytes) {}

    static byte[] encodeEntry(long timeMillis, List<byte[]> commands) {
        int size = ENTRY_HEADER_BYTES;
        for (byte[] command : commands) {
            size += COMMAND_OVERHEAD_BYTES + command.length;
        }
        ByteBuffer out = ByteBuffer.allocate(size);
        out.putInt(ENTRY_MAGIC).putShort(VERSION).putShort((short) 0).putLong(timeMillis).putInt(commands.size());
        out.putInt(0); // the CRC, filled in below
        for (byte[] command : commands) {
            out.putInt(command.length).put(command);
        }
        byte[] bytes = out.array();
        ByteBuffer.wrap(bytes, 20, 4).putInt(crc(bytes, 20, ENTRY_HEADER_BYTES));
        return bytes;
    }

    /** @throws IllegalArgumentException naming what is wrong if the bytes are not an intact version-1 entry */
    static Entry decodeEntry(byte[] bytes) {
        ByteBuffer in = checkedHeader(bytes, ENTRY_HEADER_BYTES, ENTRY_MAGIC, "entry");
        long timeMillis = in.getLong();
        int count = in.getInt();
        if (crc(bytes, 20, ENTRY_HEADER_BYTES) != in.getInt()) {
            throw new IllegalArgumentException("entry CRC mismatch (" + bytes.length + " bytes)");
        }
        List<byte[]> commands = new ArrayList<>(count);
        for (Result item : readItems(in, count, false)) {
            commands.add(item.bytes());
        }
        return new Entry(timeMillis, commands);
    }

    static byte[] encodeReply(List<Result> results) {
        int size = REPLY_HEADER_BYTES;
        for (Result result : results) {
            size += 5 + result.bytes().length;
        }
        ByteBuffer out = ByteBuffer.allocate(size);
        out.putInt(REPLY_MAGIC).putShort(VERSION).putShort((short) 0).putInt(results.size()).putInt(0);
        for (Result result : results) {
            out.put(result.status()).putInt(result.bytes().length).put(result.bytes());
        }
        byte[] bytes = out.array();
        ByteBuffer.wrap(bytes, 12, 4).putInt(crc(bytes, 12, REPLY_HEADER_BYTES));
        return bytes;
    }

    /** @throws IllegalArgumentException naming what is wrong if the bytes are not an intact version-1 reply */
    static List<Result> decodeReply(byte[] bytes) {
        ByteBuffer in = checkedHeader(bytes, REPLY_HEADER_BYTES, REPLY_MAGIC, "reply");
        int count = in.getInt();
        if (crc(bytes, 12, REPLY_HEADER_BYTES) != in.getInt()) {
            throw new IllegalArgumentException("reply CRC mismatch (" + bytes.length + " bytes)");
        }
        return readItems(in, count, true);
    }

    /** Bytes an entry holding these many command bytes takes; for the submitter's cap. */
    static long entryBytes(int commands, long commandBytes) {
        return ENTRY_HEADER_BYTES + (long) commands * COMMAND_OVERHEAD_BYTES + commandBytes;
    }

    private static ByteBuffer checkedHeader(byte[] bytes, int headerBytes, int magic, String what) {
        if (bytes.length < headerBytes) {
            throw new IllegalArgumentException(what + " of " + bytes.length + " bytes is shorter than its header");
        }
        ByteBuffer in = ByteBuffer.wrap(bytes);
        int actualMagic = in.getInt();
        if (actualMagic != magic) {
            throw new IllegalArgumentException(String.format("%s has bad magic 0x%08X", what, actualMagic));
        }
        int version = Short.toUnsignedInt(in.getShort());
        if (version != VERSION) {
            throw new IllegalArgumentException(what + " has unsupported format version " + version);
        }
        in.getShort();
        return in;
    }

    /** Reads {@code count} length-prefixed items, each after a status byte if {@code withStatus} (else OK). */
    private static List<Result> readItems(ByteBuffer in, int count, boolean withStatus) {
        int prefix = withStatus ? 5 : 4;
        if (count < 0 || (long) count * prefix > in.remaining()) {
            throw new IllegalArgumentException("item count " + Integer.toUnsignedString(count) + " does not fit in "
                    + in.remaining() + " bytes");
        }
        List<Result> items = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            if (in.remaining() < prefix) {
                throw new IllegalArgumentException("item " + i + " of " + count + " is cut short");
            }
            byte status = withStatus ? in.get() : OK;
            int length = in.getInt();
            if (length < 0 || length > in.remaining()) {
                throw new IllegalArgumentException("item " + i + " announces " + Integer.toUnsignedString(length)
                        + " bytes, " + in.remaining() + " remain");
            }
            byte[] item = new byte[length];
            in.get(item);
            items.add(new Result(status, item));
        }
        if (in.hasRemaining()) {
            throw new IllegalArgumentException(in.remaining() + " bytes follow the last item");
        }
        return items;
    }

    /** CRC32C of bytes 0..crcOffset-1 and bodyStart..end (the CRC field itself is skipped). */
    private static int crc(byte[] bytes, int crcOffset, int bodyStart) {
        CRC32C crc = new CRC32C();
        crc.update(bytes, 0, crcOffset);
        crc.update(bytes, bodyStart, bytes.length - bodyStart);
        return (int) crc.getValue();
    }
}
