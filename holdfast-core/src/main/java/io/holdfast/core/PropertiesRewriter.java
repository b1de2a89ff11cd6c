package io.holdfast.core;

import java.util.Map;

/**
 * The seam through which the core changes a message's content properties without knowing their wire
 * format (that lives in holdfast-protocol, which the core must not depend on). Used only to build a
 * dead-lettered copy (see {@link DeadLetters}) and a released delayed message, so the plain publish and deliver path never decodes
 * properties. Called on the broker thread; implementations must be pure functions of their arguments.
 */
public interface PropertiesRewriter {
    /** The {@code expiration} property of {@code properties} (as received), or null when it has none. */
    String expiration(byte[] properties);

    /**
     * {@code properties} with their {@code headers} replaced by {@code headers} and {@code expiration}
     * removed, every other property unchanged. Header values are those the decoder produced, passed
     * through untouched, plus the neutral values the core adds: {@link String} (a long string),
     * {@link Long}, {@link java.time.Instant} (a timestamp, to the second), {@link java.util.List} (an
     * array) and {@link Map} (a table).
     */
    byte[] deadLettered(byte[] properties, Map<String, Object> headers);

    /**
     * {@code properties} with their {@code headers} replaced by {@code headers}, every other property (the
     * {@code expiration} too) unchanged: for a delayed message, whose {@code x-delay} header is rewritten when
     * it is routed (see {@link DelayedMessages}). Header values as for {@link #deadLettered}. By default the
     * bytes are kept as they are.
     */
    default byte[] withHeaders(byte[] properties, Map<String, Object> headers) {
        return properties;
    }

    /**
     * The {@code message-id} property of {@code properties}, or null when it has none: for {@link Deduplication},
     * called only for messages routed to a queue that has it. By default no message has one.
     */
    default String messageId(byte[] properties) {
        return null;
    }

    /**
     * The {@code priority} property of {@code properties} (0..255), 0 when it has none: read only when a message
     * is enqueued on a priority queue ({@code x-max-priority}, see {@link PriorityLevels}). By default 0.
     */
    default int priority(byte[] properties) {
        return 0;
    }

    /**
     * Keeps the properties bytes as they are and sees no expiration: for brokers that never send what they
     * dead-letter over the wire (tests of other parts); the copy's {@link Message#headers()} are still right.
     */
    PropertiesRewriter UNCHANGED = new PropertiesRewriter() {
        @Override public String expiration(byte[] properties) {
            return null;
        }

        @Override public byte[] deadLettered(byte[] properties, Map<String, Object> headers) {
            return properties;
        }
    };
}
