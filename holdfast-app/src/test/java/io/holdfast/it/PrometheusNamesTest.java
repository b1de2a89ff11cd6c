package io.holdfast.it;

import static io.holdfast.it.Management.metrics;
import static io.holdfast.it.Management.perObjectMetrics;
import static io.holdfast.it.Management.sample;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.GetResponse;
import com.rabbitmq.client.MessageProperties;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * RabbitMQ's Prometheus plugin names and endpoints: {@code /metrics} with queue totals, counting what the Java client
 * did, and the confirm latency; {@code /metrics/per-object} with a series per queue; {@code /metrics/detailed} with
 * the families asked for; {@code prometheus.return_per_object_metrics}.
 */
class PrometheusNamesTest {
    @TempDir
    Path dir;

    @Test
    void rabbitMqsSeriesCountTheTrafficAndConfirmLatencyIsAHistogram() throws Exception {
        try (RunningBroker broker = RunningBroker.start(dir); Connection c = broker.connect()) {
            Channel ch = c.createChannel();
            ch.queueDeclare("q", true, false, false, null);
            ch.queueDeclare("kept", true, false, false, null);
            ch.confirmSelect();
            for (int i = 0; i < 10; i++) {
                ch.basicPublish("", "q", MessageProperties.PERSISTENT_BASIC, ("m" + i).getBytes());
            }
            ch.basicPublish("", "kept", MessageProperties.PERSISTENT_BASIC, "stays".getBytes());
            ch.basicPublish("", "nowhere", true, null, "returned".getBytes());
            ch.basicPublish("", "nowhere", false, null, "dropped".getBytes());
            ch.waitForConfirmsOrDie(10_000);
            for (int i = 0; i < 10; i++) {
                GetResponse r = ch.basicGet("q", false);
                ch.basicAck(r.getEnvelope().getDeliveryTag(), false);
            }

            String m = metrics(broker);
            assertThat(sample(m, "rabbitmq_global_messages_received_total")).isEqualTo(13);
            assertThat(sample(m, "rabbitmq_global_messages_received_confirm_total")).isEqualTo(13);
            assertThat(sample(m, "rabbitmq_global_messages_routed_total")).isEqualTo(11);
            assertThat(sample(m, "rabbitmq_global_messages_unroutable_returned_total")).isEqualTo(1);
            assertThat(sample(m, "rabbitmq_global_messages_unroutable_dropped_total")).isEqualTo(1);
            assertThat(sample(m, "rabbitmq_global_messages_confirmed_total")).isEqualTo(13);
            assertThat(sample(m, "rabbitmq_global_messages_delivered_total")).isEqualTo(10);
            assertThat(sample(m, "rabbitmq_global_messages_acknowledged_total")).isEqualTo(10);
            assertThat(sample(m, "rabbitmq_queue_messages_ready")).as("a total, as RabbitMQ's /metrics").isEqualTo(1);
            assertThat(m).as("no series per queue on /metrics").doesNotContain("queue=\"");
            assertThat(sample(m, "rabbitmq_queues")).isEqualTo(2);
            assertThat(sample(m, "rabbitmq_connections")).isEqualTo(1);
            assertThat(sample(m, "rabbitmq_channels")).isEqualTo(1);
            assertThat(sample(m, "holdfast_confirm_latency_seconds_count")).isEqualTo(13);
            assertThat(m).contains("# TYPE holdfast_confirm_latency_seconds histogram")
                    .containsPattern("holdfast_confirm_latency_seconds_bucket\\{le=\"[0-9.]+\"\\} \\d+");
            assertThat(sample(m, "holdfast_queue_messages_ready")).as("Holdfast's own names stay").isEqualTo(1);

            String perObject = perObjectMetrics(broker);
            assertThat(sample(perObject, "rabbitmq_queue_messages_ready{queue=\"kept\",vhost=\"/\"}")).isEqualTo(1);
            assertThat(sample(perObject, "rabbitmq_queue_messages{queue=\"q\",vhost=\"/\"}")).isZero();
            assertThat(sample(perObject, "holdfast_queue_messages_ready{queue=\"kept\",vhost=\"/\"}")).isEqualTo(1);
            assertThat(sample(perObject, "rabbitmq_global_messages_received_total")).as("and everything else")
                    .isEqualTo(13);
            assertThat(perObject).doesNotContainPattern("(?m)^rabbitmq_queue_messages_ready ").contains(
                    "# TYPE rabbitmq_queue_messages_ready gauge\n");

            // Each scrape reads the queues as they are now: new values, deleted queues gone.
            ch.basicPublish("", "kept", MessageProperties.PERSISTENT_BASIC, "more".getBytes());
            ch.waitForConfirmsOrDie(10_000);
            ch.queueDelete("q");
            String later = perObjectMetrics(broker);
            assertThat(sample(later, "rabbitmq_queue_messages_ready{queue=\"kept\",vhost=\"/\"}")).isEqualTo(2);
            assertThat(later).doesNotContain("queue=\"q\"");
            assertThat(sample(later, "rabbitmq_queues")).isEqualTo(1);
            assertThat(sample(metrics(broker), "rabbitmq_queue_messages_ready")).isEqualTo(2);
        }
    }

