package io.holdfast.core;

import java.util.Map;

/**
 * The seam through which the core changes a message's content properties without knowing their wire
 * format (that lives in holdfast-protocol, which the core must not depend on). Used only to build a
 * dead-lettered copy (see {@link DeadLetters}), a released delayed message and a message without its {@code BCC}
 * header (see {@link SenderSelected}), so the plain publish and deliver path never decodes properties; it also
 * names the wire types of decoded header values ({@link #fieldType}). Called on the broker thread; implementations must be pure functions of their arguments.
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

    /** {@link #fieldType} of a long string, the type routing keys in {@code CC} and {@code BCC} must have. */
    String LONG_STRING = "longstr";

    /**
     * The field-table type of a header or argument value, named as RabbitMQ names it in its reply texts
     * ({@code longstr}, {@code signedint}, {@code long}, {@code bool}, {@code array}, {@code table}, ...). By default
     * for the neutral Java values the core and its tests use ({@link String} is a long string).
     */
    default String fieldType(Object value) {
        if (value == null) {
            return "void";
        }
        if (value instanceof String) {
            return LONG_STRING;
        }
        if (value instanceof Boolean) {
            return "bool";
        }
        if (value instanceof Byte) {
            return "byte";
        }
        if (value instanceof Short) {
            return "short";
        }
        if (value instanceof Integer) {
            return "signedint";
        }
        if (value instanceof Long) {
            return "long";
        }
        if (value instanceof Float) {
            return "float";
        }
        if (value instanceof Double) {
            return "double";
        }
        if (value instanceof java.math.BigDecimal) {
            return "decimal";
        }
        if (value instanceof java.time.Instant) {
            return "timestamp";
        }
        if (value instanceof byte[]) {
            return "binary";
        }
        if (value instanceof java.util.List) {
            return "array";
        }
        if (value instanceof Map) {
            return "table";
        }
        return value.getClass().getSimpleName();
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
