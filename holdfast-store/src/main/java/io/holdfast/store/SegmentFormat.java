package io.holdfast.store;

import java.nio.ByteBuffer;
import java.util.OptionalLong;
import java.util.zip.CRC32C;

/**
 * The on-disk layout of a journal segment, format version 2 (version 1 is still read). All integers are
 * big-endian and unsigned.
 *
 * <p>File name: the segment id as 20 zero-padded decimal digits plus {@code .seg}
 * ({@code 00000000000000000007.seg}), so name order is id order.
 *
 * <pre>
 * Segment header, 20 bytes, written and forced before the first record:
 *    0  u32  magic 0x48464A53 ("HFJS")
 *    4  u16  format version: 2 (the writer only writes 2; 1 is read as before)
 *    6  u16  v2: predecessor distance d, this id minus the id of the segment the writer wrote before this
 *            one (ids of segments whose creation failed are skipped, so d may exceed 1); 0 when there was
 *            none, or d did not fit. v1: reserved, 0
 *    8  u64  segment id, equal to the id in the file name (a copied or renamed file is caught)
 *   16  u32  CRC32C of bytes 0..15
 *
 * Record, 8 + n bytes, repeated until the end of the file:
 *    0  u32  n, the payload length
 *    4  u32  CRC32C of the 4 length bytes followed by the n payload bytes
 *    8  n    payload, opaque to the store
 *
 * Seal, v2 only, 32 bytes: the last thing in every closed v2 segment (written and forced at a roll, at
 * close, when a segment is abandoned after an I/O error and its file still holds exactly what was
 * confirmed, and by recovery on the last segment of the previous run). Nothing is ever written after it.
 *    0  u32  0x80000018, the seal tag: a record length with the top bit set, which no record can have
 *            (payloads are below 2^31 bytes) and which version-1 readers see as an impossible length
 *    4  u32  CRC32C of bytes 0..3 followed by bytes 8..31 (the record CRC rule, body length 24)
 *    8  u32  seal magic 0x4846534C ("HFSL")
 *   12  u32  why it was sealed: 1 roll, 2 close, 3 abandoned after an I/O error, 4 by recovery
 *   16  u64  records in the segment before the seal
 *   24  u64  offset of the seal itself: header plus record bytes before it
 * </pre>
 *
 * <p>The seal makes a closed segment's end checkable: a closed segment cut at a record boundary would
 * otherwise look complete. A segment file may therefore be up to {@link #SEAL_BYTES} larger than
 * {@link JournalConfig#segmentBytesMax()}, which bounds the header and records. The predecessor
 * distance makes a missing middle segment checkable without mistaking the ids of failed creations for
 * lost files.
 *
 * <p>The CRC covers the length too, so a damaged length is caught instead of sending the reader to a
 * wrong offset. An all-zero record header never checks out (CRC32C of four zero bytes is not zero), so
 * zero-filled space left by a crash is never mistaken for an empty record.
 */
final class SegmentFormat {
    static final int MAGIC = 0x48464A53;
    /** The version the writer writes. */
    static final short VERSION = 2;
    static final short VERSION_1 = 1;
    static final int SEAL_TAG = 0x8000_0018;
    static final int SEAL_MAGIC = 0x4846534C;
    static final int SEAL_BYTES = 32;
    static final int SEALED_AT_ROLL = 1;
    static final int SEALED_AT_CLOSE = 2;
    static final int SEALED_WHEN_ABANDONED = 3;
    static final int SEALED_BY_RECOVERY = 4;
    private static final int DISTANCE_MAX = 0xFFFF;
    static final int HEADER_BYTES = 20;
    static final int RECORD_HEADER_BYTES = 8;
    static final String SUFFIX = ".seg";
    private static final int ID_DIGITS = 20;

    private SegmentFormat() {}

    static String fileName(long segmentId) {
        String digits = Long.toString(segmentId);
        return "0".repeat(ID_DIGITS - digits.length()) + digits + SUFFIX;
    }

    /** The segment id of a segment file name, or empty for any other file. */
    static OptionalLong parseFileName(String name) {
        if (name.length() != ID_DIGITS + SUFFIX.length() || !name.endsWith(SUFFIX)) {
            return OptionalLong.empty();
        }
        for (int i = 0; i < ID_DIGITS; i++) {
            if (name.charAt(i) < '0' || name.charAt(i) > '9') {
                return OptionalLong.empty();
            }
        }
        try {
            return OptionalLong.of(Long.parseLong(name.substring(0, ID_DIGITS)));
        } catch (NumberFormatException tooLarge) {
            return OptionalLong.empty();
        }
    }

    /** A v2 header with no known predecessor. */
    static ByteBuffer header(long segmentId) {
        return header(segmentId, VERSION, 0);
    }

    /**
     * The header of segment {@code segmentId} in format {@code version}; {@code predecessorId} is the
     * segment written before it, or -1 (v2 only; ignored for v1, which tests use to craft old files).
     */
    static ByteBuffer header(long segmentId, short version, long predecessorId) {
        long distance = predecessorId < 0 || version == VERSION_1 ? 0 : segmentId - predecessorId;
        if (distance < 0 || distance > DISTANCE_MAX) {
            distance = 0; // unknown: recovery then does not check for a missing predecessor
        }
        ByteBuffer header = ByteBuffer.allocate(HEADER_BYTES);
        header.putInt(MAGIC).putShort(version).putShort((short) distance).putLong(segmentId);
        CRC32C crc = new CRC32C();
        crc.update(header.array(), 0, 16);
        header.putInt((int) crc.getValue());
        return header.flip();
    }

