package io.holdfast.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.BuiltinExchangeType;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.DeliverCallback;
import com.rabbitmq.client.GetResponse;
import com.rabbitmq.client.LongString;
import com.rabbitmq.client.MessageProperties;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Date;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Dead-lettering through the RabbitMQ Java client: rejected, expired, maxlen (drop-head and reject-publish-dlx)
 * and delivery_limit messages reach the dead-letter queue with {@code x-death} in the types the client decodes,
 * and a persistent dead-lettered message survives a restart.
 */
class DeadLetterTest {
    @TempDir
    Path dir;

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String text(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }

    /** Declares the durable direct exchange "dlx", a queue "dlq" bound to it with {@code key}, and "work". */
    private static void topology(Channel ch, String key, boolean durable, Map<String, Object> workArgs)
            throws Exception {
        ch.exchangeDeclare("dlx", BuiltinExchangeType.DIRECT, true);
        ch.queueDeclare("dlq", durable, false, false, null);
        ch.queueBind("dlq", "dlx", key);
        Map<String, Object> args = new HashMap<>(workArgs);
        args.put("x-dead-letter-exchange", "dlx");
        ch.queueDeclare("work", durable, false, false, args);
    }

    private static GetResponse awaitGet(Channel ch, String queue) {
        return awaitGet(ch, queue, true);
    }

    private static GetResponse awaitGetUnacked(Channel ch, String queue) {
        return awaitGet(ch, queue, false);
    }

    private static GetResponse awaitGet(Channel ch, String queue, boolean autoAck) {
        GetResponse[] got = new GetResponse[1];
        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(20)).until(() -> {
            got[0] = ch.basicGet(queue, autoAck);
            return got[0] != null;
        });
        return got[0];
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> firstDeath(GetResponse r) {
        List<Object> deaths = (List<Object>) r.getProps().getHeaders().get("x-death");
        assertThat(deaths).isNotEmpty();
        return (Map<String, Object>) deaths.get(0);
    }

    @Test
    void aRejectedMessageArrivesWithXDeathInTheClientsTypes() throws Exception {
        try (RunningBroker broker = RunningBroker.start(dir); Connection conn = broker.connect()) {
            Channel ch = conn.createChannel();
            topology(ch, "work", false, Map.of());
            AMQP.BasicProperties props = MessageProperties.TEXT_PLAIN.builder().messageId("id-1")
                    .headers(Map.of("kind", "test")).build();
            ch.basicPublish("", "work", props, utf8("bad"));
            GetResponse unacked = awaitGetUnacked(ch, "work");
            long before = System.currentTimeMillis() / 1000 * 1000;
            ch.basicReject(unacked.getEnvelope().getDeliveryTag(), false);

            GetResponse d = awaitGet(ch, "dlq");
            assertThat(text(d.getBody())).isEqualTo("bad");
            assertThat(d.getEnvelope().getExchange()).isEqualTo("dlx");
            assertThat(d.getEnvelope().getRoutingKey()).isEqualTo("work");
            assertThat(d.getEnvelope().isRedeliver()).isFalse();
            assertThat(d.getProps().getMessageId()).isEqualTo("id-1");
            assertThat(d.getProps().getContentType()).isEqualTo("text/plain");
            Map<String, Object> h = d.getProps().getHeaders();
            assertThat(String.valueOf(h.get("kind"))).isEqualTo("test");
            assertThat(h).doesNotContainKey("x-delivery-count");
            Map<String, Object> death = firstDeath(d);
            assertThat(death.get("count")).isEqualTo(1L);
            assertThat(death.get("reason")).isInstanceOf(LongString.class);
            assertThat(death.get("reason").toString()).isEqualTo("rejected");
            assertThat(death.get("queue").toString()).isEqualTo("work");
            assertThat(death.get("exchange").toString()).isEmpty();
            assertThat(death.get("routing-keys")).isInstanceOf(List.class);
            assertThat(((List<?>) death.get("routing-keys")).stream().map(String::valueOf).toList())
                    .containsExactly("work");
            assertThat(death.get("time")).isInstanceOf(Date.class);
            long time = ((Date) death.get("time")).getTime();
            assertThat(time).isBetween(before - 1000, System.currentTimeMillis());
            assertThat(death).doesNotContainKey("original-expiration");
            assertThat(h.get("x-first-death-queue").toString()).isEqualTo("work");
            assertThat(h.get("x-first-death-reason").toString()).isEqualTo("rejected");
            assertThat(h.get("x-first-death-exchange").toString()).isEmpty();
            assertThat(h.get("x-last-death-queue").toString()).isEqualTo("work");
            assertThat(h.get("x-last-death-reason").toString()).isEqualTo("rejected");
            String m = Management.metrics(broker);
            assertThat(Management.sample(m, "holdfast_dead_lettered_messages_total")).isEqualTo(1);
            assertThat(Management.sample(m, "holdfast_dead_letter_dropped_total")).isZero();
        }
    }


