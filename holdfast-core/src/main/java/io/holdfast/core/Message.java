package io.holdfast.core;

import java.util.Map;

/**
 * One published message, immutable and shared by every queue it was routed to.
 *
 * @param exchange      the exchange it was published to
 * @param routingKey    the routing key it was published with
 * @param properties    the content header's property flags and list, exactly as received
 * @param headers       the decoded {@code headers} property (for headers-exchange routing), never null
 * @param persistent    delivery mode 2
 * @param body          the body bytes
 */
public record Message(String exchange, String routingKey, byte[] properties, Map<String, Object> headers,
                      boolean persistent, byte[] body) {

    public Message {
        if (headers == null) {
            headers = Map.of();
        }
    }

    /**
     * Bytes this message counts for in a queue: the body only, as RabbitMQ counts them for
     * {@code x-max-length-bytes} and its {@code message_bytes} metrics.
     */
    public long sizeBytes() {
        return body.length;
    }
}
