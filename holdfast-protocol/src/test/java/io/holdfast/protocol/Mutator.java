package io.holdfast.protocol;

import java.io.ByteArrayOutputStream;
import java.util.Arrays;
import java.util.Random;

/** Damages valid encodings the ways a broken or hostile peer would, for the fuzz tests. */
final class Mutator {
    /** Values that sit on boundaries of lengths, sizes and tags. */
    private static final int[] INTERESTING_INTS = {0, 1, 7, 8, 0x7F, 0x80, 0xFF, 0x100, 0xFFF8, 0xFFFF, 0x1_0000,
        0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF, 0xFFFF_FFFE};
    private static final byte[] INTERESTING_BYTES = {0, 1, (byte) 0xFF, (byte) 0x80, 0x7F, (byte) FrameType.FRAME_END,
        'F', 'A', 'S', 'x', 'V', 'D', 'T', 'l', 't', 8, 2, 3};

    private Mutator() {}

    /** One to three mutations of {@code data}; {@code other} is material for splicing. */
    static byte[] mutate(Random r, byte[] data, byte[] other) {
        byte[] out = data;
        for (int n = 1 + r.nextInt(3); n > 0; n--) {
            out = mutateOnce(r, out, other);
        }
        return out;
    }

    private static byte[] mutateOnce(Random r, byte[] data, byte[] other) {
        if (data.length == 0) {
            return SampleValues.bytes(r, 16);
        }
        byte[] out = data.clone();
        int at = r.nextInt(data.length);
        switch (r.nextInt(8)) {
            case 0 -> {
                for (int flips = 1 + r.nextInt(8); flips > 0; flips--) {
                    int bit = r.nextInt(out.length * 8);
                    out[bit / 8] ^= (byte) (1 << (bit % 8));
                }
            }
            case 1 -> out = Arrays.copyOf(data, at);
            case 2 -> {
                int from = other.length == 0 ? 0 : r.nextInt(other.length);
                out = concat(Arrays.copyOf(data, at), Arrays.copyOfRange(other, from, other.length));
            }
            case 3 -> {
                int value = INTERESTING_INTS[r.nextInt(INTERESTING_INTS.length)];
                int v = r.nextBoolean() ? value : r.nextInt();
                for (int i = 0; i < 4 && at + i < out.length; i++) {
                    out[at + i] = (byte) (v >>> (24 - 8 * i));
                }
            }
            case 4 -> out = concat(concat(Arrays.copyOf(data, at), SampleValues.bytes(r, 16)),
                    Arrays.copyOfRange(data, at, data.length));
            case 5 -> out = concat(Arrays.copyOf(data, at),
                    Arrays.copyOfRange(data, Math.min(data.length, at + 1 + r.nextInt(16)), data.length));
            case 6 -> out[at] = INTERESTING_BYTES[r.nextInt(INTERESTING_BYTES.length)];
            default -> {
                int length = Math.min(data.length - at, 1 + r.nextInt(32));
                out = concat(Arrays.copyOf(data, at + length), Arrays.copyOfRange(data, at, data.length));
            }
        }
        return out;
    }

    private static byte[] concat(byte[] a, byte[] b) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(a.length + b.length);
        out.writeBytes(a);
        out.writeBytes(b);
        return out.toByteArray();
    }
}