    @Test
    void anXDeathWithRepeatedEntriesFromAnOlderBrokerIsMergedNotGrown() throws Exception {
        try (RunningBroker broker = RunningBroker.start(dir); Connection conn = broker.connect()) {
            Channel ch = conn.createChannel();
            topology(ch, "work", false, Map.of());
            // As brokers before RabbitMQ 3.5 wrote it: an entry per death, no count, newest first.
            List<Object> old = List.of(Map.of("queue", "work", "reason", "rejected", "exchange", "a"),
                    Map.of("queue", "work", "reason", "rejected", "exchange", "b"),
                    Map.of("queue", "elsewhere", "reason", "expired", "count", 3L));
            ch.basicPublish("", "work", MessageProperties.TEXT_PLAIN.builder()
                    .headers(Map.of("x-death", old)).build(), utf8("again"));
            GetResponse unacked = awaitGetUnacked(ch, "work");

            ch.basicReject(unacked.getEnvelope().getDeliveryTag(), false);

            @SuppressWarnings("unchecked")
            List<Map<String, Object>> deaths = (List<Map<String, Object>>) awaitGet(ch, "dlq").getProps()
                    .getHeaders().get("x-death");
            assertThat(deaths).extracting(d -> d.get("queue").toString(), d -> d.get("reason").toString(),
                    d -> d.get("count")).containsExactly(org.assertj.core.groups.Tuple.tuple("work", "rejected", 3L),
                    org.assertj.core.groups.Tuple.tuple("elsewhere", "expired", 3L));
            assertThat(deaths.get(0).get("exchange").toString()).as("the newest entry is kept").isEqualTo("a");
        }
    }

    @Test
    void expiredMessagesAreDeadLetteredAndLoseTheirExpiration() throws Exception {
        try (RunningBroker broker = RunningBroker.start(dir); Connection conn = broker.connect()) {
            Channel ch = conn.createChannel();
            topology(ch, "work", false, Map.of("x-message-ttl", 100));
            ch.basicPublish("", "work", null, utf8("queue-ttl"));
            GetResponse d = awaitGet(ch, "dlq");
            assertThat(text(d.getBody())).isEqualTo("queue-ttl");
            assertThat(firstDeath(d).get("reason").toString()).isEqualTo("expired");
            assertThat(firstDeath(d)).doesNotContainKey("original-expiration");

            ch.basicPublish("", "work", new AMQP.BasicProperties.Builder().expiration("50").build(),
                    utf8("message-ttl"));
            d = awaitGet(ch, "dlq");
            assertThat(text(d.getBody())).isEqualTo("message-ttl");
            assertThat(d.getProps().getExpiration()).isNull();
            assertThat(firstDeath(d).get("reason").toString()).isEqualTo("expired");
            assertThat(firstDeath(d).get("original-expiration").toString()).isEqualTo("50");
        }
    }

    @Test
    void dropHeadDeadLettersTheOldestAsMaxlen() throws Exception {
        try (RunningBroker broker = RunningBroker.start(dir); Connection conn = broker.connect()) {
            Channel ch = conn.createChannel();
            topology(ch, "work", false, Map.of("x-max-length", 2));
            for (int i = 1; i <= 3; i++) {
                ch.basicPublish("", "work", null, utf8("m" + i));
            }
            GetResponse d = awaitGet(ch, "dlq");
            assertThat(text(d.getBody())).isEqualTo("m1");
            assertThat(firstDeath(d).get("reason").toString()).isEqualTo("maxlen");
            assertThat(ch.queueDeclarePassive("work").getMessageCount()).isEqualTo(2);
        }
    }

