package io.holdfast.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.MessageProperties;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * RabbitMQ's {@code message_stats} through a real HTTP client after AMQP traffic: the counts in /api/overview and
 * per queue in /api/queues, each with a numeric {@code _details.rate} (the rate arithmetic itself is
 * {@code MessageRatesTest}'s, with a stepped clock).
 */
class MessageStatsTest extends ClassBroker {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static JsonNode get(String path) throws Exception {
        var r = Management.request(broker, "GET", path);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return JSON.readTree(r.body());
    }

    private static void assertCounted(JsonNode stats, String name, long count) {
        assertThat(stats.get(name).asLong()).as(name).isEqualTo(count);
        assertThat(stats.get(name + "_details").get("rate").isNumber()).as(name + "_details.rate").isTrue();
    }

    @Test
    void overviewAndQueuesCountPublishesDeliveriesAcksAndConfirmsWithRates() throws Exception {
        try (Connection c = broker.connect()) {
            Channel ch = c.createChannel();
            ch.queueDeclare("stats-q", true, false, false, null);
            ch.confirmSelect();
            for (int i = 0; i < 20; i++) {
                ch.basicPublish("", "stats-q", MessageProperties.PERSISTENT_BASIC, ("m" + i).getBytes());
            }
            ch.waitForConfirmsOrDie(10_000);
            for (int i = 0; i < 20; i++) {
                ch.basicAck(ch.basicGet("stats-q", false).getEnvelope().getDeliveryTag(), false);
            }
            await().atMost(Duration.ofSeconds(10)).until(() ->
                    get("/api/overview").get("message_stats").get("ack").asLong() == 20);
            JsonNode overview = get("/api/overview").get("message_stats");
            for (String name : List.of("publish", "confirm", "deliver_get", "ack")) {
                assertCounted(overview, name, 20);
            }
            assertCounted(overview, "redeliver", 0);

            JsonNode q = get("/api/queues/%2F/stats-q").get("message_stats");
            for (String name : List.of("publish", "deliver_get", "ack")) {
                assertCounted(q, name, 20);
            }
            JsonNode listed = get("/api/queues/%2F").get(0).get("message_stats");
            assertCounted(listed, "publish", 20);
        }
    }
}
