package io.holdfast.it;

import static io.holdfast.it.AmqpAssertions.awaitChannelClosedWith;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.DefaultConsumer;
import com.rabbitmq.client.Envelope;
import com.rabbitmq.client.GetResponse;
import com.rabbitmq.client.MessageProperties;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Message TTL ({@code x-message-ttl}, the {@code expiration} property) through the Java client. */
class MessageTtlTest extends SharedBrokerTest {
    private static AMQP.BasicProperties expiring(String expiration) {
        return MessageProperties.PERSISTENT_TEXT_PLAIN.builder().expiration(expiration).build();
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private void awaitEmpty(Channel c, String q) {
        await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(20))
                .until(() -> c.queueDeclarePassive(q).getMessageCount() == 0);
    }

    @Test
    void queueTtlExpiresMessagesNobodyReads() throws Exception {
        ch.queueDeclare("ttl-queue", true, false, false, Map.of("x-message-ttl", 300));
        for (int i = 0; i < 5; i++) {
            ch.basicPublish("", "ttl-queue", MessageProperties.PERSISTENT_TEXT_PLAIN, utf8("m" + i));
        }
        assertThat(ch.queueDeclarePassive("ttl-queue").getMessageCount()).isEqualTo(5);

        awaitEmpty(ch, "ttl-queue");
        assertThat(ch.basicGet("ttl-queue", true)).isNull();
    }

