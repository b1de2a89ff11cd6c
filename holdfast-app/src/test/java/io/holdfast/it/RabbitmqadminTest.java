package io.holdfast.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.MessageProperties;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * RabbitMQ's own {@code rabbitmqadmin} (the Python script of its management plugin, from Debian's
 * rabbitmq-server package; {@code .ci/run} extracts it to /usr/local/bin without installing RabbitMQ) reads a
 * Holdfast: a client nobody here wrote. Skipped where the script is missing.
 */
class RabbitmqadminTest {
    private static final Path RABBITMQADMIN = Path.of(System.getenv().getOrDefault("HOLDFAST_RABBITMQADMIN",
            "/usr/local/bin/rabbitmqadmin"));
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path dir;
    static RunningBroker broker;

    @BeforeAll
    static void start() throws Exception {
        assumeTrue(Files.isExecutable(RABBITMQADMIN) && Files.isExecutable(Path.of("/usr/bin/python3")),
                "rabbitmqadmin is not at " + RABBITMQADMIN);
        broker = RunningBroker.start(dir);
        try (Connection c = broker.connect(); Channel ch = c.createChannel()) {
            ch.exchangeDeclare("events", "fanout", true);
            ch.queueDeclare("audit", true, false, false, null);
            ch.queueBind("audit", "events", "");
            ch.confirmSelect();
            for (int i = 0; i < 5; i++) {
                ch.basicPublish("events", "", MessageProperties.PERSISTENT_BASIC, ("e" + i).getBytes());
            }
            ch.waitForConfirmsOrDie(10_000);
        }
    }

    @AfterAll
    static void stop() throws IOException {
        if (broker != null) {
            broker.close();
        }
    }

    private static String run(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("/usr/bin/python3", RABBITMQADMIN.toString(), "-H",
                "127.0.0.1", "-P", String.valueOf(broker.managementPort())));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        boolean finished = p.waitFor(60, TimeUnit.SECONDS);
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!finished) {
            p.destroyForcibly();
        }
        assertThat(finished).as("rabbitmqadmin %s finished: %s", args, output).isTrue();
        assertThat(p.exitValue()).as("rabbitmqadmin %s: %s", args, output).isZero();
        return output;
    }

    @Test
    void listsQueuesWithTheirMessageCounts() throws Exception {
        JsonNode queues = JSON.readTree(run("-f", "raw_json", "list", "queues"));
        assertThat(queues).anySatisfy(q -> {
            assertThat(q.get("name").asText()).isEqualTo("audit");
            assertThat(q.get("messages").asLong()).isEqualTo(5);
            assertThat(q.get("durable").asBoolean()).isTrue();
        });
        assertThat(run("list", "queues", "name", "messages")).containsPattern("\\| audit +\\| 5 +\\|");
    }

    @Test
    void declaresPublishesGetsPurgesAndDeletes() throws Exception {
        run("declare", "queue", "name=q", "durable=true");
        run("declare", "exchange", "name=admin-x", "type=direct", "durable=true");
        run("declare", "binding", "source=admin-x", "destination=q", "routing_key=to-q");
        try (Connection c = broker.connect(); Channel ch = c.createChannel()) {
            assertThat(ch.queueDeclarePassive("q").getMessageCount()).isZero();
            ch.exchangeDeclare("admin-x", "direct", true); // equivalent, so the same type and durability
            ch.confirmSelect();
            ch.basicPublish("admin-x", "to-q", null, "via-binding".getBytes(StandardCharsets.UTF_8));
            ch.waitForConfirmsOrDie(10_000);
            assertThat(ch.basicGet("q", true).getBody()).asString(StandardCharsets.UTF_8).isEqualTo("via-binding");
        }
        assertThat(run("publish", "routing_key=q", "payload=hello")).contains("Message published").doesNotContain("NOT routed");
        try (Connection c = broker.connect(); Channel ch = c.createChannel()) {
            assertThat(ch.queueDeclarePassive("q").getMessageCount()).isEqualTo(1);
        }
        JsonNode got = JSON.readTree(run("-f", "raw_json", "get", "queue=q", "ackmode=ack_requeue_false"));
        assertThat(got.get(0).get("payload").asText()).isEqualTo("hello");
        try (Connection c = broker.connect(); Channel ch = c.createChannel()) {
            assertThat(ch.queueDeclarePassive("q").getMessageCount()).isZero();
            ch.basicPublish("", "q", null, "one".getBytes(StandardCharsets.UTF_8));
            ch.basicPublish("", "q", null, "two".getBytes(StandardCharsets.UTF_8));
        }
        run("purge", "queue", "name=q");
        try (Connection c = broker.connect(); Channel ch = c.createChannel()) {
            assertThat(ch.queueDeclarePassive("q").getMessageCount()).isZero();
        }
        run("delete", "binding", "source=admin-x", "destination_type=queue", "destination=q",
                "properties_key=to-q");
        run("delete", "exchange", "name=admin-x");
        run("delete", "queue", "name=q");
        try (Connection c = broker.connect()) {
            assertThatThrownBy(() -> c.createChannel().queueDeclarePassive("q")).isInstanceOf(IOException.class);
            assertThatThrownBy(() -> c.createChannel().exchangeDeclarePassive("admin-x"))
                    .isInstanceOf(IOException.class);
        }
    }

    @Test
    void listsExchangesBindingsAndVhostsAndShowsTheOverview() throws Exception {
        assertThat(run("list", "exchanges", "name", "type")).containsPattern("\\| events +\\| fanout +\\|");
        assertThat(run("-f", "tsv", "list", "bindings", "source", "destination")).contains("events\taudit");
        assertThat(run("list", "vhosts")).containsPattern("\\| / +\\| 5 +\\|");
        assertThat(run("-f", "raw_json", "show", "overview")).contains("\"queue_totals\"");
    }
}
