package io.holdfast.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import java.io.IOException;
import java.io.InputStream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * RabbitMQ's definitions through a real HTTP client: an export in its JSON, an import of RabbitMQ 3.10's own export
 * (a fixture written from its documentation: queue arguments, an alternate exchange, exchange-to-exchange bindings,
 * a user with a SHA-256 hash) checked through the Java client, an import with one bad entry that applies nothing,
 * and {@code load_definitions} at start.
 */
class DefinitionsTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    static String fixture() throws IOException {
        try (InputStream in = DefinitionsTest.class.getResourceAsStream("/definitions/rabbitmq-3.10-export.json")) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    private static HttpResponse<String> post(RunningBroker broker, String path, String body) throws Exception {
        return Management.request(broker, "POST", path, "guest", "guest", body);
    }

    /** What the fixture declares, seen through the Java client as the user it creates. */
    static void assertFixtureApplied(RunningBroker broker) throws Exception {
        ConnectionFactory f = broker.factory();
        f.setUsername("orders-app");
        f.setPassword("s3cret");
        f.setVirtualHost("shop");
        try (Connection c = f.newConnection()) {
            Channel ch = c.createChannel();
            // Equivalent redeclarations succeed, so the arguments and flags are RabbitMQ's.
            ch.queueDeclare("orders", true, false, false, Map.of("x-dead-letter-exchange", "orders.dlx",
                    "x-max-length", 10000, "x-message-ttl", 86400000, "x-queue-type", "classic"));
            ch.exchangeDeclarePassive("orders.in");
            ch.confirmSelect();
            ch.basicPublish("orders.in", "order.created", null, "o1".getBytes());
            ch.basicPublish("orders.in", "misc", null, "m1".getBytes()); // to the alternate exchange
            ch.waitForConfirmsOrDie(10_000);
            assertThat(ch.basicGet("orders", true).getBody()).asString(StandardCharsets.UTF_8).isEqualTo("o1");
            assertThat(ch.basicGet("unrouted", true).getBody()).asString(StandardCharsets.UTF_8).isEqualTo("m1");
            assertThat(ch.queueDeclarePassive("orders.dead").getMessageCount()).isZero();
        }
    }

    @Test
    void importsRabbitMq310sOwnExport() throws Exception {
        try (RunningBroker broker = RunningBroker.start(dir)) {
            HttpResponse<String> r = post(broker, "/api/definitions", fixture());
            assertThat(r.statusCode()).as(r.body()).isEqualTo(204);
            assertFixtureApplied(broker);
            // Importing it again changes nothing and is fine.
            assertThat(post(broker, "/api/definitions", fixture()).statusCode()).isEqualTo(204);
        }
    }

