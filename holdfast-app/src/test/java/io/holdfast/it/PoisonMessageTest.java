package io.holdfast.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.DeliverCallback;
import com.rabbitmq.client.GetResponse;
import com.rabbitmq.client.MessageProperties;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Poison messages are contained, never dropped silently (contract rule 2): with {@code x-delivery-limit} a
 * message a consumer keeps sending back ends in {@code holdfast.quarantine}, redeliveries count in
 * {@code x-delivery-count}, and the quarantined message survives a restart.
 */
class PoisonMessageTest {
    private static final String QUARANTINE = "holdfast.quarantine";

    @TempDir
    Path dir;

    @Test
    void aPoisonMessageEndsInQuarantineWhileTheOthersFlowInOrder() throws Exception {
        try (RunningBroker broker = RunningBroker.start(dir)) {
            List<String> acked = Collections.synchronizedList(new ArrayList<>());
            List<Object> poisonCounts = Collections.synchronizedList(new ArrayList<>());
            List<Boolean> poisonRedelivered = Collections.synchronizedList(new ArrayList<>());
            try (Connection conn = broker.connect()) {
                Channel ch = conn.createChannel();
                ch.queueDeclare("work", true, false, false, Map.of("x-delivery-limit", 3));
                ch.confirmSelect();
                AMQP.BasicProperties poisonProps = MessageProperties.PERSISTENT_TEXT_PLAIN.builder()
                        .messageId("poison-1").headers(Map.of("kind", "poison")).build();
                for (int i = 1; i <= 10; i++) {
                    if (i == 4) {
                        ch.basicPublish("", "work", poisonProps, "poison".getBytes(StandardCharsets.UTF_8));
                    }
                    ch.basicPublish("", "work", MessageProperties.PERSISTENT_TEXT_PLAIN,
                            ("m" + i).getBytes(StandardCharsets.UTF_8));
                }
                assertThat(ch.waitForConfirms(10_000)).isTrue();

                Channel consumer = conn.createChannel();
                consumer.basicQos(2);
                DeliverCallback onDeliver = (tag, d) -> {
                    String body = new String(d.getBody(), StandardCharsets.UTF_8);
                    long deliveryTag = d.getEnvelope().getDeliveryTag();
                    if (body.equals("poison")) {
                        Map<String, Object> h = d.getProperties().getHeaders();
                        poisonCounts.add(h == null ? null : h.get("x-delivery-count"));
                        poisonRedelivered.add(d.getEnvelope().isRedeliver());
                        consumer.basicNack(deliveryTag, false, true);
                    } else {
                        Map<String, Object> h = d.getProperties().getHeaders();
                        assertThat(h == null || !h.containsKey("x-delivery-count")).isTrue();
                        acked.add(body);
                        consumer.basicAck(deliveryTag, false);
                    }
                };
                consumer.basicConsume("work", false, onDeliver, tag -> { });

                await().atMost(Duration.ofSeconds(10)).until(() -> acked.size() == 10
                        && quarantined(conn) == 1);
                assertThat(acked).containsExactly("m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8", "m9", "m10");
                assertThat(poisonCounts).containsExactly(null, 1L, 2L, 3L);
                assertThat(poisonRedelivered).containsExactly(false, true, true, true);
                assertThat(ch.queueDeclarePassive("work").getMessageCount()).isZero();
                consumer.close();

                GetResponse q = ch.basicGet(QUARANTINE, false);
                assertPoison(q);
                assertThat(q.getEnvelope().isRedeliver()).isTrue();
                assertThat(q.getProps().getHeaders()).containsEntry("x-delivery-count", 4L);
                ch.basicNack(q.getEnvelope().getDeliveryTag(), false, true); // leave it there
            }

            broker.restart();

            try (Connection conn = broker.connect()) {
                Channel ch = conn.createChannel();
                assertThat(ch.queueDeclarePassive("work").getMessageCount()).isZero();
                assertThat(ch.queueDeclarePassive(QUARANTINE).getMessageCount()).isEqualTo(1);
                GetResponse q = ch.basicGet(QUARANTINE, true);
                assertPoison(q);
                assertThat(ch.basicGet(QUARANTINE, true)).isNull();
            }
        }
    }

