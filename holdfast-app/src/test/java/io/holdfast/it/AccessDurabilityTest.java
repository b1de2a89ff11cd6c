package io.holdfast.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.rabbitmq.client.AuthenticationFailureException;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Users (one without a password), a vhost, permissions, topic permissions, limits and the audit log survive kill -9: each change was answered only once
 * it was on disk, so the broker that comes back enforces exactly what was answered.
 */
class AccessDurabilityTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern MANAGEMENT = Pattern.compile("management HTTP listening on http://[^:]+:(\\d+)");
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @TempDir
    Path dir;
    private ChildBroker broker;
    private int amqpPort;
    private int managementPort;

    @AfterEach
    void tearDown() {
        if (broker != null) {
            broker.kill();
        }
    }

    private void spawn() throws Exception {
        broker = ChildBroker.spawn(dir.resolve("data"), null, dir.resolve("broker.log"));
        CompletableFuture<String> management = broker.lineContaining("management HTTP listening on");
        amqpPort = broker.awaitListening(60);
        Matcher m = MANAGEMENT.matcher(management.get(30, TimeUnit.SECONDS));
        assertThat(m.find()).isTrue();
        managementPort = Integer.parseInt(m.group(1));
    }

    private HttpResponse<String> http(String method, String path, String body) throws Exception {
        HttpRequest.Builder r = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + managementPort + path))
                .timeout(Duration.ofSeconds(10))
                .header("Authorization", "Basic " + Base64.getEncoder().encodeToString("guest:guest"
                        .getBytes(StandardCharsets.UTF_8)))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body));
        if (body != null) {
            r.header("Content-Type", "application/json");
        }
        return HTTP.send(r.build(), HttpResponse.BodyHandlers.ofString());
    }

    private ConnectionFactory alice(String password) {
        ConnectionFactory f = broker.factory();
        f.setPort(amqpPort);
        f.setUsername("alice");
        f.setPassword(password);
        f.setVirtualHost("orders");
        return f;
    }

    @Test
    void usersVhostsPermissionsLimitsAndTheAuditLogSurviveKill9() throws Exception {
        spawn();
        assertThat(http("PUT", "/api/vhosts/orders", "{}").statusCode()).isEqualTo(201);
        assertThat(http("PUT", "/api/users/alice", "{\"password\":\"s3cret\",\"tags\":\"monitoring\"}").statusCode())
                .isEqualTo(201);
        assertThat(http("PUT", "/api/permissions/orders/alice",
                "{\"configure\":\"^alice\\\\.\",\"write\":\"^alice\\\\.|amq\\\\.default|amq\\\\.topic\",\"read\":\"^alice\\\\.\"}")
                .statusCode()).isEqualTo(201);
        assertThat(http("PUT", "/api/vhost-limits/orders/max-queues", "{\"value\":5}").statusCode()).isEqualTo(204);
        assertThat(http("PUT", "/api/topic-permissions/orders/alice",
                "{\"exchange\":\"amq.topic\",\"write\":\"^{username}\\\\.\",\"read\":\".*\"}").statusCode())
                .isEqualTo(201);
        assertThat(http("PUT", "/api/users/bob", "{\"tags\":\"\"}").statusCode()).as("no password").isEqualTo(201);
        assertThatThrownBy(() -> alice("guess").newConnection()).isInstanceOf(AuthenticationFailureException.class);
        await().atMost(Duration.ofSeconds(10)).until(() -> http("GET", "/api/audit", null).body()
                .contains("login_failed")); // listed only once fsynced

        broker.kill();
        spawn();

        try (Connection c = alice("s3cret").newConnection()) {
            Channel ch = c.createChannel();
            ch.queueDeclare("alice.jobs", true, false, false, null);
            assertThat(AmqpAssertions.assertChannelClosedWith(403, () -> c.createChannel().queueDeclare("bob.jobs",
                    true, false, false, null)).getReplyText()).isEqualTo("ACCESS_REFUSED - configure access to queue "
                    + "'bob.jobs' in vhost 'orders' refused for user 'alice'");
            Channel topic = c.createChannel();
            topic.basicPublish("amq.topic", "bob.orders", null, new byte[0]);
            assertThat(AmqpAssertions.awaitChannelClosedWith(403, topic).getReplyText()).isEqualTo("ACCESS_REFUSED - "
                    + "access to topic 'bob.orders' in exchange 'amq.topic' in vhost 'orders' refused for user "
                    + "'alice'");
        }
        assertThat(JSON.readTree(http("GET", "/api/users/bob", null).body()).get("password_hash").asText()).isEmpty();
        JsonNode user = JSON.readTree(http("GET", "/api/users/alice", null).body());
        assertThat(user.get("tags").toString()).contains("monitoring");
        JsonNode limits = JSON.readTree(http("GET", "/api/vhost-limits/orders", null).body());
        assertThat(limits.get(0).get("value").get("max-queues").asInt()).isEqualTo(5);
        JsonNode audit = JSON.readTree(http("GET", "/api/audit", null).body());
        assertThat(audit.findValuesAsText("action")).containsSubsequence("add_vhost", "add_user", "set_permissions", "set_vhost_limits",
                "set_topic_permissions", "put_user", "login_failed");
    }
}
