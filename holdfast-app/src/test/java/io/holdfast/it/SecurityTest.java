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
import com.rabbitmq.client.GetResponse;
import com.rabbitmq.client.MessageProperties;
import com.rabbitmq.client.ShutdownSignalException;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Users, vhosts and permissions through RabbitMQ's management API and the Java client: who may log in,
 * to which vhost, what the management listener asks of them, the audit log, and what survives a restart.
 */
class SecurityTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dataDir;

    private static HttpResponse<String> as(RunningBroker b, String user, String password, String method, String path,
                                           String body) throws Exception {
        return Management.request(b, method, path, user, password, body);
    }

    private static ConnectionFactory factory(RunningBroker b, String user, String password, String vhost) {
        ConnectionFactory f = b.factory();
        f.setUsername(user);
        f.setPassword(password);
        f.setVirtualHost(vhost);
        return f;
    }

    /** alice, with every permission in vhost "orders" and none in "/". */
    private static void createAlice(RunningBroker b) throws Exception {
        assertThat(as(b, "guest", "guest", "PUT", "/api/users/alice", "{\"password\":\"s3cret\",\"tags\":\"\"}")
                .statusCode()).isEqualTo(201);
        assertThat(as(b, "guest", "guest", "PUT", "/api/vhosts/orders", "{\"description\":\"order pipeline\"}")
                .statusCode()).isEqualTo(201);
        assertThat(as(b, "guest", "guest", "PUT", "/api/permissions/orders/alice",
                "{\"configure\":\".*\",\"write\":\".*\",\"read\":\".*\"}").statusCode()).isEqualTo(201);
    }

    @Test
    void aNewUserLogsInToTheVhostTheyHavePermissionsInAndIsRefusedElsewhere() throws Exception {
        try (RunningBroker b = RunningBroker.start(dataDir)) {
            createAlice(b);
            try (Connection c = factory(b, "alice", "s3cret", "orders").newConnection();
                 Channel ch = c.createChannel()) {
                ch.queueDeclare("jobs", true, false, false, null);
                ch.basicPublish("", "jobs", MessageProperties.PERSISTENT_BASIC, "job-1".getBytes());
                GetResponse r = ch.basicGet("jobs", true);
                assertThat(new String(r.getBody())).isEqualTo("job-1");
            }
            assertThatThrownBy(() -> factory(b, "alice", "s3cret", "/").newConnection())
                    .isInstanceOf(IOException.class).rootCause().hasMessageContaining("NOT_ALLOWED")
                    .hasMessageContaining("access to vhost '/' refused for user 'alice'");
            assertThatThrownBy(() -> factory(b, "alice", "wrong", "orders").newConnection())
                    .isInstanceOf(AuthenticationFailureException.class);
            assertThatThrownBy(() -> factory(b, "alice", "s3cret", "nowhere").newConnection())
                    .rootCause().hasMessageContaining("NOT_ALLOWED - vhost 'nowhere' not found");
        }
    }

    private static void permissions(RunningBroker b, String configure, String write, String read) throws Exception {
        assertThat(as(b, "guest", "guest", "PUT", "/api/permissions/orders/alice", "{\"configure\":\"" + configure
                + "\",\"write\":\"" + write + "\",\"read\":\"" + read + "\"}").statusCode()).isEqualTo(204);
    }

    @Test
    void configureWriteAndReadAreCheckedWhereRabbitMqChecksThem() throws Exception {
        try (RunningBroker b = RunningBroker.start(dataDir)) {
            createAlice(b);
            permissions(b, "^alice\\\\.", "^alice\\\\.|amq\\\\.default", "^alice\\\\.");
            try (Connection c = factory(b, "alice", "s3cret", "orders").newConnection()) {
                Channel ch = c.createChannel();
                ch.queueDeclare("alice.jobs", true, false, false, null);
                ch.basicPublish("", "alice.jobs", null, "mine".getBytes());
                assertThat(ch.basicGet("alice.jobs", true).getBody()).isEqualTo("mine".getBytes());
                assertThat(AmqpAssertions.assertChannelClosedWith(403, () -> ch.queueDeclare("bob.jobs", true, false,
                        false, null)).getReplyText()).isEqualTo("ACCESS_REFUSED - configure access to queue 'bob.jobs'"
                        + " in vhost 'orders' refused for user 'alice'");
                Channel ch2 = c.createChannel();
                assertThat(AmqpAssertions.assertChannelClosedWith(403, () -> ch2.exchangeDeclare("bob.x", "fanout"))
                        .getReplyText()).isEqualTo("ACCESS_REFUSED - configure access to exchange 'bob.x' in vhost"
                        + " 'orders' refused for user 'alice'");
                Channel ch3 = c.createChannel();
                ch3.queueDeclarePassive("alice.jobs"); // passive declares need no configure
                // A publish is asynchronous: wait for the close rather than race it with another call.
                ch3.basicPublish("amq.fanout", "", null, "x".getBytes());
                assertThat(AmqpAssertions.awaitChannelClosedWith(403, ch3).getReplyText()).isEqualTo(
                        "ACCESS_REFUSED - write access to exchange 'amq.fanout' in vhost 'orders' refused for user 'alice'");
                Channel ch4 = c.createChannel();
                assertThat(AmqpAssertions.assertChannelClosedWith(403, () -> ch4.queueBind("alice.jobs", "amq.topic", "#"))
                        .getReplyText()).contains("read access to exchange 'amq.topic'");
                assertThat(c.isOpen()).as("a refusal closes the channel, not the connection").isTrue();
            }
        }
    }

    @Test
    void aPermissionChangeAppliesToOpenChannelsAtOnce() throws Exception {
        try (RunningBroker b = RunningBroker.start(dataDir)) {
            createAlice(b);
            try (Connection c = factory(b, "alice", "s3cret", "orders").newConnection()) {
                Channel ch = c.createChannel();
                ch.queueDeclare("jobs", true, false, false, null);
                ch.basicPublish("", "jobs", null, "one".getBytes());
                assertThat(ch.basicGet("jobs", true)).isNotNull();
                permissions(b, ".*", ".*", "");
                assertThat(AmqpAssertions.assertChannelClosedWith(403, () -> ch.basicGet("jobs", true))
                        .getReplyText()).isEqualTo("ACCESS_REFUSED - read access to queue 'jobs' in vhost 'orders'"
                        + " refused for user 'alice'");
            }
        }
    }

    @Test
    void vhostAndUserLimitsRefuseWhatGoesOverThemWithRabbitMqsTexts() throws Exception {
        try (RunningBroker b = RunningBroker.start(dataDir)) {
            createAlice(b);
            assertThat(as(b, "guest", "guest", "PUT", "/api/vhost-limits/orders/max-connections", "{\"value\":1}")
                    .statusCode()).isEqualTo(204);
            assertThat(as(b, "guest", "guest", "PUT", "/api/vhost-limits/orders/max-queues", "{\"value\":1}")
                    .statusCode()).isEqualTo(204);
            assertThat(as(b, "guest", "guest", "PUT", "/api/user-limits/alice/max-channels", "{\"value\":2}")
                    .statusCode()).isEqualTo(204);
            Connection first = factory(b, "alice", "s3cret", "orders").newConnection();
            try {
                assertThatThrownBy(() -> factory(b, "alice", "s3cret", "orders").newConnection()).rootCause()
                        .hasMessageContaining("NOT_ALLOWED - access to vhost 'orders' refused for user 'alice': "
                                + "connection limit (1) is reached");
                Channel ch = first.createChannel();
                ch.queueDeclare("only", true, false, false, null);
                ch.queueDeclare("only", true, false, false, null); // redeclaring is not a new queue
                assertThat(AmqpAssertions.assertChannelClosedWith(406, () -> ch.queueDeclare("second", true, false,
                        false, null)).getReplyText()).isEqualTo("PRECONDITION_FAILED - cannot declare queue 'second' in "
                        + "vhost 'orders': queue limit in vhost 'orders' (1) is reached");
                first.createChannel();
                first.createChannel();
                assertThatThrownBy(first::createChannel).isInstanceOf(Exception.class);
                await().atMost(Duration.ofSeconds(5)).until(() -> !first.isOpen());
                assertThat(first.getCloseReason().getMessage()).contains("NOT_ALLOWED - number of channels opened for "
                        + "user 'alice' has reached the maximum allowed user limit of (2)");
            } finally {
                first.abort();
            }
            try (Connection again = factory(b, "alice", "s3cret", "orders").newConnection()) {
                assertThat(again.isOpen()).as("a closed connection no longer counts").isTrue();
            }
        }
    }

    @Test
    void usersVhostsAndPermissionsSurviveARestart() throws Exception {
        try (RunningBroker b = RunningBroker.start(dataDir)) {
            createAlice(b);
            b.restart();
            try (Connection c = factory(b, "alice", "s3cret", "orders").newConnection()) {
                assertThat(c.isOpen()).isTrue();
            }
            JsonNode vhosts = JSON.readTree(as(b, "guest", "guest", "GET", "/api/vhosts", null).body());
            assertThat(vhosts.findValuesAsText("name")).contains("/", "orders");
        }
    }

    @Test
    void theManagementListenerNeedsCredentialsAndTagsDecideWhatTheyMayDo() throws Exception {
        try (RunningBroker b = RunningBroker.start(dataDir)) {
            createAlice(b);
            HttpResponse<String> anonymous = as(b, null, null, "GET", "/api/queues", null);
            assertThat(anonymous.statusCode()).isEqualTo(401);
            assertThat(anonymous.headers().firstValue("WWW-Authenticate")).hasValueSatisfying(
                    v -> assertThat(v).startsWith("Basic realm="));
            assertThat(JSON.readTree(anonymous.body()).get("error").asText()).isEqualTo("not_authorized");
            assertThat(as(b, null, null, "GET", "/api/health", null).statusCode())
                    .as("health is closed unless management.unauthenticated_health_and_metrics").isEqualTo(401);
            assertThat(as(b, "guest", "nope", "GET", "/api/overview", null).statusCode()).isEqualTo(401);

            HttpResponse<String> notManagement = as(b, "alice", "s3cret", "GET", "/api/queues", null);
            assertThat(notManagement.statusCode()).isEqualTo(401);
            assertThat(JSON.readTree(notManagement.body()).get("error").asText()).isEqualTo("not_authorised");
            assertThat(JSON.readTree(notManagement.body()).get("reason").asText()).isEqualTo("Not management user");
            assertThat(as(b, "alice", "s3cret", "GET", "/api/whoami", null).statusCode()).isEqualTo(401);

            assertThat(as(b, "guest", "guest", "PUT", "/api/users/alice",
                    "{\"password\":\"s3cret\",\"tags\":\"monitoring\"}").statusCode()).isEqualTo(204);
            assertThat(JSON.readTree(as(b, "alice", "s3cret", "GET", "/api/whoami", null).body()).get("name")
                    .asText()).isEqualTo("alice");
            assertThat(as(b, "alice", "s3cret", "GET", "/api/queues", null).statusCode()).isEqualTo(200);
            HttpResponse<String> notAdmin = as(b, "alice", "s3cret", "PUT", "/api/vhosts/mine", "{}");
            assertThat(notAdmin.statusCode()).isEqualTo(401);
            assertThat(JSON.readTree(notAdmin.body()).get("reason").asText()).isEqualTo("Not administrator user");
        }
    }

    @Test
    void healthAndMetricsAnswerWithoutCredentialsOnlyWhenConfiguredTo() throws Exception {
        try (RunningBroker b = RunningBroker.start(dataDir, c -> c.toBuilder().managementHealthOpen(true).build())) {
            assertThat(as(b, null, null, "GET", "/api/health", null).statusCode()).isEqualTo(200);
            assertThat(as(b, null, null, "GET", "/metrics", null).statusCode()).isEqualTo(200);
            assertThat(as(b, null, null, "GET", "/api/overview", null).statusCode()).isEqualTo(401);
        }
    }

    @Test
    void badInputIsA400WithTheReasonAndChangesNothing() throws Exception {
        try (RunningBroker b = RunningBroker.start(dataDir)) {
            HttpResponse<String> regex = as(b, "guest", "guest", "PUT", "/api/permissions/%2F/guest",
                    "{\"configure\":\"(\",\"write\":\".*\",\"read\":\".*\"}");
            assertThat(regex.statusCode()).isEqualTo(400);
            assertThat(JSON.readTree(regex.body()).get("reason").asText())
                    .startsWith("invalid configure regular expression '('");
            HttpResponse<String> name = as(b, "guest", "guest", "PUT", "/api/vhosts/a%0Ab", "{}");
            assertThat(name.statusCode()).isEqualTo(400);
            assertThat(JSON.readTree(name.body()).get("reason").asText()).contains("control character");
            HttpResponse<String> json = as(b, "guest", "guest", "PUT", "/api/users/bob", "{not json");
            assertThat(json.statusCode()).isEqualTo(400);
            assertThat(JSON.readTree(json.body()).get("reason").asText()).startsWith("malformed JSON");
            HttpResponse<String> both = as(b, "guest", "guest", "PUT", "/api/users/bob",
                    "{\"password\":\"x\",\"password_hash\":\"\",\"tags\":\"\"}");
            assertThat(both.statusCode()).isEqualTo(400);
            assertThat(JSON.readTree(both.body()).get("reason").asText()).isEqualTo("give password or password_hash, "
                    + "not both");
            assertThat(as(b, "guest", "guest", "GET", "/api/users/bob", null).statusCode()).isEqualTo(404);
            assertThat(as(b, "guest", "guest", "DELETE", "/api/users/bob", null).statusCode()).isEqualTo(404);
            // guest still works: nothing was half applied
            try (Connection c = b.connect()) {
                assertThat(c.isOpen()).isTrue();
            }
        }
    }

    @Test
    void deletingAVhostClosesItsConnectionsAndDeletesItsQueues() throws Exception {
        try (RunningBroker b = RunningBroker.start(dataDir)) {
            createAlice(b);
            Connection c = factory(b, "alice", "s3cret", "orders").newConnection();
            Channel ch = c.createChannel();
            ch.queueDeclare("jobs", true, false, false, null);
            ch.confirmSelect();
            ch.basicPublish("", "jobs", MessageProperties.PERSISTENT_BASIC, new byte[1000]);
            ch.waitForConfirmsOrDie(5000);
            AtomicReference<ShutdownSignalException> closed = new AtomicReference<>();
            c.addShutdownListener(closed::set);

            assertThat(as(b, "guest", "guest", "DELETE", "/api/vhosts/orders", null).statusCode()).isEqualTo(204);

            await().atMost(Duration.ofSeconds(10)).until(() -> closed.get() != null);
            assertThat(closed.get().getMessage()).contains("CONNECTION_FORCED - vhost 'orders' is deleted");
            assertThat(as(b, "guest", "guest", "GET", "/api/queues/orders/jobs", null).statusCode()).isEqualTo(404);
            assertThat(as(b, "guest", "guest", "PUT", "/api/vhosts/orders", "{}").statusCode()).isEqualTo(201);
            assertThat(as(b, "guest", "guest", "GET", "/api/queues/orders/jobs", null).statusCode())
                    .as("a vhost made again under the name starts empty").isEqualTo(404);
        }
    }

    @Test
    void failedLoginsAndEveryChangeAreInTheAuditLog() throws Exception {
        try (RunningBroker b = RunningBroker.start(dataDir)) {
            createAlice(b);
            assertThatThrownBy(() -> factory(b, "alice", "guess", "orders").newConnection())
                    .isInstanceOf(AuthenticationFailureException.class);
            await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
                JsonNode audit = JSON.readTree(as(b, "guest", "guest", "GET", "/api/audit", null).body());
                assertThat(audit.findValuesAsText("action")).containsSubsequence("first_start", "add_user", "add_vhost",
                        "set_permissions", "login_failed");
                JsonNode failed = audit.get(audit.size() - 1);
                assertThat(failed.get("user").asText()).isEqualTo("alice");
                assertThat(failed.get("from").asText()).isEqualTo("127.0.0.1");
                assertThat(failed.get("details").get("via").asText()).startsWith("AMQP");
            });
            b.restart();
            JsonNode audit = JSON.readTree(as(b, "guest", "guest", "GET", "/api/audit", null).body());
            assertThat(audit.findValuesAsText("action")).as("survives a restart").contains("login_failed");
        }
    }
}
