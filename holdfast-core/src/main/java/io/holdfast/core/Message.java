package io.holdfast.core;

import java.util.Map;

/**
 * One published message, immutable and shared by every queue it was routed to.
 *
 * @param exchange      the exchange it was published to
 * @param routingKey    the routing key it was published with
 * @param properties    the content header's property flags and list, exactly as received
 * @param headers       the decoded {@code headers} property (for headers-exchange routing), never null
 * @param persistent       delivery mode 2
 * @param expirationMillis the {@code expiration} property as a time to live in milliseconds (see
 *                         {@link #parseExpiration}), or {@link #NO_EXPIRATION}
 * @param body             the body bytes
 */
public record Message(String exchange, String routingKey, byte[] properties, Map<String, Object> headers,
                      boolean persistent, long expirationMillis, byte[] body) {
    /** {@link #expirationMillis} of a message without the {@code expiration} property. */
    public static final long NO_EXPIRATION = -1;

    public Message {
        if (headers == null) {
            headers = Map.of();
        }
    }

    /**
     * Reads the {@code expiration} property as RabbitMQ does: absent (null) is {@link #NO_EXPIRATION},
     * otherwise it must be the decimal text of a non-negative integer of milliseconds. Anything else
     * is refused with 406 PRECONDITION_FAILED, in RabbitMQ's words, before the message is routed.
     */
    public static long parseExpiration(String expiration) {
        if (expiration == null) {
            return NO_EXPIRATION;
        }
        int digits = expiration.startsWith("-") || expiration.startsWith("+") ? 1 : 0;
        int end = digits;
        while (end < expiration.length() && Character.isDigit(expiration.charAt(end))
                && expiration.charAt(end) < 128) {
            end++;
        }
        if (end == digits) {
            throw invalidExpiration(expiration, "no_integer");
        }
        if (end < expiration.length()) {
            throw invalidExpiration(expiration, "{leftover_string,\"" + expiration.substring(end) + "\"}");
        }
        long value;
        try {
            value = Long.parseLong(expiration.substring(0, end));
        } catch (NumberFormatException e) {
            throw invalidExpiration(expiration, "{value_too_large," + expiration + "}");
        }
        if (value < 0) {
            throw invalidExpiration(expiration, "{value_negative," + value + "}");
        }
        return value;
    }

    private static BrokerException invalidExpiration(String expiration, String reason) {
        return BrokerException.precondition("invalid expiration '" + expiration + "': " + reason);
    }

    /**
     * Bytes this message counts for in a queue: the body only, as RabbitMQ counts them for
     * {@code x-max-length-bytes} and its {@code message_bytes} metrics.
     */
    public long sizeBytes() {
        return body.length;
    }
}
