package io.holdfast.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.GetResponse;
import com.rabbitmq.client.MessageProperties;
import java.net.http.HttpResponse;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Holdfast's quarantine endpoints through a real HTTP client, with a message poisoned over AMQP: the list's JSON,
 * a republish step's cursor answer, bad input, the purge, and a vhost that does not exist.
 */
class QuarantineApiTest extends ClassBroker {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static JsonNode ok(HttpResponse<String> r) throws Exception {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return JSON.readTree(r.body());
    }

    @Test
    void listRepublishAndPurgeOverHttp() throws Exception {
        try (Connection c = broker.connect()) {
            Channel ch = c.createChannel();
            ch.queueDeclare("jobs", true, false, false, Map.of("x-delivery-limit", 0));
            ch.confirmSelect();
            ch.basicPublish("", "jobs", MessageProperties.PERSISTENT_BASIC.builder().headers(Map.of("tenant", "t1"))
                    .build(), "j1".getBytes());
            ch.waitForConfirmsOrDie(10_000);
            GetResponse g = ch.basicGet("jobs", false);
            ch.basicNack(g.getEnvelope().getDeliveryTag(), false, true);
            // A synchronous call on the same channel: the broker has handled the nack before the HTTP request.
            assertThat(ch.queueDeclarePassive("holdfast.quarantine").getMessageCount()).isEqualTo(1);

            JsonNode list = ok(Management.request(broker, "GET", "/api/holdfast/quarantine/%2F"));
            assertThat(list.get("messages").asInt()).isEqualTo(1);
            JsonNode m = list.get("listed").get(0);
            assertThat(m.get("queue").asText()).isEqualTo("jobs");
            assertThat(m.get("reason").asText()).isEqualTo("delivery_limit");
            assertThat(m.get("delivery_count").asInt()).isEqualTo(1);
            assertThat(m.get("payload").asText()).isEqualTo("j1");
            assertThat(m.get("properties").get("headers").get("tenant").asText()).isEqualTo("t1");
            JsonNode other = ok(Management.request(broker, "GET", "/api/holdfast/quarantine/%2F?queue=else"));
            assertThat(other.get("listed")).isEmpty();
            assertThat(other.get("messages_from_queue").asInt()).isZero();
            assertThat(other.get("messages").asInt()).as("the whole quarantine").isEqualTo(1);
            JsonNode fromJobs = ok(Management.request(broker, "GET", "/api/holdfast/quarantine/%2F?queue=jobs&limit=0"));
            assertThat(fromJobs.get("messages_from_queue").asInt()).isEqualTo(1);
            assertThat(fromJobs.get("listed")).as("limit 0 lists none").isEmpty();
            assertThat(list.has("messages_from_queue")).as("only with ?queue=").isFalse();

            for (String bad : new String[] {"{\"batch\":0}", "{\"after\":-1}", "{\"count\":\"many\"}", "[1]"}) {
                HttpResponse<String> r = Management.request(broker, "POST", "/api/holdfast/quarantine/%2F/republish",
                        "guest", "guest", bad);
                assertThat(r.statusCode()).as(bad).isEqualTo(400);
                assertThat(JSON.readTree(r.body()).get("reason").asText()).isNotEmpty();
            }
            JsonNode step = ok(Management.request(broker, "POST", "/api/holdfast/quarantine/%2F/republish", "guest",
                    "guest", "{\"queue\":\"jobs\"}"));
            assertThat(step.get("republished").asInt()).isEqualTo(1);
            assertThat(step.get("left").asInt()).isZero();
            assertThat(step.get("next").asLong()).isEqualTo(m.get("position").asLong());
            assertThat(ch.basicGet("jobs", true).getBody()).asString().isEqualTo("j1");

            ch.basicPublish("", "jobs", MessageProperties.PERSISTENT_BASIC, "j2".getBytes());
            ch.waitForConfirmsOrDie(10_000);
            g = ch.basicGet("jobs", false);
            ch.basicNack(g.getEnvelope().getDeliveryTag(), false, true);
            assertThat(ch.queueDeclarePassive("holdfast.quarantine").getMessageCount()).isEqualTo(1);
            assertThat(ok(Management.request(broker, "DELETE", "/api/holdfast/quarantine/%2F")).get("purged").asInt())
                    .isEqualTo(1);
            assertThat(ok(Management.request(broker, "GET", "/api/holdfast/quarantine/%2F")).get("messages").asInt())
                    .isZero();
        }
        assertThat(Management.request(broker, "GET", "/api/holdfast/quarantine/nowhere").statusCode()).isEqualTo(404);
        assertThat(Management.request(broker, "POST", "/api/holdfast/quarantine/nowhere/republish", "guest", "guest",
                "{}").statusCode()).isEqualTo(404);
    }
}