    /** Why the header at the start of {@code data} is unusable, or null if it is good. */
    static String headerProblem(byte[] data, int size, long segmentId) {
        if (size < HEADER_BYTES) {
            return "file of " + size + " bytes is shorter than a segment header";
        }
        ByteBuffer header = ByteBuffer.wrap(data, 0, HEADER_BYTES);
        int magic = header.getInt();
        if (magic != MAGIC) {
            return String.format("bad magic 0x%08X", magic);
        }
        CRC32C crc = new CRC32C();
        crc.update(data, 0, 16);
        if ((int) crc.getValue() != header.getInt(16)) {
            return "segment header CRC mismatch";
        }
        int version = Short.toUnsignedInt(header.getShort(4));
        if (version != VERSION && version != VERSION_1) {
            return "unsupported segment format version " + version;
        }
        long idInHeader = header.getLong(8);
        if (idInHeader != segmentId) {
            return "header names segment " + idInHeader + ", file name says " + segmentId;
        }
        return null;
    }

    /**
     * True if the file holds an incomplete header and nothing else: a prefix of the header this segment
     * should have (possibly empty), then only zero bytes, if any. That is what a crash while the file was
     * being created leaves; anything else wrong with a header is damage.
     */
    static boolean isTornHeader(byte[] data, int size, long segmentId) {
        // v2 headers differ by their predecessor distance: compare with the one whose distance landed.
        int distance = (size > 6 ? (data[6] & 0xFF) << 8 : 0) | (size > 7 ? data[7] & 0xFF : 0);
        return isTornHeader(data, size, header(segmentId, VERSION, distance == 0 ? -1 : segmentId - distance).array())
                || isTornHeader(data, size, header(segmentId, VERSION_1, -1).array());
    }

    private static boolean isTornHeader(byte[] data, int size, byte[] expected) {
        int common = 0;
        while (common < Math.min(size, HEADER_BYTES) && data[common] == expected[common]) {
            common++;
        }
        if (common == HEADER_BYTES) {
            return false;
        }
        for (int i = common; i < size; i++) {
            if (data[i] != 0) {
                return false;
            }
        }
        return true;
    }

    /** The format version of a header that {@link #headerProblem} accepted. */
    static int version(byte[] data) {
        return (data[4] & 0xFF) << 8 | (data[5] & 0xFF);
    }

    /** The predecessor distance of a v2 header that {@link #headerProblem} accepted; 0 for none or v1. */
    static int predecessorDistance(byte[] data) {
        return version(data) == VERSION_1 ? 0 : (data[6] & 0xFF) << 8 | (data[7] & 0xFF);
    }

    /** What a seal states. */
    record Seal(int reason, long records, long offset) {}

    /** The seal of a segment holding {@code records} records in its first {@code offset} bytes. */
    static ByteBuffer seal(int reason, long records, long offset) {
        ByteBuffer seal = ByteBuffer.allocate(SEAL_BYTES);
        seal.putInt(SEAL_TAG).putInt(0).putInt(SEAL_MAGIC).putInt(reason).putLong(records).putLong(offset);
        seal.putInt(4, recordCrc(new CRC32C(), SEAL_TAG, seal.array(), RECORD_HEADER_BYTES, SEAL_BYTES - RECORD_HEADER_BYTES));
        return seal.flip();
    }

    /** The seal at {@code data[p..]}, or null if there is no complete seal there whose CRC and magic check out. */
    static Seal parseSeal(byte[] data, int size, int p, CRC32C crc) {
        if (size - p < SEAL_BYTES || readInt(data, p) != SEAL_TAG) {
            return null;
        }
        int body = p + RECORD_HEADER_BYTES;
        if (recordCrc(crc, SEAL_TAG, data, body, SEAL_BYTES - RECORD_HEADER_BYTES) != readInt(data, p + 4)
                || readInt(data, body) != SEAL_MAGIC) {
            return null;
        }
        ByteBuffer b = ByteBuffer.wrap(data, body + 4, 20);
        return new Seal(b.getInt(), b.getLong(), b.getLong());
    }

    /** CRC32C over the record's length field and payload, as stored in the record header. */
    static int recordCrc(CRC32C crc, int length, byte[] payload, int offset) {
        return recordCrc(crc, length, payload, offset, length);
    }

    private static int recordCrc(CRC32C crc, int length, byte[] payload, int offset, int bodyLength) {
        crc.reset();
        crc.update(length >>> 24);
        crc.update(length >>> 16);
        crc.update(length >>> 8);
        crc.update(length);
        crc.update(payload, offset, bodyLength);
        return (int) crc.getValue();
    }

    /**
     * The record check shared by recovery ({@link SegmentScanner}) and {@link Journal#read}: whether
     * {@code storedCrc}, the CRC field of a record header, matches the {@code length} field and the
     * {@code length} payload bytes at {@code data[offset..]}.
     */
    static boolean recordCrcMatches(CRC32C crc, int length, int storedCrc, byte[] data, int offset) {
        return recordCrc(crc, length, data, offset) == storedCrc;
    }

    static int readInt(byte[] data, int offset) {
        return (data[offset] & 0xFF) << 24 | (data[offset + 1] & 0xFF) << 16
                | (data[offset + 2] & 0xFF) << 8 | (data[offset + 3] & 0xFF);
    }
}
