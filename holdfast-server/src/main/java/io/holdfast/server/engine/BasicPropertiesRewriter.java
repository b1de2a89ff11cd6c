package io.holdfast.server.engine;

import io.holdfast.core.PropertiesRewriter;
import io.holdfast.protocol.BasicProperties;
import io.holdfast.protocol.LongString;
import io.holdfast.protocol.Timestamp;
import io.holdfast.protocol.UnsignedByte;
import io.holdfast.protocol.UnsignedInt;
import io.holdfast.protocol.UnsignedShort;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The core's {@link PropertiesRewriter} on the AMQP wire format: decodes the content properties with
 * {@link BasicProperties}, swaps in the new headers (the core's neutral {@link Instant} becomes a field-table
 * {@link Timestamp} in seconds; decoded values pass through unchanged), drops {@code expiration} and encodes
 * them again. Stateless; called on the broker thread only when a message is dead-lettered or a delayed one routed
 * ({@link #withHeaders}, which keeps {@code expiration}; also for a message that loses its {@code BCC} header), for
 * the {@link #priority} of a message a priority queue takes, and to name header types ({@link #fieldType}).
 */
public final class BasicPropertiesRewriter implements PropertiesRewriter {
    @Override
    public String expiration(byte[] properties) {
        return BasicProperties.decode(properties).expiration();
    }

    /** For {@code x-message-deduplication}: decodes the properties of messages routed to such a queue only. */
    @Override
    public String messageId(byte[] properties) {
        return BasicProperties.decode(properties).messageId();
    }

    @Override
    public int priority(byte[] properties) {
        return BasicProperties.priorityOf(properties, 0, properties.length);
    }

    /** The decoder's types for the wire's: {@link LongString} is a long string, the unsigned ones keep their names; the
     * core's own values (a {@link String} is a long string) as the default says. */
    @Override
    public String fieldType(Object value) {
        if (value instanceof LongString) {
            return LONG_STRING;
        }
        if (value instanceof UnsignedByte) {
            return "unsignedbyte";
        }
        if (value instanceof UnsignedShort) {
            return "unsignedshort";
        }
        if (value instanceof UnsignedInt) {
            return "unsignedint";
        }
        if (value instanceof Timestamp) {
            return "timestamp";
        }
        return PropertiesRewriter.super.fieldType(value);
    }

    @Override
    public byte[] deadLettered(byte[] properties, Map<String, Object> headers) {
        BasicProperties p = BasicProperties.decode(properties);
        @SuppressWarnings("unchecked")
        Map<String, Object> wire = (Map<String, Object>) toWire(headers);
        return new BasicProperties(p.contentType(), p.contentEncoding(), wire, p.deliveryMode(), p.priority(),
                p.correlationId(), p.replyTo(), null, p.messageId(), p.timestamp(), p.type(), p.userId(),
                p.appId(), p.clusterId()).encode();
    }

    @Override
    public byte[] withHeaders(byte[] properties, Map<String, Object> headers) {
        BasicProperties p = BasicProperties.decode(properties);
        @SuppressWarnings("unchecked")
        Map<String, Object> wire = (Map<String, Object>) toWire(headers);
        return new BasicProperties(p.contentType(), p.contentEncoding(), wire, p.deliveryMode(), p.priority(),
                p.correlationId(), p.replyTo(), p.expiration(), p.messageId(), p.timestamp(), p.type(), p.userId(),
                p.appId(), p.clusterId()).encode();
    }

    private static Object toWire(Object value) {
        if (value instanceof Instant i) {
            return new Timestamp(i.getEpochSecond());
        }
        if (value instanceof Map<?, ?> m) {
            Map<String, Object> out = new LinkedHashMap<>();
            m.forEach((k, v) -> out.put(String.valueOf(k), toWire(v)));
            return out;
        }
        if (value instanceof List<?> l) {
            List<Object> out = new ArrayList<>(l.size());
            l.forEach(v -> out.add(toWire(v)));
            return out;
        }
        return value;
    }
}
