package io.holdfast.it;

import static org.assertj.core.api.Assertions.assertThat;
import static io.holdfast.it.Management.metrics;
import static io.holdfast.it.Management.perObjectMetrics;
import static io.holdfast.it.Management.request;
import static io.holdfast.it.Management.sample;
import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.GetResponse;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 3: after recovery skipped corrupt journal records the broker serves the rest and reports itself
 * degraded (health and metrics) until an operator acknowledges it; the acknowledgement survives a
 * restart that finds the same damage, and new damage degrades again.
 */
class HealthTest {
    private static final AMQP.BasicProperties PERSISTENT = new AMQP.BasicProperties.Builder().deliveryMode(2).build();
    private static final String QUEUE = "health-q";

    @TempDir
    Path dir;

    @Test
    void freshBrokerIsHealthyAndExportsGauges() throws Exception {
        try (RunningBroker broker = RunningBroker.start(dir); Connection c = broker.connect()) {
            HttpResponse<String> health = request(broker, "GET", "/api/health");
            assertThat(health.statusCode()).isEqualTo(200);
            assertThat(health.headers().firstValue("Content-Type")).hasValue("application/json");
            assertThat(health.body()).isEqualTo("{\"status\":\"ok\",\"corrupt_records_skipped\":0,"
                    + "\"torn_tail_bytes_truncated\":0,\"damage\":[],\"unreadable_messages_dropped\":0,\"disk_alarm\":false,"
                    + "\"memory_alarm\":false}");

            Channel ch = c.createChannel();
            ch.queueDeclare(QUEUE, true, false, false, null);
            String odd = "odd \"q\" \\ name";
            ch.queueDeclare(odd, false, false, false, null);
            ch.confirmSelect();
            for (int i = 0; i < 3; i++) {
                ch.basicPublish("", QUEUE, PERSISTENT, ("m" + i).getBytes(StandardCharsets.UTF_8));
            }
            ch.waitForConfirmsOrDie(10_000);
            Channel consumer = c.createChannel();
            consumer.basicQos(1);
            consumer.basicConsume(QUEUE, false, (tag, d) -> { }, tag -> { }); // holds one, never acks

            String q = "{queue=\"" + QUEUE + "\",vhost=\"/\"}";
            await().atMost(Duration.ofSeconds(10)).until(
                    () -> sample(perObjectMetrics(broker), "holdfast_queue_messages_unacked" + q) == 1);
            String m = perObjectMetrics(broker);
            assertThat(sample(m, "holdfast_queue_messages_ready" + q)).isEqualTo(2);
            assertThat(sample(m, "holdfast_queue_consumers" + q)).isEqualTo(1);
            assertThat(sample(m, "holdfast_queue_messages_ready{queue=\"odd \\\"q\\\" \\\\ name\",vhost=\"/\"}"))
                    .isZero();
            assertThat(sample(m, "holdfast_degraded")).isZero();
            assertThat(sample(m, "holdfast_journal_corrupt_records_skipped_total")).isZero();
            assertThat(sample(m, "holdfast_journal_torn_tail_bytes_truncated_total")).isZero();
            assertThat(sample(m, "holdfast_journal_segments")).isEqualTo(1);
            assertThat(sample(m, "holdfast_journal_disk_bytes")).isEqualTo(broker.server().engine().journalDiskBytes())
                    .isGreaterThan(20);
            assertThat(sample(m, "holdfast_disk_alarm")).isZero();
            assertThat(sample(m, "holdfast_memory_alarm")).isZero();
            assertThat(sample(m, "holdfast_heap_used_after_gc_bytes")).isNotNegative();
            assertThat(sample(m, "holdfast_connections")).isEqualTo(1);
            assertThat(m).contains("# TYPE holdfast_journal_corrupt_records_skipped_total counter\n",
                    "# TYPE holdfast_queue_consumers gauge\n");

            broker.server().diskMonitor().setLimitBytes(Long.MAX_VALUE);
            assertThat(request(broker, "GET", "/api/health").body()).contains("\"disk_alarm\":true");
            assertThat(sample(metrics(broker), "holdfast_disk_alarm")).isEqualTo(1);
            broker.server().diskMonitor().setLimitBytes(0);
        }
    }

