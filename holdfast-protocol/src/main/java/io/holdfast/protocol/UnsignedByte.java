package io.holdfast.protocol;

/**
 * A field-table unsigned octet (tag {@code B}). Its own type so that it is written back with the tag
 * it was read with, instead of colliding with {@link Short} or {@link Integer}. Immutable.
 *
 * @param value 0 to 255
 */
public record UnsignedByte(int value) {
    public UnsignedByte {
        if (value < 0 || value > 0xFF) {
            throw new IllegalArgumentException("unsigned byte out of range: " + value);
        }
    }
}
