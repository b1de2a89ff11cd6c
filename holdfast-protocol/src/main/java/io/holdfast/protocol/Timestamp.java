package io.holdfast.protocol;

/**
 * A field-table timestamp (tag {@code T}): seconds since the Unix epoch, as a 64-bit value on the
 * wire. A record rather than {@code java.util.Date} so that every 64-bit value round-trips exactly.
 * Immutable; safe to share between threads.
 */
public record Timestamp(long seconds) {
}