    @Test
    void rejectPublishDlxNacksThePublisherAndDeadLettersTheRefusedMessage() throws Exception {
        try (RunningBroker broker = RunningBroker.start(dir); Connection conn = broker.connect()) {
            Channel ch = conn.createChannel();
            topology(ch, "work", false, Map.of("x-max-length", 1, "x-overflow", "reject-publish-dlx"));
            ch.confirmSelect();
            ch.basicPublish("", "work", null, utf8("kept"));
            assertThat(ch.waitForConfirms(5_000)).isTrue();
            ch.basicPublish("", "work", null, utf8("refused"));
            assertThat(ch.waitForConfirms(5_000)).as("the publisher hears of the refusal").isFalse();
            GetResponse d = awaitGet(ch, "dlq");
            assertThat(text(d.getBody())).isEqualTo("refused");
            assertThat(firstDeath(d).get("reason").toString()).isEqualTo("maxlen");
            assertThat(text(ch.basicGet("work", true).getBody())).isEqualTo("kept");
        }
    }

    @Test
    void aMessageAConsumerKeepsFailingOnEndsInTheDlqWhileTheOthersFlow() throws Exception {
        try (RunningBroker broker = RunningBroker.start(dir); Connection conn = broker.connect()) {
            Channel ch = conn.createChannel();
            topology(ch, "work", true, Map.of("x-delivery-limit", 2));
            ch.confirmSelect();
            for (int i = 1; i <= 10; i++) {
                String body = i == 4 ? "poison" : "m" + i;
                ch.basicPublish("", "work", MessageProperties.PERSISTENT_TEXT_PLAIN, utf8(body));
            }
            assertThat(ch.waitForConfirms(10_000)).isTrue();

            List<String> acked = Collections.synchronizedList(new ArrayList<>());
            Channel consumer = conn.createChannel();
            consumer.basicQos(2);
            DeliverCallback onDeliver = (tag, d) -> {
                long deliveryTag = d.getEnvelope().getDeliveryTag();
                if (text(d.getBody()).equals("poison")) {
                    consumer.basicNack(deliveryTag, false, true); // "crashes": back it goes
                } else {
                    acked.add(text(d.getBody()));
                    consumer.basicAck(deliveryTag, false);
                }
            };
            consumer.basicConsume("work", false, onDeliver, tag -> { });
            await().atMost(Duration.ofSeconds(10)).until(() -> acked.size() == 9
                    && ch.queueDeclarePassive("dlq").getMessageCount() == 1);
            assertThat(acked).containsExactly("m1", "m2", "m3", "m5", "m6", "m7", "m8", "m9", "m10");
            GetResponse d = ch.basicGet("dlq", true);
            assertThat(text(d.getBody())).isEqualTo("poison");
            assertThat(firstDeath(d).get("reason").toString()).isEqualTo("delivery_limit");
            assertThat(d.getEnvelope().isRedeliver()).isFalse();
            assertThat(d.getProps().getHeaders()).doesNotContainKey("x-delivery-count");
            assertThat(ch.queueDeclarePassive("work").getMessageCount()).isZero();
            Channel probe = conn.createChannel();
            try {
                probe.queueDeclarePassive("holdfast.quarantine");
                throw new AssertionError("the quarantine queue should not exist");
            } catch (java.io.IOException expected) {
                // 404: nothing was quarantined
            }
        }
    }

