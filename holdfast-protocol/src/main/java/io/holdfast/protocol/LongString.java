package io.holdfast.protocol;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A field-table long string (tag {@code S}): raw bytes, usually but not necessarily UTF-8.
 *
 * <p>Kept as bytes, not decoded to a {@link String}, so that reading and writing a table gives back
 * exactly the bytes a client sent. Immutable: the factories and {@link #bytes()} copy. Equality and
 * hash code are by content. Safe to share between threads.
 */
public final class LongString {
    private final byte[] bytes;

    private LongString(byte[] bytes) {
        this.bytes = bytes;
    }

    /** The UTF-8 encoding of {@code s}. */
    public static LongString of(String s) {
        return new LongString(s.getBytes(StandardCharsets.UTF_8));
    }

    /** A copy of {@code bytes}. */
    public static LongString of(byte[] bytes) {
        return new LongString(bytes.clone());
    }

    /** Takes ownership of {@code bytes} without copying; for the decoder, which made the array itself. */
    static LongString wrap(byte[] bytes) {
        return new LongString(bytes);
    }

    /** A copy of the bytes. */
    public byte[] bytes() {
        return bytes.clone();
    }

    /** The bytes themselves, for the encoder; callers must not modify them. */
    byte[] unsafeBytes() {
        return bytes;
    }

    public int length() {
        return bytes.length;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof LongString other && Arrays.equals(bytes, other.bytes);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(bytes);
    }

    /** The bytes decoded as UTF-8 (malformed sequences become U+FFFD). */
    @Override
    public String toString() {
        return new String(bytes, StandardCharsets.UTF_8);
    }
}
