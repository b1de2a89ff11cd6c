package io.holdfast.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.GetResponse;
import com.rabbitmq.client.MessageProperties;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Retry with backoff over TCP with the RabbitMQ Java client: {@code x-redelivery-backoff} holds a nacked message
 * back for its delay, then it takes its original place; the hold survives a kill -9.
 */
class RedeliveryBackoffTest {
    @TempDir
    Path dir;

    /** One delivery as the consumer saw it, with the client's clock when it arrived. */
    private record Arrival(String body, long deliveryTag, boolean redelivered, Object deliveryCount, long atMillis) {}

    private static BlockingQueue<Arrival> consume(Channel ch, String queue) throws Exception {
        BlockingQueue<Arrival> arrivals = new LinkedBlockingQueue<>();
        ch.basicConsume(queue, false, (tag, d) -> {
            Map<String, Object> h = d.getProperties().getHeaders();
            arrivals.add(new Arrival(new String(d.getBody(), StandardCharsets.UTF_8), d.getEnvelope().getDeliveryTag(),
                    d.getEnvelope().isRedeliver(), h == null ? null : h.get("x-delivery-count"),
                    System.currentTimeMillis()));
        }, tag -> { });
        return arrivals;
    }

    private static Arrival next(BlockingQueue<Arrival> arrivals, long timeoutMillis) throws InterruptedException {
        Arrival a = arrivals.poll(timeoutMillis, TimeUnit.MILLISECONDS);
        assertThat(a).as("a delivery within %d ms", timeoutMillis).isNotNull();
        return a;
    }

    private static void publish(Channel ch, String queue, String... bodies) throws Exception {
        ch.confirmSelect();
        for (String body : bodies) {
            ch.basicPublish("", queue, MessageProperties.PERSISTENT_TEXT_PLAIN, body.getBytes(StandardCharsets.UTF_8));
        }
        ch.waitForConfirmsOrDie(10_000);
    }

    @Test
    void aNackedMessageComesBackAfterItsDelayInItsOriginalPlace() throws Exception {
        try (RunningBroker broker = RunningBroker.start(dir); Connection conn = broker.connect()) {
            Channel ch = conn.createChannel();
            ch.queueDeclare("retry", true, false, false, Map.of("x-redelivery-backoff", "300ms,1s"));
            publish(ch, "retry", "a", "b", "c");
            Channel consumer = conn.createChannel();
            consumer.basicQos(1);
            BlockingQueue<Arrival> arrivals = consume(consumer, "retry");

            Arrival a = next(arrivals, 5000);
            assertThat(a.body()).isEqualTo("a");
            long nackedAt = System.currentTimeMillis();
            consumer.basicNack(a.deliveryTag(), false, true);
            Arrival b = next(arrivals, 5000);
            assertThat(b.body()).as("a is held back, b goes meanwhile").isEqualTo("b");
            assertThat(ch.queueDeclarePassive("retry").getMessageCount()).as("a and c are in the queue").isEqualTo(2);
            String series = "{queue=\"retry\",vhost=\"/\"}";
            String metrics = Management.perObjectMetrics(broker);
            if (Management.sample(metrics, "holdfast_queue_messages_ready" + series) == 1) { // else a is already due
                assertThat(Management.sample(metrics, "holdfast_queue_messages_held" + series)).isEqualTo(1);
            }

            // b stays unacked (prefetch 1) until a is ready again, so a and c compete for the next delivery.
            await().atMost(Duration.ofSeconds(3)).pollInterval(Duration.ofMillis(20)).until(() -> broker.server().engine()
                    .query(k -> k.virtualHost("/").queue("retry").readyCount()) == 2);
            assertThat(System.currentTimeMillis() - nackedAt).as("held for its 300 ms").isGreaterThanOrEqualTo(300);
            consumer.basicAck(b.deliveryTag(), false);
            Arrival again = next(arrivals, 5000);
            assertThat(again.body()).as("back in its original place, ahead of c").isEqualTo("a");
            assertThat(again.redelivered()).isTrue();
            assertThat(again.deliveryCount()).isEqualTo(1L);

            long nackedAgainAt = System.currentTimeMillis();
            consumer.basicNack(again.deliveryTag(), false, true); // the second return waits 1 s
            Arrival c = next(arrivals, 5000);
            assertThat(c.body()).isEqualTo("c");
            consumer.basicAck(c.deliveryTag(), false);
            Arrival third = next(arrivals, 5000);
            assertThat(third.body()).isEqualTo("a");
            assertThat(third.atMillis() - nackedAgainAt).isBetween(1000L, 4000L);
            assertThat(third.deliveryCount()).isEqualTo(2L);
            consumer.basicAck(third.deliveryTag(), false);
            assertThat(ch.queueDeclarePassive("retry").getMessageCount()).isZero();
        }
    }

    @Test
    void aBackoffThatDoesNotParseIsRefusedNamingTheArgument() throws Exception {
        try (RunningBroker broker = RunningBroker.start(dir); Connection conn = broker.connect()) {
            Channel ch = conn.createChannel();
            com.rabbitmq.client.AMQP.Channel.Close close = AmqpAssertions.assertChannelClosedWith(406, () ->
                    ch.queueDeclare("bad", true, false, false, Map.of("x-redelivery-backoff", "1s,soon")));
            assertThat(close.getReplyText()).contains("invalid arg 'x-redelivery-backoff' for queue").contains("soon");
        }
    }