    @Test
    void aPersistentDeadLetteredMessageSurvivesARestart() throws Exception {
        try (RunningBroker broker = RunningBroker.start(dir)) {
            try (Connection conn = broker.connect()) {
                Channel ch = conn.createChannel();
                topology(ch, "work", true, Map.of());
                ch.confirmSelect();
                ch.basicPublish("", "work", MessageProperties.PERSISTENT_TEXT_PLAIN, utf8("keep me"));
                assertThat(ch.waitForConfirms(10_000)).isTrue();
                GetResponse r = ch.basicGet("work", false);
                ch.basicReject(r.getEnvelope().getDeliveryTag(), false);
                await().atMost(Duration.ofSeconds(5))
                        .until(() -> ch.queueDeclarePassive("dlq").getMessageCount() == 1);
            }

            broker.restart();

            try (Connection conn = broker.connect()) {
                Channel ch = conn.createChannel();
                assertThat(ch.queueDeclarePassive("work").getMessageCount()).isZero();
                assertThat(ch.queueDeclarePassive("dlq").getMessageCount()).isEqualTo(1);
                GetResponse d = ch.basicGet("dlq", true);
                assertThat(text(d.getBody())).isEqualTo("keep me");
                assertThat(d.getProps().getDeliveryMode()).isEqualTo(2);
                assertThat(d.getEnvelope().getExchange()).isEqualTo("dlx");
                Map<String, Object> death = firstDeath(d);
                assertThat(death.get("count")).isEqualTo(1L);
                assertThat(death.get("reason").toString()).isEqualTo("rejected");
                assertThat(death.get("time")).isInstanceOf(Date.class);
            }
        }
    }

    @Test
    void aDeadLetteredMessageSurvivesKillDashNine() throws Exception {
        Path data = dir.resolve("data");
        try (ChildBroker broker = ChildBroker.spawn(data, ChildBroker.testConfig(dir), dir.resolve("first.log"))) {
            broker.awaitListening(60);
            try (Connection conn = broker.connect("dlx")) {
                Channel ch = conn.createChannel();
                topology(ch, "work", true, Map.of("x-delivery-limit", 0));
                ch.confirmSelect();
                ch.basicPublish("", "work", MessageProperties.PERSISTENT_TEXT_PLAIN, utf8("a"));
                ch.basicPublish("", "work", MessageProperties.PERSISTENT_TEXT_PLAIN, utf8("b"));
                ch.waitForConfirmsOrDie(10_000);
                ch.basicReject(ch.basicGet("work", false).getEnvelope().getDeliveryTag(), false);
                ch.basicNack(ch.basicGet("work", false).getEnvelope().getDeliveryTag(), false, true); // over 0
                ch.queueDeclarePassive("work"); // a round trip: the rejections are processed
                // The originals leave "work" only once their copies are durable, and nothing waits for that
                // removal. Two confirmed publishes after it: the first one's confirm comes after the copies'
                // writes completed (so the removals are queued to the journal), the second one's after the
                // removals are durable. Without them a kill can leave a duplicate in "work" (never a loss).
                ch.queueDeclare("markers", true, false, false, null);
                for (int i = 0; i < 2; i++) {
                    ch.basicPublish("", "markers", MessageProperties.PERSISTENT_TEXT_PLAIN, utf8("marker"));
                    ch.waitForConfirmsOrDie(10_000);
                }
            }
            broker.kill();
        }
        try (ChildBroker broker = ChildBroker.spawn(data, ChildBroker.testConfig(dir), dir.resolve("second.log"))) {
            broker.awaitListening(60);
            try (Connection conn = broker.connect("dlx")) {
                Channel ch = conn.createChannel();
                assertThat(ch.queueDeclarePassive("work").getMessageCount()).isZero();
                assertThat(ch.queueDeclarePassive("dlq").getMessageCount()).isEqualTo(2);
                GetResponse first = ch.basicGet("dlq", true);
                assertThat(text(first.getBody())).isEqualTo("a");
                assertThat(firstDeath(first).get("reason").toString()).isEqualTo("rejected");
                GetResponse second = ch.basicGet("dlq", true);
                assertThat(text(second.getBody())).isEqualTo("b");
                assertThat(firstDeath(second).get("reason").toString()).isEqualTo("delivery_limit");
            }
        }
    }

    @Test
    void wrongArgumentTypesAreRefusedNamingTheArgument() throws Exception {
        try (RunningBroker broker = RunningBroker.start(dir); Connection conn = broker.connect()) {
            Channel ch = conn.createChannel();
            AMQP.Channel.Close close = AmqpAssertions.assertChannelClosedWith(406, () ->
                    ch.queueDeclare("bad", false, false, false, Map.of("x-dead-letter-exchange", 42)));
            assertThat(close.getReplyText()).contains("x-dead-letter-exchange");
        }
    }
}