    /**
     * A real RabbitMQ 3.10.8 export (not hand-written): Holdfast exported a vhost with a user, permissions, a topic
     * permission, exchanges with an alternate exchange, queues with arguments and bindings with arguments, RabbitMQ
     * imported that file, and this is what RabbitMQ exported back. It imports into Holdfast unchanged.
     */
    @Test
    void importsARabbitMq3108ExportOfHoldfastsOwnDefinitions() throws Exception {
        String rabbitmq;
        try (InputStream in = DefinitionsTest.class.getResourceAsStream("/definitions/rabbitmq-3.10.8-roundtrip.json")) {
            rabbitmq = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        try (RunningBroker broker = RunningBroker.start(dir)) {
            HttpResponse<String> r = post(broker, "/api/definitions", rabbitmq);
            assertThat(r.statusCode()).as(r.body()).isEqualTo(204);
            JsonNode theirs = JSON.readTree(rabbitmq);
            JsonNode ours = JSON.readTree(Management.request(broker, "GET", "/api/definitions").body());
            for (String kind : new String[] {"queues", "exchanges", "bindings", "permissions", "topic_permissions"}) {
                assertThat(inVhost(ours.get(kind), "rt")).as(kind).isEqualTo(inVhost(theirs.get(kind), "rt"));
            }
            ConnectionFactory f = broker.factory();
            f.setUsername("alice");
            f.setPassword("s3cret"); // RabbitMQ's salted hash of it, carried over
            f.setVirtualHost("rt");
            try (Connection c = f.newConnection()) {
                Channel ch = c.createChannel();
                ch.confirmSelect();
                ch.basicPublish("events", "orders.new", null, "hello".getBytes(StandardCharsets.UTF_8));
                ch.waitForConfirmsOrDie(5000);
                assertThat(ch.basicGet("orders", true).getBody()).asString(StandardCharsets.UTF_8).isEqualTo("hello");
                // The publish is asynchronous: wait for the channel's close rather than race a later call against it.
                Channel refused = c.createChannel();
                refused.basicPublish("events", "audit.x", null, new byte[0]);
                assertThat(AmqpAssertions.awaitChannelClosedWith(403, refused).getReplyText()).isEqualTo(
                        "ACCESS_REFUSED - access to topic 'audit.x' in exchange 'events' in vhost 'rt' refused for user "
                        + "'alice'"); // RabbitMQ 3.10.8's text, seen with the same file
            }
        }
    }

    /** The entries of {@code list} in {@code vhost}, as sorted JSON texts (order is not part of the format). */
    private static java.util.List<String> inVhost(JsonNode list, String vhost) {
        java.util.List<String> out = new java.util.ArrayList<>();
        list.forEach(e -> {
            if (e.path("vhost").asText().equals(vhost)) {
                out.add(sorted(e).toString());
            }
        });
        java.util.Collections.sort(out);
        return out;
    }

    private static JsonNode sorted(JsonNode n) {
        if (!n.isObject()) {
            return n;
        }
        com.fasterxml.jackson.databind.node.ObjectNode o = JSON.createObjectNode();
        java.util.List<String> names = new java.util.ArrayList<>();
        n.fieldNames().forEachRemaining(names::add);
        java.util.Collections.sort(names);
        names.forEach(k -> o.set(k, sorted(n.get(k))));
        return o;
    }

    @Test
    void exportIsRabbitMqsJsonAndImportsBack() throws Exception {
        JsonNode export;
        try (RunningBroker broker = RunningBroker.start(dir.resolve("a"))) {
            assertThat(post(broker, "/api/definitions", fixture()).statusCode()).isEqualTo(204);
            HttpResponse<String> r = Management.request(broker, "GET", "/api/definitions");
            assertThat(r.statusCode()).isEqualTo(200);
            export = JSON.readTree(r.body());
            JsonNode vhostOnly = JSON.readTree(Management.request(broker, "GET", "/api/definitions/shop").body());
            assertThat(vhostOnly.has("users")).isFalse();
            assertThat(vhostOnly.get("queues")).hasSize(3);
            assertThat(vhostOnly.get("queues").get(0).has("vhost")).isFalse();
            assertThat(Management.request(broker, "GET", "/api/definitions/nowhere").statusCode()).isEqualTo(404);
        }
        assertThat(export.get("rabbit_version").asText()).isNotEmpty();
        assertThat(export.get("policies")).isEmpty();
        assertThat(export.get("users")).anySatisfy(u -> {
            assertThat(u.get("name").asText()).isEqualTo("orders-app");
            assertThat(u.get("password_hash").asText()).isEqualTo("kI3GCkwidbNLQtNlauSvDxHDzz3IO+MCqP9YQ8IPMmUonl9G");
            assertThat(u.get("hashing_algorithm").asText()).isEqualTo("rabbit_password_hashing_sha256");
            assertThat(u.get("tags").get(0).asText()).isEqualTo("monitoring");
        });
        assertThat(export.get("vhosts")).anySatisfy(v -> assertThat(v.get("name").asText()).isEqualTo("shop"));
        assertThat(export.get("permissions")).anySatisfy(p -> assertThat(p.get("configure").asText())
                .isEqualTo("^orders.*"));
        assertThat(export.get("exchanges")).allSatisfy(x -> assertThat(x.get("name").asText()).doesNotStartWith("amq.")
                .isNotEmpty());
        assertThat(export.get("exchanges")).anySatisfy(x -> assertThat(x.get("arguments").get("alternate-exchange")
                .asText()).isEqualTo("orders.unrouted"));
        assertThat(export.get("bindings")).anySatisfy(b -> assertThat(b.get("destination_type").asText())
                .isEqualTo("exchange"));
        try (RunningBroker other = RunningBroker.start(dir.resolve("b"))) {
            HttpResponse<String> r = post(other, "/api/definitions", export.toString());
            assertThat(r.statusCode()).as(r.body()).isEqualTo(204);
            assertFixtureApplied(other);
        }
    }

    @Test
    void anImportWithOneBadEntryAppliesNothingAndNamesIt() throws Exception {
        try (RunningBroker broker = RunningBroker.start(dir)) {
            try (Connection c = broker.connect()) {
                c.createChannel().queueDeclare("existing", true, false, false, null);
            }
            String good = "{\"name\":\"fresh\",\"vhost\":\"/\",\"durable\":true,\"auto_delete\":false,\"arguments\":{}}";
            String user = "\"users\":[{\"name\":\"newcomer\",\"password_hash\":"
                    + "\"kI3GCkwidbNLQtNlauSvDxHDzz3IO+MCqP9YQ8IPMmUonl9G\",\"tags\":[]}],";
            assertRefused(broker, "{" + user + "\"queues\":[" + good + ",{\"name\":\"bad\",\"vhost\":\"/\",\"durable\":"
                    + "true,\"arguments\":{\"x-max-length\":\"lots\"}}]}", "queues[1] (queue 'bad' in vhost '/'): 406 "
                    + "PRECONDITION_FAILED - invalid arg 'x-max-length'");
            assertRefused(broker, "{\"queues\":[" + good + ",{\"name\":\"existing\",\"vhost\":\"/\",\"durable\":false}]}",
                    "queues[1] (queue 'existing' in vhost '/'): 406 PRECONDITION_FAILED - inequivalent arg 'durable'");
            assertRefused(broker, "{\"queues\":[" + good + "],\"bindings\":[{\"source\":\"amq.direct\",\"vhost\":\"/\","
                    + "\"destination\":\"missing\",\"destination_type\":\"queue\",\"routing_key\":\"k\"}]}",
                    "bindings[0] (binding of 'amq.direct' to queue 'missing' in vhost '/'): 404 NOT_FOUND");
            assertRefused(broker, "{\"queues\":[{\"name\":\"q\",\"vhost\":\"elsewhere\"}]}",
                    "queues[0]: no vhost 'elsewhere' in the broker or the file");
            assertRefused(broker, "{" + user + "\"permissions\":[{\"user\":\"nobody\",\"vhost\":\"/\",\"configure\":"
                    + "\".*\",\"write\":\".*\",\"read\":\".*\"}]}", "permissions[0]: no user 'nobody'");
            assertRefused(broker, "{\"users\":[{\"name\":\"u\",\"password_hash\":\"not base64!\"}]}", "users[0]: ");
            assertRefused(broker, "{\"policies\":[{\"name\":\"ha\",\"vhost\":\"/\",\"pattern\":\".*\"}],\"queues\":["
                    + good + "]}", "policies[0]: Holdfast has no policies yet");
            assertRefused(broker, "{\"exchanges\":[{\"name\":\"x\",\"vhost\":\"/\"}]}",
                    "exchanges[0]: Mandatory field missing: type");
            assertRefused(broker, "{\"queues\":{}}", "queues must be a JSON array");
            assertThat(post(broker, "/api/definitions", "{\"queues\":[").statusCode()).isEqualTo(400);

            try (Connection c = broker.connect()) {
                assertThatThrownBy(() -> c.createChannel().queueDeclarePassive("fresh")).isInstanceOf(IOException.class);
                assertThat(c.createChannel().queueDeclarePassive("existing").getQueue()).isEqualTo("existing");
            }
            assertThat(Management.request(broker, "GET", "/api/users/newcomer").statusCode()).isEqualTo(404);
        }
    }

    @Test
    void importProgressSaysHowTheLastImportEnded() throws Exception {
        try (RunningBroker broker = RunningBroker.start(dir)) {
            JsonNode idle = JSON.readTree(Management.request(broker, "GET", "/api/holdfast/definitions/import").body());
            assertThat(idle.get("import").asLong()).isZero();
            assertThat(idle.get("phase").asText()).isEqualTo("idle");

            String queues = "{\"vhosts\":[{\"name\":\"pv\"}],\"queues\":[{\"name\":\"p1\",\"vhost\":\"pv\","
                    + "\"durable\":true},{\"name\":\"p2\",\"vhost\":\"pv\",\"durable\":true}]}";
            assertThat(post(broker, "/api/definitions", queues).statusCode()).isEqualTo(204);
            JsonNode done = JSON.readTree(Management.request(broker, "GET", "/api/holdfast/definitions/import").body());
            assertThat(done.get("import").asLong()).isEqualTo(1);
            assertThat(done.get("phase").asText()).isEqualTo("done");
            assertThat(done.get("done").asLong()).as("2 queues and a vhost").isEqualTo(3);
            assertThat(done.get("total").asLong()).isEqualTo(3);

            assertRefused(broker, "{\"queues\":[{\"name\":\"p1\",\"vhost\":\"pv\",\"durable\":false}]}",
                    "queues[0] (queue 'p1' in vhost 'pv'): 406 PRECONDITION_FAILED - inequivalent arg 'durable'");
            JsonNode failed = JSON.readTree(Management.request(broker, "GET", "/api/holdfast/definitions/import").body());
            assertThat(failed.get("import").asLong()).isEqualTo(2);
            assertThat(failed.get("phase").asText()).as("refused while checking").isEqualTo("failed");
            assertThat(failed.get("done").asLong()).isZero();
            assertThat(Management.request(broker, "GET", "/api/holdfast/definitions/import", null, null, null)
                    .statusCode()).isEqualTo(401);
        }
    }

    private static void assertRefused(RunningBroker broker, String definitions, String reason) throws Exception {
        HttpResponse<String> r = post(broker, "/api/definitions", definitions);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
        assertThat(JSON.readTree(r.body()).get("reason").asText()).startsWith(reason);
    }

    @Test
    void aBodyOverManagementHttpMaxBodySizeIs413WithAReason() throws Exception {
        try (RunningBroker broker = RunningBroker.start(dir, c -> c.toBuilder().managementBodyBytesMax(64 * 1024)
                .build())) {
            String big = "{\"queues\":[],\"padding\":\"" + "x".repeat(100 * 1024) + "\"}";
            HttpResponse<String> r = post(broker, "/api/definitions", big);
            assertThat(r.statusCode()).isEqualTo(413);
            assertThat(JSON.readTree(r.body()).get("error").asText()).isEqualTo("request_too_large");
            assertThat(JSON.readTree(r.body()).get("reason").asText()).contains("management.http.max_body_size (65536 "
                    + "bytes)");
            assertThat(post(broker, "/api/definitions", fixture()).statusCode()).as("under the limit").isEqualTo(204);
        }
    }

    @Test
    void loadDefinitionsImportsAtStartAndABadFileStopsTheStart() throws Exception {
        Path file = dir.resolve("definitions.json");
        Files.writeString(file, fixture());
        try (RunningBroker broker = RunningBroker.start(dir.resolve("data"), c -> c.toBuilder()
                .loadDefinitions(file).build())) {
            assertFixtureApplied(broker);
        }
        Path bad = dir.resolve("bad.json");
        Files.writeString(bad, "{\"vhosts\":[{\"name\":\"v\"}],\"queues\":[{\"name\":\"q\",\"vhost\":\"v\","
                + "\"arguments\":{\"x-overflow\":\"sideways\"}}]}");
        assertThatThrownBy(() -> RunningBroker.start(dir.resolve("data2"), c -> c.toBuilder().loadDefinitions(bad)
                .build())).isInstanceOf(IOException.class).hasMessageContaining(bad.toString())
                .hasMessageContaining("queues[0] (queue 'q' in vhost 'v'): 406 PRECONDITION_FAILED - invalid arg "
                        + "'x-overflow'");
    }
}
