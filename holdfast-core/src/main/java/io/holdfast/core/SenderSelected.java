package io.holdfast.core;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * RabbitMQ's sender-selected distribution: the {@code CC} and {@code BCC} headers of a published message, arrays
 * whose long-string elements are routing keys (other elements are ignored), add those keys to the one it was
 * published with. Only exchanges that route by key (direct, topic, the default one) use them; a queue matched
 * by several keys still gets one copy. {@code BCC} is removed before the message is stored, so no consumer sees
 * it. A {@code CC} or {@code BCC} that is not an array makes the message invalid: 406, in RabbitMQ's words.
 *
 * <p>Pure functions; called on the broker thread.
 */
final class SenderSelected {
    static final String CC = "CC";
    static final String BCC = "BCC";

    private SenderSelected() {}

    /**
     * The keys a message with these headers is routed by: {@code routingKey}, then those of {@code CC}, then
     * those of {@code BCC}. {@code types} names the headers' wire types.
     */
    static List<String> routingKeys(String routingKey, Map<String, Object> headers, PropertiesRewriter types) {
        if (!headers.containsKey(CC) && !headers.containsKey(BCC)) {
            return List.of(routingKey);
        }
        List<String> keys = new ArrayList<>();
        keys.add(routingKey);
        addKeys(CC, headers, types, keys);
        addKeys(BCC, headers, types, keys);
        return keys;
    }

    private static void addKeys(String header, Map<String, Object> headers, PropertiesRewriter types,
                                List<String> keys) {
        if (!headers.containsKey(header)) {
            return;
        }
        Object value = headers.get(header);
        if (!(value instanceof List<?> elements)) {
            throw BrokerException.precondition("invalid message: {unacceptable_type_in_header,\"" + header + "\","
                    + types.fieldType(value) + "}");
        }
        for (Object e : elements) {
            if (PropertiesRewriter.LONG_STRING.equals(types.fieldType(e))) {
                keys.add(QueueArguments.show(e));
            }
        }
    }

    /** The message as queues keep it: without its {@code BCC} header (the same message when it has none). */
    static Message withoutBcc(Message m, PropertiesRewriter rewriter) {
        if (!m.headers().containsKey(BCC)) {
            return m;
        }
        Map<String, Object> headers = new LinkedHashMap<>(m.headers());
        headers.remove(BCC);
        return new Message(m.exchange(), m.routingKey(), rewriter.withHeaders(m.properties(), headers), headers,
                m.persistent(), m.expirationMillis(), m.body());
    }
}
