package io.holdfast.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.impl.NetworkConnection;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * RabbitMQ's channels and consumers API through a real HTTP client, against channels opened by the Java client:
 * confirm and tx mode, prefetch, unacked deliveries, consumers with arguments, and a single-active-consumer queue's
 * active and waiting consumers, with RabbitMQ's field names and JSON types.
 */
class ManagementChannelsTest extends ClassBroker {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static JsonNode get(String path) throws Exception {
        var r = Management.request(broker, "GET", path);
        assertThat(r.statusCode()).as(path + ": " + r.body()).isEqualTo(200);
        return JSON.readTree(r.body());
    }

    private static String segment(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }

    @Test
    void channelsAndConsumersWithRabbitMqsFields() throws Exception {
        try (Connection c = broker.connect()) {
            String connection = "127.0.0.1:" + ((NetworkConnection) c).getLocalPort() + " -> 127.0.0.1:"
                    + broker.port();
            Channel confirming = c.createChannel();
            confirming.queueDeclare("chan-q", false, false, false, null);
            confirming.confirmSelect();
            for (int i = 0; i < 5; i++) {
                confirming.basicPublish("", "chan-q", null, ("m" + i).getBytes());
            }
            confirming.waitForConfirmsOrDie(10_000);
            confirming.basicQos(3);
            confirming.basicConsume("chan-q", false, "worker-1", false, false, Map.<String, Object>of("x-priority", 5),
                    new com.rabbitmq.client.DefaultConsumer(confirming));
            Channel tx = c.createChannel();
            tx.txSelect();
            tx.queueDeclare("chan-sac", false, false, false, Map.of("x-single-active-consumer", true));
            tx.basicConsume("chan-sac", true, "first", (t, d) -> { }, t -> { });
            tx.basicConsume("chan-sac", true, "second", (t, d) -> { }, t -> { });

            String name = connection + " (" + confirming.getChannelNumber() + ")";
            await().atMost(Duration.ofSeconds(10)).until(() ->
                    get("/api/channels/" + segment(name)).get("messages_unacknowledged").asInt() == 3);
            JsonNode ch = get("/api/channels/" + segment(name));
            assertThat(ch.get("number").isInt()).isTrue();
            assertThat(ch.get("number").asInt()).isEqualTo(confirming.getChannelNumber());
            assertThat(ch.get("connection_details").get("name").asText()).isEqualTo(connection);
            assertThat(ch.get("connection_details").get("peer_port").asInt()).isEqualTo(((NetworkConnection) c)
                    .getLocalPort());
            assertThat(ch.get("user").asText()).isEqualTo("guest");
            assertThat(ch.get("vhost").asText()).isEqualTo("/");
            assertThat(ch.get("prefetch_count").asInt()).isEqualTo(3);
            assertThat(ch.get("confirm").isBoolean()).isTrue();
            assertThat(ch.get("confirm").asBoolean()).isTrue();
            assertThat(ch.get("transactional").asBoolean()).isFalse();
            assertThat(ch.get("consumer_count").asInt()).isEqualTo(1);
            assertThat(ch.get("state").asText()).isEqualTo("running");

            JsonNode ofConnection = get("/api/connections/" + segment(connection) + "/channels");
            assertThat(ofConnection).hasSize(2);
            assertThat(ofConnection.get(1).get("transactional").asBoolean()).isTrue();
            assertThat(ofConnection.get(1).get("consumer_count").asInt()).isEqualTo(2);
            assertThat(get("/api/channels")).anySatisfy(n -> assertThat(n.get("name").asText()).isEqualTo(name));
            assertThat(get("/api/vhosts/%2F/channels")).hasSize(2);

            JsonNode consumers = get("/api/consumers/%2F");
            assertThat(consumers).hasSize(3);
            JsonNode worker = null;
            for (JsonNode n : consumers) {
                if (n.get("consumer_tag").asText().equals("worker-1")) {
                    worker = n;
                }
            }
            assertThat(worker).isNotNull();
            assertThat(worker.get("queue").get("name").asText()).isEqualTo("chan-q");
            assertThat(worker.get("queue").get("vhost").asText()).isEqualTo("/");
            assertThat(worker.get("channel_details").get("name").asText()).isEqualTo(name);
            assertThat(worker.get("channel_details").get("connection_name").asText()).isEqualTo(connection);
            assertThat(worker.get("ack_required").asBoolean()).isTrue();
            assertThat(worker.get("prefetch_count").asInt()).isEqualTo(3);
            assertThat(worker.get("exclusive").asBoolean()).isFalse();
            assertThat(worker.get("active").asBoolean()).isTrue();
            assertThat(worker.get("activity_status").asText()).isEqualTo("up");
            assertThat(worker.get("arguments").get("x-priority").asInt()).isEqualTo(5);
            assertThat(consumers).anySatisfy(n -> {
                assertThat(n.get("consumer_tag").asText()).isEqualTo("first");
                assertThat(n.get("active").asBoolean()).isTrue();
                assertThat(n.get("activity_status").asText()).isEqualTo("single_active");
                assertThat(n.get("ack_required").asBoolean()).isFalse();
            });
            assertThat(consumers).anySatisfy(n -> {
                assertThat(n.get("consumer_tag").asText()).isEqualTo("second");
                assertThat(n.get("active").asBoolean()).isFalse();
                assertThat(n.get("activity_status").asText()).isEqualTo("waiting");
            });
            assertThat(get("/api/consumers")).hasSize(3);
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> get("/api/channels").isEmpty());
        assertThat(get("/api/consumers")).isEmpty();
        assertThat(Management.request(broker, "GET", "/api/channels/nope").statusCode()).isEqualTo(404);
        assertThat(Management.request(broker, "GET", "/api/consumers/nowhere").statusCode()).isEqualTo(404);
        assertThat(Management.request(broker, "GET", "/api/connections/nope/channels").statusCode()).isEqualTo(404);
    }

