package io.holdfast.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import java.net.http.HttpResponse;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * RabbitMQ's topic permissions through the Java client: per user, vhost and topic exchange, a write expression
 * on the routing keys of publishes and a read expression on the keys of bindings (bind and unbind), with
 * {@code {username}}, {@code {vhost}} and {@code {client_id}} expanded; RabbitMQ's 403 texts; other exchanges
 * and users untouched; a change applies to open channels at once. Set and listed over HTTP, exported and
 * imported with definitions.
 */
class TopicPermissionsTest extends SharedBrokerTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static HttpResponse<String> guest(String method, String path, String body) throws Exception {
        HttpResponse<String> r = Management.request(broker, method, path, "guest", "guest", body);
        assertThat(r.statusCode()).as("%s %s: %s", method, path, r.body()).isLessThan(300);
        return r;
    }

    private static void topic(String vhost, String user, String exchange, String write, String read) throws Exception {
        guest("PUT", "/api/topic-permissions/" + vhost + "/" + user, JSON.writeValueAsString(Map.of("exchange",
                exchange, "write", write, "read", read)));
    }

    private static ConnectionFactory as(String user, String vhost) {
        ConnectionFactory f = broker.factory();
        f.setUsername(user);
        f.setPassword("pw");
        f.setVirtualHost(vhost);
        return f;
    }

    @BeforeAll
    static void users() throws Exception {
        guest("PUT", "/api/vhosts/tp-v", null);
        for (String u : new String[] {"tp-alice", "tp-bob", "tp-dev"}) {
            guest("PUT", "/api/users/" + u, "{\"password\":\"pw\",\"tags\":\"\"}");
            guest("PUT", "/api/permissions/%2F/" + u, "{\"configure\":\".*\",\"write\":\".*\",\"read\":\".*\"}");
            guest("PUT", "/api/permissions/tp-v/" + u, "{\"configure\":\".*\",\"write\":\".*\",\"read\":\".*\"}");
        }
        guest("PUT", "/api/exchanges/%2F/tp-topic", "{\"type\":\"topic\"}");
        topic("%2F", "tp-alice", "amq.topic", "^{username}\\.", "^public\\.|^{username}\\.");
        topic("tp-v", "tp-alice", "amq.topic", "^{vhost}\\.", ".*");
        topic("%2F", "tp-dev", "amq.topic", "^devices\\.{client_id}\\.", ".*");
    }

    /** Publishes with confirms: true if the broker took it, false if it closed the channel with {@code text}. */
    private static void publishes(Channel ch, String exchange, String key) throws Exception {
        ch.confirmSelect();
        ch.basicPublish(exchange, key, null, "m".getBytes());
        assertThat(ch.waitForConfirms(10_000)).as("confirmed %s %s", exchange, key).isTrue();
    }

    private static void publishRefused(Connection c, String exchange, String key, String text) throws Exception {
        Channel ch = c.createChannel();
        ch.basicPublish(exchange, key, null, "m".getBytes());
        assertThat(AmqpAssertions.awaitChannelClosedWith(403, ch).getReplyText()).isEqualTo(text);
    }

    @Test
    void aPublishToATopicExchangeNeedsItsKeyToMatchTheWriteExpression() throws Exception {
        try (Connection c = as("tp-alice", "/").newConnection()) {
            publishes(c.createChannel(), "amq.topic", "tp-alice.orders");
            publishRefused(c, "amq.topic", "tp-bob.orders", "ACCESS_REFUSED - access to topic 'tp-bob.orders' "
                    + "in exchange 'amq.topic' in vhost '/' refused for user 'tp-alice'");
            // Other exchanges: no topic permission there, or not a topic exchange.
            publishes(c.createChannel(), "tp-topic", "anything.at.all");
            publishes(c.createChannel(), "amq.direct", "tp-bob.orders");
            assertThat(c.isOpen()).as("a refusal closes only its channel").isTrue();
        }
        try (Connection c = as("tp-bob", "/").newConnection()) {
            publishes(c.createChannel(), "amq.topic", "tp-alice.orders"); // tp-bob has none: everything goes
        }
    }

    @Test
    void bindingToATopicExchangeNeedsItsKeyToMatchTheReadExpression() throws Exception {
        try (Connection c = as("tp-alice", "/").newConnection()) {
            Channel ch = c.createChannel();
            String q = ch.queueDeclare().getQueue();
            ch.queueBind(q, "amq.topic", "public.#");
            ch.queueBind(q, "amq.topic", "tp-alice.*");
            ch.queueUnbind(q, "amq.topic", "public.#");
            assertThat(AmqpAssertions.assertChannelClosedWith(403, () -> c.createChannel().queueBind(q, "amq.topic",
                    "secret.#")).getReplyText()).isEqualTo("ACCESS_REFUSED - access to topic 'secret.#' in "
                    + "exchange 'amq.topic' in vhost '/' refused for user 'tp-alice'");
            Channel ex = c.createChannel();
            ex.exchangeDeclare("tp-alice-dest", "fanout", false, true, null);
            assertThat(AmqpAssertions.assertChannelClosedWith(403, () -> ex.exchangeBind("tp-alice-dest",
                    "amq.topic", "secret.#")).getReplyText()).contains("access to topic 'secret.#'");
        }
    }

    @Test
    void variablesExpandToTheConnectionsVhostAndClientId() throws Exception {
        try (Connection c = as("tp-alice", "tp-v").newConnection()) {
            publishes(c.createChannel(), "amq.topic", "tp-v.orders");
            publishRefused(c, "amq.topic", "tp-alice.orders", "ACCESS_REFUSED - access to topic "
                    + "'tp-alice.orders' in exchange 'amq.topic' in vhost 'tp-v' refused for user 'tp-alice'");
        }
        ConnectionFactory withId = as("tp-dev", "/");
        withId.setClientProperties(Map.of("client_id", "sensor-7"));
        try (Connection c = withId.newConnection()) {
            publishes(c.createChannel(), "amq.topic", "devices.sensor-7.temperature");
            publishRefused(c, "amq.topic", "devices.sensor-8.temperature", "ACCESS_REFUSED - access to topic "
                    + "'devices.sensor-8.temperature' in exchange 'amq.topic' in vhost '/' refused for user 'tp-dev'");
        }
        try (Connection c = as("tp-dev", "/").newConnection()) { // no client_id: {client_id} matches nothing
            publishRefused(c, "amq.topic", "devices.sensor-7.temperature", "ACCESS_REFUSED - access to topic "
                    + "'devices.sensor-7.temperature' in exchange 'amq.topic' in vhost '/' refused for user 'tp-dev'");
        }
    }

    @Test
    void aChangeAppliesToOpenChannelsAtOnce() throws Exception {
        try (Connection c = as("tp-bob", "tp-v").newConnection()) {
            Channel ch = c.createChannel();
            publishes(ch, "amq.topic", "tp-bob.first");
            topic("tp-v", "tp-bob", "amq.topic", "^nothing-matches$", ".*");
            ch.basicPublish("amq.topic", "tp-bob.second", null, "m".getBytes());
            assertThat(AmqpAssertions.awaitChannelClosedWith(403, ch).getReplyText()).contains("access to topic "
                    + "'tp-bob.second'");
            guest("DELETE", "/api/topic-permissions/tp-v/tp-bob/amq.topic", null);
            publishes(c.createChannel(), "amq.topic", "tp-bob.third");
        }
    }

    @Test
    void theApiListsThemAndBadInputIsA400() throws Exception {
        JsonNode all = JSON.readTree(guest("GET", "/api/topic-permissions", null).body());
        assertThat(all.findValuesAsText("user")).contains("tp-alice", "tp-dev");
        JsonNode mine = JSON.readTree(guest("GET", "/api/topic-permissions/tp-v/tp-alice", null).body());
        assertThat(mine.size()).isEqualTo(1);
        assertThat(mine.get(0).get("exchange").asText()).isEqualTo("amq.topic");
        assertThat(mine.get(0).get("write").asText()).isEqualTo("^{vhost}\\.");
        assertThat(JSON.readTree(guest("GET", "/api/users/tp-alice/topic-permissions", null).body()).size())
                .isEqualTo(2);
        assertThat(JSON.readTree(guest("GET", "/api/vhosts/tp-v/topic-permissions", null).body())
                .findValuesAsText("user")).contains("tp-alice");
        HttpResponse<String> bad = Management.request(broker, "PUT", "/api/topic-permissions/%2F/tp-bob", "guest",
                "guest", "{\"exchange\":\"amq.topic\",\"write\":\"(\",\"read\":\".*\"}");
        assertThat(bad.statusCode()).isEqualTo(400);
        assertThat(JSON.readTree(bad.body()).get("reason").asText()).startsWith("invalid write regular expression '('");
        HttpResponse<String> noUser = Management.request(broker, "PUT", "/api/topic-permissions/%2F/tp-nobody",
                "guest", "guest", "{\"exchange\":\"amq.topic\",\"write\":\".*\",\"read\":\".*\"}");
        assertThat(noUser.statusCode()).isEqualTo(404);
        assertThat(Management.request(broker, "GET", "/api/audit").body()).contains("set_topic_permissions");
    }

    @Test
    void definitionsExportAndImportThem() throws Exception {
        guest("PUT", "/api/users/tp-carol", "{\"password\":\"pw\",\"tags\":\"\"}");
        topic("%2F", "tp-carol", "amq.topic", "^carol\\.", "^carol\\.");
        JsonNode exported = JSON.readTree(guest("GET", "/api/definitions", null).body());
        JsonNode carol = null;
        for (JsonNode t : exported.get("topic_permissions")) {
            if (t.get("user").asText().equals("tp-carol")) {
                carol = t;
            }
        }
        assertThat(carol).isNotNull();
        assertThat(carol.get("vhost").asText()).isEqualTo("/");
        assertThat(carol.get("read").asText()).isEqualTo("^carol\\.");
        guest("DELETE", "/api/topic-permissions/%2F/tp-carol", null);
        assertThat(JSON.readTree(guest("GET", "/api/users/tp-carol/topic-permissions", null).body()).size()).isZero();
        guest("POST", "/api/definitions", "{\"topic_permissions\":[" + JSON.writeValueAsString(carol) + "]}");
        JsonNode back = JSON.readTree(guest("GET", "/api/users/tp-carol/topic-permissions", null).body());
        assertThat(back.get(0).get("write").asText()).isEqualTo("^carol\\.");
    }
}
