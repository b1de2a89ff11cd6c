package io.holdfast.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.GetResponse;
import com.rabbitmq.client.MessageProperties;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A republish from quarantine loses nothing to kill -9: each copy is stored in its queue before it leaves
 * quarantine, so after a kill during a republish every message is in its queue or still in quarantine (a few
 * perhaps in both), and every step answered before the kill is in its queue.
 */
class QuarantineCrashTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int MESSAGES = 1000;
    private static final int STEPS_ANSWERED = 5;
    private static final int BATCH = 100;

    @TempDir
    Path dir;

    @Test
    void aKillDuringARepublishLeavesEveryMessageInItsQueueOrInQuarantine() throws Exception {
        Path data = dir.resolve("data");
        try (ChildBroker broker = ChildBroker.spawnWithManagement(data, dir, dir.resolve("first.log"))) {
            int port = broker.managementPort();
            try (Connection conn = broker.connect("poisoner")) {
                Channel ch = conn.createChannel();
                ch.queueDeclare("work", true, false, false, Map.of("x-delivery-limit", 0));
                ch.confirmSelect();
                for (int i = 0; i < MESSAGES; i++) {
                    ch.basicPublish("", "work", MessageProperties.PERSISTENT_BASIC, ("m" + i).getBytes());
                }
                ch.waitForConfirmsOrDie(30_000);
                for (GetResponse g; (g = ch.basicGet("work", false)) != null; ) {
                    ch.basicNack(g.getEnvelope().getDeliveryTag(), false, true);
                }
                assertThat(ch.queueDeclarePassive("holdfast.quarantine").getMessageCount()).isEqualTo(MESSAGES);
            }
            long after = 0;
            for (int step = 0; step < STEPS_ANSWERED; step++) {
                HttpResponse<String> r = Management.request(port, "POST", "/api/holdfast/quarantine/%2F/republish",
                        "guest", "guest", "{\"after\":" + after + ",\"batch\":" + BATCH + "}");
                assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
                JsonNode done = JSON.readTree(r.body());
                assertThat(done.get("republished").asInt()).isEqualTo(BATCH);
                after = done.get("next").asLong();
            }
            long cursor = after;
            Thread inFlight = new Thread(() -> {
                try {
                    Management.request(port, "POST", "/api/holdfast/quarantine/%2F/republish", "guest", "guest",
                            "{\"after\":" + cursor + ",\"batch\":10000}");
                } catch (Exception e) {
                    // the broker is killed under it: that is the point
                }
            });
            inFlight.start();
            broker.kill();
            inFlight.join(30_000);
        }
        try (ChildBroker broker = ChildBroker.spawn(data, ChildBroker.testConfig(dir), dir.resolve("second.log"))) {
            broker.awaitListening(60);
            try (Connection conn = broker.connect("check")) {
                Channel ch = conn.createChannel();
                Set<String> inWork = drain(ch, "work");
                Set<String> inQuarantine = drain(ch, "holdfast.quarantine");
                assertThat(inWork.size()).as("every answered step is stored").isGreaterThanOrEqualTo(
                        STEPS_ANSWERED * BATCH);
                Set<String> all = new HashSet<>(inWork);
                all.addAll(inQuarantine);
                assertThat(all).as("none lost").hasSize(MESSAGES);
            }
        }
    }

    private static Set<String> drain(Channel ch, String queue) throws Exception {
        Set<String> bodies = new HashSet<>();
        for (GetResponse g; (g = ch.basicGet(queue, true)) != null; ) {
            bodies.add(new String(g.getBody(), StandardCharsets.UTF_8));
        }
        return bodies;
    }
}