    @Test
    void detailedGivesOnlyTheFamiliesAndVhostsAskedFor() throws Exception {
        try (RunningBroker broker = RunningBroker.start(dir); Connection c = broker.connect()) {
            assertThat(Management.request(broker, "PUT", "/api/vhosts/other", "guest", "guest", "{}").statusCode())
                    .isEqualTo(201);
            assertThat(Management.request(broker, "PUT", "/api/permissions/other/guest", "guest", "guest",
                    "{\"configure\":\".*\",\"write\":\".*\",\"read\":\".*\"}").statusCode()).isEqualTo(201);
            assertThat(Management.request(broker, "PUT", "/api/queues/other/there", "guest", "guest",
                    "{\"durable\":true}").statusCode()).isEqualTo(201);
            Channel ch = c.createChannel();
            ch.queueDeclare("here", true, false, false, null);
            ch.confirmSelect();
            ch.basicPublish("", "here", MessageProperties.PERSISTENT_BASIC, "x".getBytes());
            ch.waitForConfirmsOrDie(10_000);
            ch.basicConsume("here", false, (tag, d) -> { }, tag -> { }); // takes the message, never acks
            await().atMost(Duration.ofSeconds(10)).until(() -> sample(
                    metrics(broker), "rabbitmq_queue_messages_unacked") == 1);

            String coarse = metrics(broker, "/metrics/detailed?family=queue_coarse_metrics");
            assertThat(sample(coarse, "rabbitmq_detailed_queue_messages_unacked{queue=\"here\",vhost=\"/\"}"))
                    .isEqualTo(1);
            assertThat(sample(coarse, "rabbitmq_detailed_queue_messages{queue=\"there\",vhost=\"other\"}")).isZero();
            assertThat(coarse).as("only the family asked for").doesNotContain("rabbitmq_detailed_queue_consumers",
                    "rabbitmq_global_", "holdfast_", "rabbitmq_connections");

            String consumers = metrics(broker, "/metrics/detailed?family=queue_consumer_count&vhost=%2F");
            assertThat(sample(consumers, "rabbitmq_detailed_queue_consumers{queue=\"here\",vhost=\"/\"}"))
                    .isEqualTo(1);
            assertThat(consumers).as("vhost / only").doesNotContain("queue=\"there\"", "messages_ready");

            String both = metrics(broker, "/metrics/detailed?family=queue_coarse_metrics&family=queue_consumer_count"
                    + "&family=no_such_family&vhost=other");
            assertThat(sample(both, "rabbitmq_detailed_queue_consumers{queue=\"there\",vhost=\"other\"}")).isZero();
            assertThat(sample(both, "rabbitmq_detailed_queue_messages_ready{queue=\"there\",vhost=\"other\"}"))
                    .isZero();
            assertThat(both).doesNotContain("queue=\"here\"");
            assertThat(metrics(broker, "/metrics/detailed")).as("no family, nothing, as RabbitMQ").isEmpty();
        }
    }

    @Test
    void returnPerObjectMetricsPutsTheSeriesPerQueueOnMetrics() throws Exception {
        try (RunningBroker broker = RunningBroker.start(dir, cfg -> cfg.toBuilder().prometheusPerObject(true).build());
             Connection c = broker.connect()) {
            c.createChannel().queueDeclare("one", true, false, false, null);
            String m = metrics(broker);
            assertThat(sample(m, "rabbitmq_queue_messages_ready{queue=\"one\",vhost=\"/\"}")).isZero();
            assertThat(sample(m, "rabbitmq_queues")).isEqualTo(1);
            assertThat(m).doesNotContainPattern("(?m)^rabbitmq_queue_messages_ready ");
        }
    }
}
