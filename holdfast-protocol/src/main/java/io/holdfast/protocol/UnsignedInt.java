package io.holdfast.protocol;

/**
 * A field-table unsigned 32-bit integer (tag {@code i}). Its own type so that it is written back
 * with the tag it was read with, instead of colliding with {@link Long}. Immutable.
 *
 * @param value 0 to 4294967295
 */
public record UnsignedInt(long value) {
    public UnsignedInt {
        if (value < 0 || value > 0xFFFF_FFFFL) {
            throw new IllegalArgumentException("unsigned int out of range: " + value);
        }
    }
}
