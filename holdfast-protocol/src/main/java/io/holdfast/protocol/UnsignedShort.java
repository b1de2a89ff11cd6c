package io.holdfast.protocol;

/**
 * A field-table unsigned 16-bit integer (tag {@code u}). Its own type so that it is written back
 * with the tag it was read with, instead of colliding with {@link Integer}. Immutable.
 *
 * @param value 0 to 65535
 */
public record UnsignedShort(int value) {
    public UnsignedShort {
        if (value < 0 || value > 0xFFFF) {
            throw new IllegalArgumentException("unsigned short out of range: " + value);
        }
    }
}