    @Test
    void wrongPathsAndMethodsGetJsonErrors() throws Exception {
        try (RunningBroker broker = RunningBroker.start(dir)) {
            HttpResponse<String> notFound = request(broker, "GET", "/api/nope");
            assertThat(notFound.statusCode()).isEqualTo(404);
            assertThat(notFound.headers().firstValue("Content-Type")).hasValue("application/json");
            assertThat(notFound.body()).startsWith("{\"error\":\"not_found\",\"reason\":\"no endpoint GET /api/nope");

            HttpResponse<String> getAck = request(broker, "GET", "/api/health/acknowledge");
            assertThat(getAck.statusCode()).isEqualTo(405);
            assertThat(getAck.headers().firstValue("Allow")).hasValue("POST");
            assertThat(getAck.body()).isEqualTo("{\"error\":\"method_not_allowed\","
                    + "\"reason\":\"/api/health/acknowledge takes POST, not GET\"}");
            assertThat(request(broker, "POST", "/api/health").statusCode()).isEqualTo(405);
            assertThat(request(broker, "DELETE", "/metrics").headers().firstValue("Allow")).hasValue("GET, HEAD");

            HttpResponse<String> ack = request(broker, "POST", "/api/health/acknowledge");
            assertThat(ack.statusCode()).isEqualTo(200);
            assertThat(ack.body()).startsWith("{\"status\":\"ok\"");
        }
    }

    @Test
    void corruptRecordDegradesUntilAcknowledgedAndNewDamageDegradesAgain() throws Exception {
        try (RunningBroker broker = RunningBroker.start(dir); Connection c = broker.connect()) {
            Channel ch = c.createChannel();
            ch.queueDeclare(QUEUE, true, false, false, null);
            ch.confirmSelect();
            for (int i = 0; i < 5; i++) {
                ch.basicPublish("", QUEUE, PERSISTENT, ("m" + i).getBytes(StandardCharsets.UTF_8));
            }
            ch.waitForConfirmsOrDie(10_000);
        }
        String firstDamage = JournalFiles.corruptRecord(dir.resolve("journal"), 2); // m2; m3 and m4 follow it

        try (RunningBroker broker = RunningBroker.start(dir)) {
            HttpResponse<String> health = request(broker, "GET", "/api/health");
            assertThat(health.statusCode()).as(health.body()).isEqualTo(503);
            assertThat(health.body()).startsWith("{\"status\":\"degraded\",\"corrupt_records_skipped\":1,"
                            + "\"torn_tail_bytes_truncated\":0,\"damage\":[\"" + firstDamage + ": CRC mismatch")
                    .endsWith("],\"acknowledged\":false,\"unreadable_messages_dropped\":0,\"disk_alarm\":false,"
                            + "\"memory_alarm\":false}");
            String m = metrics(broker);
            assertThat(sample(m, "holdfast_degraded")).isEqualTo(1);
            assertThat(sample(m, "holdfast_journal_corrupt_records_skipped_total")).isEqualTo(1);
            assertThat(sample(m, "holdfast_queue_messages_ready")).as("the total, one queue").isEqualTo(4);

            HttpResponse<String> ack = request(broker, "POST", "/api/health/acknowledge");
            assertThat(ack.statusCode()).isEqualTo(200);
            assertThat(ack.body()).startsWith("{\"status\":\"ok\",\"corrupt_records_skipped\":1,")
                    .contains(firstDamage, "\"acknowledged\":true");
            assertThat(request(broker, "GET", "/api/health").statusCode()).isEqualTo(200);
            assertThat(sample(metrics(broker), "holdfast_degraded")).isZero();

            broker.restart(); // finds the same damage, which was acknowledged
            health = request(broker, "GET", "/api/health");
            assertThat(health.statusCode()).as(health.body()).isEqualTo(200);
            assertThat(health.body()).startsWith("{\"status\":\"ok\",\"corrupt_records_skipped\":1,")
                    .contains(firstDamage, "\"acknowledged\":true");
            assertThat(sample(metrics(broker), "holdfast_degraded")).isZero();
            assertThat(sample(metrics(broker), "holdfast_journal_corrupt_records_skipped_total")).isEqualTo(1);
        }

        String secondDamage = JournalFiles.corruptRecord(dir.resolve("journal"), 0); // m0: new damage, not acknowledged
        try (RunningBroker broker = RunningBroker.start(dir); Connection c = broker.connect()) {
            HttpResponse<String> health = request(broker, "GET", "/api/health");
            assertThat(health.statusCode()).as(health.body()).isEqualTo(503);
            assertThat(health.body()).startsWith("{\"status\":\"degraded\",\"corrupt_records_skipped\":2,")
                    .contains(firstDamage, secondDamage, "\"acknowledged\":false");
            assertThat(sample(metrics(broker), "holdfast_degraded")).isEqualTo(1);

            Channel ch = c.createChannel();
            List<String> served = new ArrayList<>();
            GetResponse r;
            while ((r = ch.basicGet(QUEUE, false)) != null) {
                served.add(new String(r.getBody(), StandardCharsets.UTF_8));
                ch.basicAck(r.getEnvelope().getDeliveryTag(), false);
            }
            assertThat(served).containsExactly("m1", "m3", "m4");
        }
    }
}
