package io.holdfast.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.GetResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SmokeTest {
    @TempDir
    Path dir;

    @Test
    void publishedMessageComesBackThroughGet() throws Exception {
        try (RunningBroker broker = RunningBroker.start(dir); Connection c = broker.connect()) {
            Channel ch = c.createChannel();
            String q = ch.queueDeclare().getQueue();
            assertThat(q).startsWith("amq.gen-");
            ch.basicPublish("", q, new AMQP.BasicProperties.Builder().contentType("text/plain").build(),
                    "hello".getBytes(StandardCharsets.UTF_8));
            GetResponse r = ch.basicGet(q, true);
            assertThat(r).isNotNull();
            assertThat(new String(r.getBody(), StandardCharsets.UTF_8)).isEqualTo("hello");
            assertThat(r.getProps().getContentType()).isEqualTo("text/plain");
        }
    }

    @Test
    void persistentMessageOnDurableQueueSurvivesRestart() throws Exception {
        try (RunningBroker broker = RunningBroker.start(dir)) {
            try (Connection c = broker.connect()) {
                Channel ch = c.createChannel();
                ch.queueDeclare("durable-q", true, false, false, null);
                ch.confirmSelect();
                ch.basicPublish("", "durable-q", new AMQP.BasicProperties.Builder().deliveryMode(2).build(),
                        "kept".getBytes(StandardCharsets.UTF_8));
                ch.waitForConfirmsOrDie(5000);
            }
            broker.restart();
            try (Connection c = broker.connect()) {
                Channel ch = c.createChannel();
                GetResponse r = ch.basicGet("durable-q", true);
                assertThat(r).isNotNull();
                assertThat(new String(r.getBody(), StandardCharsets.UTF_8)).isEqualTo("kept");
            }
        }
    }
}