    @Test
    void expirationPropertyExpiresOnlyThatMessage() throws Exception {
        ch.queueDeclare("per-message", false, false, false, null);
        ch.basicPublish("", "per-message", expiring("200"), utf8("short"));
        ch.basicPublish("", "per-message", MessageProperties.TEXT_PLAIN, utf8("forever"));

        await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(20))
                .until(() -> ch.queueDeclarePassive("per-message").getMessageCount() == 1);
        GetResponse got = ch.basicGet("per-message", true);
        assertThat(new String(got.getBody(), StandardCharsets.UTF_8)).isEqualTo("forever");
    }

    @Test
    void theShorterOfQueueTtlAndExpirationApplies() throws Exception {
        ch.queueDeclare("long-queue-ttl", false, false, false, Map.of("x-message-ttl", 600_000));
        ch.basicPublish("", "long-queue-ttl", expiring("200"), utf8("message-shorter"));
        ch.queueDeclare("short-queue-ttl", false, false, false, Map.of("x-message-ttl", 200));
        ch.basicPublish("", "short-queue-ttl", expiring("600000"), utf8("queue-shorter"));

        awaitEmpty(ch, "long-queue-ttl");
        awaitEmpty(ch, "short-queue-ttl");
    }

    @Test
    void anExpiredMessageIsDeadLetteredWithinMillisecondsOfItsTtl() throws Exception {
        ch.queueDeclare("ttl-exact-dlq", false, false, false, null);
        ch.queueDeclare("ttl-exact", false, false, false, Map.of("x-dead-letter-exchange", "",
                "x-dead-letter-routing-key", "ttl-exact-dlq"));
        int n = 10;
        long[] arrivedNanos = new long[n];
        CountDownLatch arrived = new CountDownLatch(n);
        CountDownLatch warmedUp = new CountDownLatch(1);
        Channel dlq = conn.createChannel();
        dlq.basicConsume("ttl-exact-dlq", true, (tag, d) -> {
            int i = Integer.parseInt(new String(d.getBody(), StandardCharsets.UTF_8));
            if (i < 0) {
                warmedUp.countDown();
                return;
            }
            arrivedNanos[i] = System.nanoTime();
            arrived.countDown();
        }, tag -> { });
        // The first dead-lettering loads and compiles its code path: not what is measured here.
        ch.basicPublish("", "ttl-exact", expiring("1"), utf8("-1"));
        assertThat(warmedUp.await(10, TimeUnit.SECONDS)).isTrue();
        // TTLs 30 ms apart, growing, so each message is at the head when its time comes.
        long[] dueNanos = new long[n];
        for (int i = 0; i < n; i++) {
            long ttl = 150 + 30L * i;
            dueNanos[i] = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(ttl);
            ch.basicPublish("", "ttl-exact", expiring(Long.toString(ttl)), utf8(Integer.toString(i)));
        }

        assertThat(arrived.await(10, TimeUnit.SECONDS)).isTrue();
        long[] lateMillis = new long[n];
        int apart = 0;
        for (int i = 0; i < n; i++) {
            lateMillis[i] = TimeUnit.NANOSECONDS.toMillis(arrivedNanos[i] - dueNanos[i]);
            if (i > 0 && arrivedNanos[i] - arrivedNanos[i - 1] >= TimeUnit.MILLISECONDS.toNanos(10)) {
                apart++;
            }
        }
        String seen = Arrays.toString(lateMillis);
        // Each on its own time, about 30 ms after the one before, where a 100 ms sweep lets three or four go
        // together (about 3 of the 9 gaps would be long); the bound leaves room for a stall on a loaded machine.
        assertThat(apart).as("arrivals at least 10 ms apart, of %d; lateness in ms %s", n - 1, seen)
                .isGreaterThanOrEqualTo(5);
        Arrays.sort(lateMillis);
        // A 100 ms sweep makes the typical one about 50 ms late; scheduled at its time it is late by the delivery
        // path alone. The bound leaves room for a loaded machine.
        assertThat(lateMillis[n / 2]).as("median lateness in ms of %s", seen).isLessThan(40);
        assertThat(lateMillis[0]).as("never early: %s", seen).isGreaterThanOrEqualTo(0);
    }

    @Test
    void ttlZeroReachesAWaitingConsumerAndIsOtherwiseDiscarded() throws Exception {
        ch.queueDeclare("ttl-zero", false, false, false, Map.of("x-message-ttl", 0));
        ch.basicPublish("", "ttl-zero", MessageProperties.TEXT_PLAIN, utf8("nobody-waits"));
        // Same channel, so the broker has handled the publish before the declare.
        assertThat(ch.queueDeclarePassive("ttl-zero").getMessageCount()).isZero();

        List<String> received = new CopyOnWriteArrayList<>();
        Channel consuming = conn.createChannel();
        consuming.basicConsume("ttl-zero", true, new DefaultConsumer(consuming) {
            @Override
            public void handleDelivery(String tag, Envelope env, AMQP.BasicProperties props, byte[] body) {
                received.add(new String(body, StandardCharsets.UTF_8));
            }
        });
        ch.basicPublish("", "ttl-zero", MessageProperties.TEXT_PLAIN, utf8("taken"));

        await().atMost(Duration.ofSeconds(5)).until(() -> received.equals(List.of("taken")));
    }

    @Test
    void invalidExpirationClosesTheChannelWith406() throws Exception {
        ch.queueDeclare("bad-expiration", false, false, false, null);
        for (String bad : new String[] {"abc", "-1"}) {
            Channel c = conn.createChannel();
            c.basicPublish("", "bad-expiration", expiring(bad), utf8("m"));
            AMQP.Channel.Close close = awaitChannelClosedWith(406, c);
            assertThat(close.getReplyText()).contains("invalid expiration '" + bad + "'");
        }
        assertThat(ch.queueDeclarePassive("bad-expiration").getMessageCount()).isZero();
    }

    /** Whether the queue exists, asked of the broker thread directly: any AMQP use would renew its lease. */
    private static boolean exists(String queue) {
        return broker.server().engine().query(b -> b.virtualHost("/").queue(queue) != null);
    }

    @Test
    void unusedQueueWithExpiresIsDeleted() throws Exception {
        ch.queueDeclare("leased", true, false, false, Map.of("x-expires", 300));
        ch.basicPublish("", "leased", MessageProperties.PERSISTENT_TEXT_PLAIN, utf8("m"));

        await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(20)).until(() -> !exists("leased"));
        AmqpAssertions.assertChannelClosedWith(404, () -> conn.createChannel().queueDeclarePassive("leased"));
    }

    @Test
    void passiveDeclareGetAndConsumeRenewTheLease() throws Exception {
        ch.queueDeclare("renewed", false, false, false, Map.of("x-expires", 400));

        // Every 100 ms for 1.2 s, three leases long, the queue is used and must still be there.
        await().during(Duration.ofMillis(1200)).atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(100))
                .until(() -> ch.queueDeclarePassive("renewed").getMessageCount() == 0);
        await().during(Duration.ofMillis(600)).atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(100))
                .until(() -> ch.basicGet("renewed", true) == null);
        String tag = ch.basicConsume("renewed", true, new DefaultConsumer(ch));
        await().during(Duration.ofMillis(600)).atMost(Duration.ofSeconds(5)).until(() -> exists("renewed"));
        ch.basicCancel(tag); // the lease counts from here

        await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(20)).until(() -> !exists("renewed"));
    }

    @Test
    void expiryCountsFromThePublishNotFromARestart(@TempDir Path ownDir) throws Exception {
        try (RunningBroker own = RunningBroker.start(ownDir)) {
            long publishedAt;
            try (Connection before = own.connect()) {
                Channel c = before.createChannel();
                c.queueDeclare("ttl-restart", true, false, false, null);
                c.confirmSelect();
                publishedAt = System.currentTimeMillis();
                c.basicPublish("", "ttl-restart", expiring("4000"), utf8("m"));
                c.waitForConfirmsOrDie(5000);
            }
            // The broker must be down for part of the message's life: wait ~1.5 s of it.
            await().pollDelay(Duration.ofMillis(1500)).atMost(Duration.ofSeconds(3)).until(() -> true);
            own.restart();

            try (Connection after = own.connect()) {
                Channel c = after.createChannel();
                assertThat(c.queueDeclarePassive("ttl-restart").getMessageCount()).as("still alive after restart")
                        .isEqualTo(1);
                assertThat(System.currentTimeMillis() - publishedAt).as("checked well before its expiry")
                        .isLessThan(3500);

                awaitEmpty(c, "ttl-restart");
                long goneAfter = System.currentTimeMillis() - publishedAt;
                // From the publish: ~4.0 s. Counted again from the restart it would be 5.5 s or more.
                assertThat(goneAfter).isBetween(3900L, 5000L);
            }
        }
    }

    @Test
    void expiryAfterKillDashNineStillCountsFromThePublish(@TempDir Path ownDir) throws Exception {
        Path data = ownDir.resolve("data");
        long publishedAt;
        long ttlMillis;
        long spawnedAt = System.currentTimeMillis();
        try (ChildBroker broker = ChildBroker.spawn(data, ChildBroker.testConfig(ownDir), ownDir.resolve("first.log"))) {
            broker.awaitListening(60);
            // The restart must fall inside the message's life: on a loaded machine a start takes longer, so the
            // TTL is sized from this start rather than assumed.
            ttlMillis = Math.max(8000, 4 * (System.currentTimeMillis() - spawnedAt));
            try (Connection conn = broker.connect("ttl")) {
                Channel c = conn.createChannel();
                c.queueDeclare("ttl-killed", true, false, false, Map.of("x-message-ttl", ttlMillis));
                c.confirmSelect();
                publishedAt = System.currentTimeMillis();
                c.basicPublish("", "ttl-killed", MessageProperties.PERSISTENT_TEXT_PLAIN, utf8("m"));
                c.waitForConfirmsOrDie(5000);
            }
            broker.kill();
        }
        try (ChildBroker broker = ChildBroker.spawn(data, ChildBroker.testConfig(ownDir), ownDir.resolve("second.log"))) {
            broker.awaitListening(60);
            try (Connection conn = broker.connect("ttl")) {
                Channel c = conn.createChannel();
                long restartedAfter = System.currentTimeMillis() - publishedAt;
                assertThat(restartedAfter).as("restarted before its expiry").isLessThan(ttlMillis - 1000);
                assertThat(c.queueDeclarePassive("ttl-killed").getMessageCount()).isEqualTo(1);
                await().atMost(Duration.ofMillis(ttlMillis + 5000)).pollInterval(Duration.ofMillis(20))
                        .until(() -> c.queueDeclarePassive("ttl-killed").getMessageCount() == 0);
                // Counted again from the restart it would be gone at restartedAfter + ttlMillis or later.
                assertThat(System.currentTimeMillis() - publishedAt).as("gone a TTL after the publish, not the restart")
                        .isBetween(ttlMillis - 100, ttlMillis + Math.min(1500, restartedAfter));
            }
        }
    }
}