    /** The latest time any message of {@code queue} is held until, or -1 (asked on the broker thread). */
    private static long heldUntil(RunningBroker broker, String queue) {
        return broker.server().engine().query(b -> {
            io.holdfast.core.Queue q = b.virtualHost("/").queue(queue);
            long[] latest = {-1};
            q.forEachEntry(e -> latest[0] = Math.max(latest[0], q.heldUntilMillis(e)));
            return latest[0];
        });
    }

    @Test
    void compactionMovesAHeldMessageWithItsReadyTime() throws Exception {
        Path journal = dir.resolve("journal");
        try (RunningBroker broker = RunningBroker.start(dir, c -> c.toBuilder().segmentBytesMax(256 * 1024).build())) {
            long readyAt;
            try (Connection conn = broker.connect()) {
                Channel ch = conn.createChannel();
                ch.queueDeclare("retry", true, false, false, Map.of("x-redelivery-backoff", "10m"));
                ch.queueDeclare("busy", true, false, false, null);
                publish(ch, "retry", "a");
                GetResponse r = ch.basicGet("retry", false);
                ch.basicNack(r.getEnvelope().getDeliveryTag(), false, true);
                ch.queueDeclarePassive("retry"); // a round trip: the nack is processed
                readyAt = heldUntil(broker, "retry");
                assertThat(readyAt).isGreaterThan(System.currentTimeMillis() + 9 * 60_000);
                Path first = JournalFiles.segments(journal).get(0);

                String[] filler = new String[1000];
                java.util.Arrays.fill(filler, "x".repeat(1024));
                publish(ch, "busy", filler);
                assertThat(JournalFiles.segments(journal)).as("1 MB fills several segments").hasSizeGreaterThan(3);
                ch.queuePurge("busy");
                // The first segment now pins only the held message: compaction copies it (and its hold) ahead.
                await().atMost(Duration.ofSeconds(20)).until(() -> !java.nio.file.Files.exists(first));
                assertThat(heldUntil(broker, "retry")).isEqualTo(readyAt);
            }
            broker.restart();
            assertThat(heldUntil(broker, "retry")).as("held until the same time after the restart").isEqualTo(readyAt);
            try (Connection conn = broker.connect()) {
                Channel ch = conn.createChannel();
                assertThat(ch.queueDeclarePassive("retry").getMessageCount()).isEqualTo(1);
                assertThat(ch.basicGet("retry", true)).as("still held back").isNull();
            }
        }
    }

    @Test
    void aHeldMessageIsStillHeldAfterKillDashNineAndComesBackOnTime() throws Exception {
        Path data = dir.resolve("data");
        long delayMillis;
        long nackedAt;
        long spawnedAt = System.currentTimeMillis();
        try (ChildBroker broker = ChildBroker.spawn(data, ChildBroker.testConfig(dir), dir.resolve("first.log"))) {
            broker.awaitListening(60);
            // The restart must fall inside the hold: on a loaded machine a start takes longer, so the delay is
            // sized from this start rather than assumed.
            delayMillis = Math.max(8000, 4 * (System.currentTimeMillis() - spawnedAt));
            try (Connection conn = broker.connect("backoff")) {
                Channel ch = conn.createChannel();
                ch.queueDeclare("retry", true, false, false, Map.of("x-redelivery-backoff", delayMillis + "ms"));
                publish(ch, "retry", "a");
                GetResponse r = ch.basicGet("retry", false);
                assertThat(new String(r.getBody(), StandardCharsets.UTF_8)).isEqualTo("a");
                nackedAt = System.currentTimeMillis();
                ch.basicNack(r.getEnvelope().getDeliveryTag(), false, true);
                // A confirmed publish after the nack: the journal is in order, so the hold's record is durable too.
                publish(ch, "retry", "b");
            }
            broker.kill();
        }
        try (ChildBroker broker = ChildBroker.spawn(data, ChildBroker.testConfig(dir), dir.resolve("second.log"))) {
            broker.awaitListening(60);
            try (Connection conn = broker.connect("backoff")) {
                Channel ch = conn.createChannel();
                assertThat(System.currentTimeMillis()).as("restarted inside the hold")
                        .isLessThan(nackedAt + delayMillis - 1000);
                assertThat(ch.queueDeclarePassive("retry").getMessageCount()).isEqualTo(2);
                BlockingQueue<Arrival> arrivals = consume(ch, "retry");
                Arrival b = next(arrivals, 5000);
                assertThat(b.body()).as("a is still held back").isEqualTo("b");
                ch.basicAck(b.deliveryTag(), false);
                Arrival a = next(arrivals, delayMillis + 5000);
                assertThat(a.body()).isEqualTo("a");
                assertThat(a.atMillis()).as("not before its time").isGreaterThanOrEqualTo(nackedAt + delayMillis);
                assertThat(a.atMillis()).as("soon after it").isLessThan(nackedAt + delayMillis + 3000);
                assertThat(a.redelivered()).isTrue();
                assertThat(a.deliveryCount()).isEqualTo(1L);
                ch.basicAck(a.deliveryTag(), false);
            }
        }
    }
}