    @Test
    void aTxChannelShowsItsUncommittedPublishesAndAcks() throws Exception {
        try (Connection c = broker.connect()) {
            Channel plain = c.createChannel();
            plain.queueDeclare("chan-tx", false, false, false, null);
            for (int i = 0; i < 2; i++) {
                plain.basicPublish("", "chan-tx", null, ("before" + i).getBytes());
            }
            Channel tx = c.createChannel();
            tx.txSelect();
            await().atMost(Duration.ofSeconds(10)).until(() -> tx.messageCount("chan-tx") == 2);
            long last = 0;
            for (int i = 0; i < 2; i++) {
                last = tx.basicGet("chan-tx", false).getEnvelope().getDeliveryTag();
            }
            tx.basicAck(last, true); // both, held until commit
            for (int i = 0; i < 3; i++) {
                tx.basicPublish("", "chan-tx", null, ("in-tx" + i).getBytes());
            }
            String connection = "127.0.0.1:" + ((NetworkConnection) c).getLocalPort() + " -> 127.0.0.1:"
                    + broker.port();
            String name = "/api/channels/" + segment(connection + " (" + tx.getChannelNumber() + ")");
            await().atMost(Duration.ofSeconds(10)).until(() -> get(name).get("messages_uncommitted").asInt() == 3);
            JsonNode open = get(name);
            assertThat(open.get("messages_uncommitted").isInt()).isTrue();
            assertThat(open.get("acks_uncommitted").asInt()).isEqualTo(2);
            assertThat(open.get("messages_unacknowledged").asInt()).as("held for the commit, as RabbitMQ").isZero();
            JsonNode plainView = get("/api/channels/" + segment(connection + " (" + plain.getChannelNumber() + ")"));
            assertThat(plainView.get("messages_uncommitted").asInt()).isZero();
            assertThat(plainView.get("acks_uncommitted").asInt()).isZero();

            tx.txCommit();
            JsonNode committed = get(name);
            assertThat(committed.get("messages_uncommitted").asInt()).isZero();
            assertThat(committed.get("acks_uncommitted").asInt()).isZero();
            assertThat(tx.messageCount("chan-tx")).isEqualTo(3);

            tx.basicAck(tx.basicGet("chan-tx", false).getEnvelope().getDeliveryTag(), false);
            tx.basicPublish("", "chan-tx", null, "rolled back".getBytes());
            await().atMost(Duration.ofSeconds(10)).until(() -> get(name).get("acks_uncommitted").asInt() == 1);
            assertThat(get(name).get("messages_uncommitted").asInt()).isEqualTo(1);
            tx.txRollback();
            JsonNode rolledBack = get(name);
            assertThat(rolledBack.get("messages_uncommitted").asInt()).isZero();
            assertThat(rolledBack.get("acks_uncommitted").asInt()).isZero();
            assertThat(rolledBack.get("messages_unacknowledged").asInt()).as("unacked again").isEqualTo(1);
            plain.queueDelete("chan-tx");
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> get("/api/channels").isEmpty());
    }
}
