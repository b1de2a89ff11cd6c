package io.holdfast.it;

import java.nio.ByteBuffer;
import java.util.Random;
import java.util.zip.CRC32;

/**
 * The body a crash-test producer publishes: who sent it, its place in that producer's sequence, and a
 * CRC32 of both plus a padding of random length, so a consumer can tell an intact body from a damaged
 * one without any other knowledge. The padding is derived from (run seed, producer, seq), so the checker
 * can also rebuild the exact bytes that were published. Big-endian:
 *
 * <pre>
 *   0  u32  magic 0x48464354 ("HFCT")
 *   4  u32  producer
 *   8  u64  seq (per producer, from 0, increasing in publish order)
 *  16  u32  padding length n
 *  20  n    padding
 * 20+n u32  CRC32 of bytes 0 .. 20+n
 * </pre>
 */
record CrashMessage(int producer, long seq) {
    static final int MAGIC = 0x48464354;
    private static final int FIXED_BYTES = 24;

    /** The body published for this message in the run with {@code runSeed}. */
    byte[] body(long runSeed) {
        Random r = new Random(runSeed * 0x9E3779B97F4A7C15L + producer * 1_000_003L + seq);
        int roll = r.nextInt(1000);
        // Mostly small; some cross the 128 KiB frame size, so a body arrives in several frames.
        int padding = roll < 900 ? r.nextInt(1500) : roll < 990 ? 1500 + r.nextInt(20_000) : 20_000 + r.nextInt(140_000);
        byte[] pad = new byte[padding];
        r.nextBytes(pad);
        ByteBuffer b = ByteBuffer.allocate(FIXED_BYTES + padding);
        b.putInt(MAGIC).putInt(producer).putLong(seq).putInt(padding).put(pad);
        CRC32 crc = new CRC32();
        crc.update(b.array(), 0, b.position());
        b.putInt((int) crc.getValue());
        return b.array();
    }

    /**
     * The message a body names if its length, magic and CRC check out; otherwise throws
     * IllegalArgumentException saying what is wrong.
     */
    static CrashMessage decode(byte[] body) {
        if (body.length < FIXED_BYTES) {
            throw new IllegalArgumentException("body of " + body.length + " bytes is shorter than " + FIXED_BYTES);
        }
        ByteBuffer b = ByteBuffer.wrap(body);
        int magic = b.getInt();
        int producer = b.getInt();
        long seq = b.getLong();
        int padding = b.getInt();
        if (magic != MAGIC) {
            throw new IllegalArgumentException(String.format("bad magic 0x%08X", magic));
        }
        if (padding < 0 || padding != body.length - FIXED_BYTES) {
            throw new IllegalArgumentException("padding length " + padding + " does not fit a body of " + body.length);
        }
        CRC32 crc = new CRC32();
        crc.update(body, 0, body.length - 4);
        int stored = ByteBuffer.wrap(body, body.length - 4, 4).getInt();
        if ((int) crc.getValue() != stored) {
            throw new IllegalArgumentException("CRC32 mismatch (producer " + producer + ", seq " + seq + ")");
        }
        return new CrashMessage(producer, seq);
    }

    @Override
    public String toString() {
        return "p" + producer + "#" + seq;
    }
}
