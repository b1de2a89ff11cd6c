package io.holdfast.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ShutdownSignalException;
import com.rabbitmq.client.impl.NetworkConnection;
import java.net.http.HttpResponse;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * RabbitMQ's connections API through a real HTTP client: the open connections with RabbitMQ's fields, and a
 * connection closed by an operator with RabbitMQ's 320 text, its unacked deliveries back in their queue.
 */
class ManagementConnectionsTest extends SharedBrokerTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static int localPort(Connection c) {
        return ((NetworkConnection) c).getLocalPort();
    }

    private static JsonNode ours(Connection c) throws Exception {
        HttpResponse<String> r = Management.request(broker, "GET", "/api/connections");
        assertThat(r.statusCode()).isEqualTo(200);
        for (JsonNode n : JSON.readTree(r.body())) {
            if (n.get("peer_port").asInt() == localPort(c)) {
                return n;
            }
        }
        throw new AssertionError("no connection from port " + localPort(c) + " in " + r.body());
    }

    @Test
    void listsOpenConnectionsWithRabbitMqsFields() throws Exception {
        conn.createChannel();
        JsonNode c = ours(conn);
        assertThat(c.get("user").asText()).isEqualTo("guest");
        assertThat(c.get("vhost").asText()).isEqualTo("/");
        assertThat(c.get("peer_host").asText()).isEqualTo("127.0.0.1");
        assertThat(c.get("channels").asInt()).isEqualTo(2);
        assertThat(c.get("state").asText()).isEqualTo("running");
        assertThat(c.get("name").asText()).isEqualTo("127.0.0.1:" + localPort(conn) + " -> 127.0.0.1:"
                + broker.port());
        String path = "/api/connections/" + java.net.URLEncoder.encode(c.get("name").asText(), "UTF-8")
                .replace("+", "%20");
        assertThat(JSON.readTree(Management.request(broker, "GET", path).body()).get("user").asText())
                .isEqualTo("guest");
    }

    @Test
    void deleteClosesItWithConnectionForcedAndItsDeliveriesGoBack() throws Exception {
        ch.queueDeclare("conn-q", false, false, false, null);
        ch.basicPublish("", "conn-q", null, "m".getBytes());
        Connection victim = broker.connect();
        try {
            CountDownLatch delivered = new CountDownLatch(1);
            victim.createChannel().basicConsume("conn-q", false, (t, d) -> delivered.countDown(), t -> { });
            assertThat(delivered.await(10, TimeUnit.SECONDS)).isTrue();
            CompletableFuture<ShutdownSignalException> closed = new CompletableFuture<>();
            victim.addShutdownListener(closed::complete);
            String name = ours(victim).get("name").asText();
            String path = "/api/connections/" + java.net.URLEncoder.encode(name, "UTF-8").replace("+", "%20");
            assertThat(Management.request(broker, "DELETE", path).statusCode()).isEqualTo(204);
            ShutdownSignalException why = closed.get(10, TimeUnit.SECONDS);
            assertThat(why.isHardError()).isTrue();
            assertThat(why.getMessage()).contains("reply-code=320")
                    .contains("reply-text=CONNECTION_FORCED - Closed via management plugin");
            assertThat(Management.request(broker, "DELETE", path).statusCode()).isEqualTo(404);
        } finally {
            victim.abort(); // closed by the broker already, unless the test failed first
        }
        assertThat(ch.basicGet("conn-q", true).getEnvelope().isRedeliver()).isTrue();
        assertThat(Management.request(broker, "GET", "/api/connections/nobody").statusCode()).isEqualTo(404);
    }
}
