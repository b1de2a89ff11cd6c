package io.holdfast.store;

import java.nio.ByteBuffer;
import java.util.OptionalLong;
import java.util.zip.CRC32C;

/**
 * The on-disk layout of a journal segment, format version 1. All integers are big-endian and unsigned.
 *
 * <p>File name: the segment id as 20 zero-padded decimal digits plus {@code .seg}
 * ({@code 00000000000000000007.seg}), so name order is id order.
 *
 * <pre>
 * Segment header, 20 bytes, written and forced before the first record:
 *    0  u32  magic 0x48464A53 ("HFJS")
 *    4  u16  format version, 1
 *    6  u16  reserved, 0
 *    8  u64  segment id, equal to the id in the file name (a copied or renamed file is caught)
 *   16  u32  CRC32C of bytes 0..15
 *
 * Record, 8 + n bytes, repeated until the end of the file:
 *    0  u32  n, the payload length
 *    4  u32  CRC32C of the 4 length bytes followed by the n payload bytes
 *    8  n    payload, opaque to the store
 * </pre>
 *
 * <p>The CRC covers the length too, so a damaged length is caught instead of sending the reader to a
 * wrong offset. An all-zero record header never checks out (CRC32C of four zero bytes is not zero), so
 * zero-filled space left by a crash is never mistaken for an empty record.
 */
final class SegmentFormat {
    static final int MAGIC = 0x48464A53;
    static final short VERSION = 1;
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

    static ByteBuffer header(long segmentId) {
        ByteBuffer header = ByteBuffer.allocate(HEADER_BYTES);
        header.putInt(MAGIC).putShort(VERSION).putShort((short) 0).putLong(segmentId);
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
        if (version != VERSION) {
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
        byte[] expected = header(segmentId).array();
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

    /** CRC32C over the record's length field and payload, as stored in the record header. */
    static int recordCrc(CRC32C crc, int length, byte[] payload, int offset) {
        crc.reset();
        crc.update(length >>> 24);
        crc.update(length >>> 16);
        crc.update(length >>> 8);
        crc.update(length);
        crc.update(payload, offset, length);
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