    /** Messages ready in the quarantine queue, or -1 while it does not exist (the 404 closes only a spare channel). */
    private static long quarantined(Connection conn) {
        try {
            Channel c = conn.createChannel();
            long n = c.queueDeclarePassive(QUARANTINE).getMessageCount();
            c.close();
            return n;
        } catch (Exception e) {
            return -1;
        }
    }

    private static void assertPoison(GetResponse r) {
        assertThat(r).isNotNull();
        assertThat(new String(r.getBody(), StandardCharsets.UTF_8)).isEqualTo("poison");
        assertThat(r.getEnvelope().getExchange()).isEmpty();
        assertThat(r.getEnvelope().getRoutingKey()).isEqualTo("work");
        assertThat(r.getProps().getDeliveryMode()).isEqualTo(2);
        assertThat(r.getProps().getMessageId()).isEqualTo("poison-1");
        assertThat(r.getProps().getContentType()).isEqualTo("text/plain");
        assertThat(String.valueOf(r.getProps().getHeaders().get("kind"))).isEqualTo("poison");
    }

    @Test
    void aQueueWithoutALimitRequeuesWithoutHeaderOnFirstDelivery() throws Exception {
        try (RunningBroker broker = RunningBroker.start(dir); Connection conn = broker.connect()) {
            Channel ch = conn.createChannel();
            ch.queueDeclare("plain", false, false, false, null);
            ch.basicPublish("", "plain", null, "x".getBytes(StandardCharsets.UTF_8));
            for (long expected = 0; expected < 6; expected++) {
                GetResponse r = ch.basicGet("plain", false);
                assertThat(r).isNotNull();
                Map<String, Object> h = r.getProps().getHeaders();
                if (expected == 0) {
                    assertThat(h).isNull();
                } else {
                    assertThat(h).containsEntry("x-delivery-count", expected);
                }
                ch.basicReject(r.getEnvelope().getDeliveryTag(), true);
            }
            assertThat(ch.queueDeclarePassive("plain").getMessageCount()).isEqualTo(1);
        }
    }

    @Test
    void deliveryCountsSurviveKillDashNine() throws Exception {
        Path data = dir.resolve("data");
        try (ChildBroker broker = ChildBroker.spawn(data, ChildBroker.testConfig(dir), dir.resolve("first.log"))) {
            broker.awaitListening(60);
            try (Connection conn = broker.connect("poison")) {
                Channel ch = conn.createChannel();
                ch.queueDeclare("work", true, false, false, Map.of("x-delivery-limit", 3));
                ch.confirmSelect();
                ch.basicPublish("", "work", MessageProperties.PERSISTENT_TEXT_PLAIN,
                        "poison".getBytes(StandardCharsets.UTF_8));
                ch.waitForConfirmsOrDie(10_000);
                for (int i = 0; i < 3; i++) {
                    GetResponse r = ch.basicGet("work", false);
                    ch.basicNack(r.getEnvelope().getDeliveryTag(), false, true);
                }
                // The nacks' delivery-count records are journaled but not waited for (a returned message is
                // not a confirm). A confirmed publish after them is fsynced after them: then the kill cannot
                // lose them. Without it a kill can come first, and the count restarts lower (never a loss).
                ch.queueDeclare("marker", true, false, false, null);
                ch.basicPublish("", "marker", MessageProperties.PERSISTENT_TEXT_PLAIN, "m".getBytes(StandardCharsets.UTF_8));
                ch.waitForConfirmsOrDie(10_000);
            }
            broker.kill();
        }
        try (ChildBroker broker = ChildBroker.spawn(data, ChildBroker.testConfig(dir), dir.resolve("second.log"))) {
            broker.awaitListening(60);
            try (Connection conn = broker.connect("poison")) {
                Channel ch = conn.createChannel();
                GetResponse r = ch.basicGet("work", false);
                assertThat(r).isNotNull();
                assertThat(r.getEnvelope().isRedeliver()).isTrue();
                assertThat(r.getProps().getHeaders()).as("three deliveries before the crash")
                        .containsEntry("x-delivery-count", 3L);
                ch.basicNack(r.getEnvelope().getDeliveryTag(), false, true); // the 4th return: over the limit
                assertThat(ch.queueDeclarePassive("work").getMessageCount()).isZero();
                assertThat(ch.queueDeclarePassive(QUARANTINE).getMessageCount()).isEqualTo(1);
            }
        }
    }
}
