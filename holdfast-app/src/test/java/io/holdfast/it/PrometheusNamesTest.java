package io.holdfast.it;

import static io.holdfast.it.Management.metrics;
import static io.holdfast.it.Management.sample;
import static org.assertj.core.api.Assertions.assertThat;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.GetResponse;
import com.rabbitmq.client.MessageProperties;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** RabbitMQ's Prometheus plugin names on /metrics, counting what the Java client did, and the confirm latency. */
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
            assertThat(sample(m, "rabbitmq_queue_messages_ready{queue=\"kept\",vhost=\"/\"}")).isEqualTo(1);
            assertThat(sample(m, "rabbitmq_queue_messages{queue=\"q\",vhost=\"/\"}")).isZero();
            assertThat(sample(m, "rabbitmq_queues")).isEqualTo(2);
            assertThat(sample(m, "rabbitmq_connections")).isEqualTo(1);
            assertThat(sample(m, "rabbitmq_channels")).isEqualTo(1);
            assertThat(sample(m, "holdfast_confirm_latency_seconds_count")).isEqualTo(13);
            assertThat(m).contains("# TYPE holdfast_confirm_latency_seconds histogram")
                    .containsPattern("holdfast_confirm_latency_seconds_bucket\\{le=\"[0-9.]+\"\\} \\d+");
            assertThat(sample(m, "holdfast_queue_messages_ready{queue=\"kept\",vhost=\"/\"}"))
                    .as("Holdfast's own names stay").isEqualTo(1);

            // The per-queue meters live from scrape to scrape: a later one sees new values and loses deleted queues.
            ch.basicPublish("", "kept", MessageProperties.PERSISTENT_BASIC, "more".getBytes());
            ch.waitForConfirmsOrDie(10_000);
            ch.queueDelete("q");
            String later = metrics(broker);
            assertThat(sample(later, "rabbitmq_queue_messages_ready{queue=\"kept\",vhost=\"/\"}")).isEqualTo(2);
            assertThat(later).doesNotContain("queue=\"q\"");
            assertThat(sample(later, "rabbitmq_queues")).isEqualTo(1);
        }
    }
}
