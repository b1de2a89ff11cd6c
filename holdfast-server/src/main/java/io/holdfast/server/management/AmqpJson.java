package io.holdfast.server.management;

import com.fasterxml.jackson.databind.JsonNode;
import io.holdfast.protocol.BasicProperties;
import io.holdfast.protocol.LongString;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * JSON request fields as AMQP values, as RabbitMQ's management plugin reads them: argument tables (strings
 * become long strings, integers longs, objects nested tables, arrays arrays), booleans given as {@code true} or
 * {@code "true"} ({@code rabbitmqadmin} sends strings), and message properties by their RabbitMQ names.
 * A value that does not fit is a {@link ManagementHttp.BadRequest} naming the field. Any thread.
 */
final class AmqpJson {
    private AmqpJson() {}

    /** The field table in {@code body.field} (an object; absent or null is empty). */
    static Map<String, Object> table(JsonNode body, String field) {
        JsonNode n = body.path(field);
        if (n.isMissingNode() || n.isNull()) {
            return new LinkedHashMap<>();
        }
        if (!n.isObject()) {
            throw new ManagementHttp.BadRequest("\"" + field + "\" must be a JSON object, not " + n);
        }
        Map<String, Object> table = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : n.properties()) {
            table.put(e.getKey(), value(e.getValue(), field + "." + e.getKey()));
        }
        return table;
    }

    private static Object value(JsonNode n, String where) {
        if (n.isTextual()) {
            return LongString.of(n.asText());
        } else if (n.isBoolean()) {
            return n.asBoolean();
        } else if (n.isIntegralNumber()) {
            if (!n.canConvertToLong()) {
                throw new ManagementHttp.BadRequest(where + ": " + n + " does not fit in a 64-bit integer");
            }
            return n.asLong();
        } else if (n.isNumber()) {
            return n.asDouble();
        } else if (n.isArray()) {
            List<Object> list = new ArrayList<>();
            int i = 0;
            for (JsonNode x : n) {
                list.add(value(x, where + "[" + i++ + "]"));
            }
            return list;
        } else if (n.isObject()) {
            Map<String, Object> nested = new LinkedHashMap<>();
            for (Map.Entry<String, JsonNode> e : n.properties()) {
                nested.put(e.getKey(), value(e.getValue(), where + "." + e.getKey()));
            }
            return nested;
        }
        throw new ManagementHttp.BadRequest(where + ": " + n + " is not an AMQP value");
    }

    /** {@code body.field} as a boolean: true, false, "true" or "false"; {@code absent} when missing. */
    static boolean bool(JsonNode body, String field, boolean absent) {
        JsonNode n = body.path(field);
        if (n.isMissingNode() || n.isNull()) {
            return absent;
        }
        if (n.isBoolean()) {
            return n.asBoolean();
        }
        if (n.isTextual() && (n.asText().equals("true") || n.asText().equals("false"))) {
            return n.asText().equals("true");
        }
        throw new ManagementHttp.BadRequest("\"" + field + "\" must be true or false, not " + n);
    }

    /** {@code body.field} as text; a missing mandatory field is 400. */
    static String text(JsonNode body, String field) {
        JsonNode n = body.path(field);
        if (n.isMissingNode() || n.isNull()) {
            throw new ManagementHttp.BadRequest("Mandatory field missing: " + field);
        }
        if (!n.isValueNode()) {
            throw new ManagementHttp.BadRequest("\"" + field + "\" must be a string, not " + n);
        }
        return n.asText();
    }

    /** {@code body.field} as a non-negative integer, given as a number or its text; {@code absent} when missing. */
    static int count(JsonNode body, String field, int absent) {
        JsonNode n = body.path(field);
        if (n.isMissingNode() || n.isNull()) {
            return absent;
        }
        try {
            long v = n.isIntegralNumber() ? n.asLong() : Long.parseLong(n.asText().trim());
            if (v >= 0 && v <= Integer.MAX_VALUE && (n.isIntegralNumber() || n.isTextual())) {
                return (int) v;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new ManagementHttp.BadRequest("\"" + field + "\" must be a non-negative integer, not " + n);
    }

    /** Message properties from RabbitMQ's names ({@code delivery_mode}, {@code headers}, ...); unknown ones are 400. */
    static BasicProperties properties(JsonNode body) {
        JsonNode n = body.path("properties");
        if (n.isMissingNode() || n.isNull()) {
            return BasicProperties.EMPTY;
        }
        if (!n.isObject()) {
            throw new ManagementHttp.BadRequest("\"properties\" must be a JSON object, not " + n);
        }
        for (Map.Entry<String, JsonNode> e : n.properties()) {
            if (!PROPERTY_NAMES.contains(e.getKey())) {
                throw new ManagementHttp.BadRequest("unknown message property '" + e.getKey() + "'; known: "
                        + String.join(", ", PROPERTY_NAMES));
            }
        }
        Map<String, Object> headers = n.has("headers") ? table(n, "headers") : null;
        try {
            return new BasicProperties(string(n, "content_type"), string(n, "content_encoding"), headers,
                    octet(n, "delivery_mode"), octet(n, "priority"), string(n, "correlation_id"),
                    string(n, "reply_to"), string(n, "expiration"), string(n, "message_id"),
                    n.hasNonNull("timestamp") ? (long) count(n, "timestamp", 0) : null, string(n, "type"),
                    string(n, "user_id"), string(n, "app_id"), string(n, "cluster_id"));
        } catch (IllegalArgumentException e) {
            throw new ManagementHttp.BadRequest("properties: " + e.getMessage());
        }
    }

    private static final List<String> PROPERTY_NAMES = List.of("content_type", "content_encoding", "headers",
            "delivery_mode", "priority", "correlation_id", "reply_to", "expiration", "message_id", "timestamp",
            "type", "user_id", "app_id", "cluster_id");

    private static String string(JsonNode n, String field) {
        if (!n.hasNonNull(field)) {
            return null;
        }
        if (!n.get(field).isValueNode()) {
            throw new ManagementHttp.BadRequest("properties." + field + " must be a string, not " + n.get(field));
        }
        return n.get(field).asText();
    }

    private static Integer octet(JsonNode n, String field) {
        if (!n.hasNonNull(field)) {
            return null;
        }
        int v = count(n, field, 0);
        if (v > 255) {
            throw new ManagementHttp.BadRequest("properties." + field + " must be from 0 to 255, not " + v);
        }
        return v;
    }

    /** Properties as RabbitMQ's management plugin shows them: only those present, headers as JSON. */
    static Map<String, Object> view(BasicProperties p) {
        Map<String, Object> m = new LinkedHashMap<>();
        put(m, "content_type", p.contentType());
        put(m, "content_encoding", p.contentEncoding());
        if (p.headers() != null) {
            m.put("headers", ApiViews.arguments(p.headers()));
        }
        put(m, "delivery_mode", p.deliveryMode());
        put(m, "priority", p.priority());
        put(m, "correlation_id", p.correlationId());
        put(m, "reply_to", p.replyTo());
        put(m, "expiration", p.expiration());
        put(m, "message_id", p.messageId());
        put(m, "timestamp", p.timestamp());
        put(m, "type", p.type());
        put(m, "user_id", p.userId());
        put(m, "app_id", p.appId());
        put(m, "cluster_id", p.clusterId());
        return m;
    }

    private static void put(Map<String, Object> m, String key, Object value) {
        if (value != null) {
            m.put(key, value);
        }
    }
}
