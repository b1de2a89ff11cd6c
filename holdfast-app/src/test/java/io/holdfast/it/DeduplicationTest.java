package io.holdfast.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.GetResponse;
import com.rabbitmq.client.MessageProperties;
import com.rabbitmq.client.ShutdownSignalException;
import io.holdfast.server.engine.Engine;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Publisher deduplication, {@code x-message-deduplication}: a publish whose message-id the queue took within its
 * window is confirmed but not enqueued again, and the window survives kill -9.
 */
class DeduplicationTest {
    private static final String ARG = "x-message-deduplication";

    @TempDir
    Path dir;

    private static AMQP.BasicProperties withId(String id) {
        return new AMQP.BasicProperties.Builder().messageId(id).deliveryMode(2).build();
    }

    private static void publish(Channel ch, String queue, String id, String body) throws IOException {
        ch.basicPublish("", queue, true, withId(id), body.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void aRetriedPublishIsAckedButEnqueuedOnce() throws Exception {
        try (RunningBroker broker = RunningBroker.start(dir); Connection conn = broker.connect()) {
            Channel ch = conn.createChannel();
            ch.queueDeclare("orders", true, false, false, Map.of(ARG, 100));
            ch.confirmSelect();
            int[] returned = {0};
            ch.addReturnListener(r -> returned[0]++);
            publish(ch, "orders", "order-1", "first");
            ch.waitForConfirmsOrDie(10_000);
            publish(ch, "orders", "order-1", "retry");
            ch.waitForConfirmsOrDie(10_000); // acked: a nack would throw

            // The retry on another connection, as after a lost confirm and a reconnect.
            try (Connection other = broker.connect()) {
                Channel ch2 = other.createChannel();
                ch2.confirmSelect();
                publish(ch2, "orders", "order-1", "again");
                ch2.waitForConfirmsOrDie(10_000);
            }

            assertThat(ch.queueDeclarePassive("orders").getMessageCount()).isEqualTo(1);
            GetResponse r = ch.basicGet("orders", true);
            assertThat(new String(r.getBody(), StandardCharsets.UTF_8)).isEqualTo("first");
            assertThat(returned[0]).as("a duplicate counts as routed: no basic.return").isZero();
            assertThat(Management.sample(Management.metrics(broker), "holdfast_deduplicated_messages_total"))
                    .isEqualTo(2);
        }
    }

    @Test
    void differentIdsAndMessagesWithoutAnIdAreAllEnqueued() throws Exception {
        try (RunningBroker broker = RunningBroker.start(dir); Connection conn = broker.connect()) {
            Channel ch = conn.createChannel();
            ch.queueDeclare("q", false, false, false, Map.of(ARG, "10m"));
            ch.confirmSelect();
            publish(ch, "q", "a", "1");
            publish(ch, "q", "b", "2");
            ch.basicPublish("", "q", null, "no id".getBytes(StandardCharsets.UTF_8));
            ch.basicPublish("", "q", null, "no id".getBytes(StandardCharsets.UTF_8));
            ch.waitForConfirmsOrDie(10_000);

            assertThat(ch.queueDeclarePassive("q").getMessageCount()).isEqualTo(4);
        }
    }

    @Test
    void aCountWindowForgetsTheOldestId() throws Exception {
        try (RunningBroker broker = RunningBroker.start(dir); Connection conn = broker.connect()) {
            Channel ch = conn.createChannel();
            ch.queueDeclare("q", true, false, false, Map.of(ARG, 2));
            ch.confirmSelect();
            publish(ch, "q", "a", "1");
            publish(ch, "q", "b", "2");
            publish(ch, "q", "a", "dup"); // still remembered
            publish(ch, "q", "c", "3"); // a leaves the window
            publish(ch, "q", "a", "4");
            ch.waitForConfirmsOrDie(10_000);

            assertThat(ch.queueDeclarePassive("q").getMessageCount()).isEqualTo(4);
        }
    }

    @Test
    void aBadWindowIsRefusedWith406NamingTheArgument() throws Exception {
        try (RunningBroker broker = RunningBroker.start(dir); Connection conn = broker.connect()) {
            Channel ch = conn.createChannel();
            IOException e = catchThrowableOfType(IOException.class,
                    () -> ch.queueDeclare("q", false, false, false, Map.of(ARG, "soon")));
            ShutdownSignalException s = (ShutdownSignalException) e.getCause();
            assertThat(((AMQP.Channel.Close) s.getReason()).getReplyCode()).isEqualTo(406);
            assertThat(s.getMessage()).contains("invalid arg 'x-message-deduplication' for queue");
        }
    }

    @Test
    void theWindowSurvivesKillDashNine() throws Exception {
        Path data = dir.resolve("data");
        try (ChildBroker broker = ChildBroker.spawn(data, ChildBroker.testConfig(dir), dir.resolve("first.log"))) {
            broker.awaitListening(60);
            try (Connection conn = broker.connect("dedup")) {
                Channel ch = conn.createChannel();
                ch.queueDeclare("payments", true, false, false, Map.of(ARG, 1000));
                ch.confirmSelect();
                publish(ch, "payments", "pay-X", "once");
                ch.waitForConfirmsOrDie(10_000);
                GetResponse r = ch.basicGet("payments", false);
                ch.basicAck(r.getEnvelope().getDeliveryTag(), false);
                assertThat(ch.queueDeclarePassive("payments").getMessageCount()).isZero();
            }
            broker.kill();
        }
        try (ChildBroker broker = ChildBroker.spawn(data, ChildBroker.testConfig(dir), dir.resolve("second.log"))) {
            broker.awaitListening(60);
            try (Connection conn = broker.connect("dedup")) {
                Channel ch = conn.createChannel();
                ch.confirmSelect();
                publish(ch, "payments", "pay-X", "retry after the crash");
                ch.waitForConfirmsOrDie(10_000);
                assertThat(ch.queueDeclarePassive("payments").getMessageCount()).as("remembered across kill -9")
                        .isZero();
                publish(ch, "payments", "pay-Y", "new");
                ch.waitForConfirmsOrDie(10_000);
                assertThat(ch.queueDeclarePassive("payments").getMessageCount()).isEqualTo(1);
            }
        }
    }

    @Test
    void compactionMovesTheWindowSoItNeitherPinsTheJournalNorForgets() throws Exception {
        try (RunningBroker broker = RunningBroker.start(dir, c -> c.toBuilder().segmentBytesMax(256 * 1024).build())) {
            Engine engine = broker.server().engine();
            try (Connection conn = broker.connect()) {
                Channel ch = conn.createChannel();
                ch.queueDeclare("dedup", true, false, false, Map.of(ARG, 10));
                ch.queueDeclare("busy", true, false, false, null);
                ch.confirmSelect();
                publish(ch, "dedup", "x", "the original");
                byte[] body = new byte[1024];
                for (int i = 0; i < 3000; i++) {
                    ch.basicPublish("", "busy", MessageProperties.PERSISTENT_BASIC, body);
                }
                ch.waitForConfirmsOrDie(30_000);
                ch.basicAck(ch.basicGet("dedup", false).getEnvelope().getDeliveryTag(), false);
                GetResponse r;
                while ((r = ch.basicGet("busy", false)) != null) {
                    ch.basicAck(r.getEnvelope().getDeliveryTag(), false);
                }
                await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(engine.journalSegments())
                        .as("the window's record was moved out of the old segments").isLessThanOrEqualTo(3));
            }
            broker.restart();
            try (Connection conn = broker.connect()) {
                Channel ch = conn.createChannel();
                ch.confirmSelect();
                publish(ch, "dedup", "x", "a retry");
                ch.waitForConfirmsOrDie(10_000);
                assertThat(ch.queueDeclarePassive("dedup").getMessageCount()).as("still remembered").isZero();
            }
        }
    }
}
