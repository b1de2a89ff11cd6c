package io.holdfast.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.DefaultConsumer;
import com.rabbitmq.client.Envelope;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.BitSet;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 10 item 4: a durable queue's backlog is bounded by disk, not heap. A child broker with a 48 MiB heap takes
 * 300,000 persistent messages, whose index on the heap would need over 19 MiB (64 bytes an entry at the least); from
 * the 20,000th on, its live heap (after a full GC) grows by less than a quarter of what their entries would take,
 * because the index's middle is paged out, and the memory alarm is not raised. The restart needs the heap the journal
 * replay takes (it still holds every entry once: with 48 MiB, 600,000 messages do not recover). After a kill -9 in the middle of draining it, no confirmed message is lost: the restart rebuilds
 * the queue from the journal (never from the pages) and the rest drains in order, exactly once.
 */
class PagedBacklogTest {
    private static final int MESSAGES = Integer.getInteger("holdfast.paged.messages", 300_000);
    private static final String HEAP = System.getProperty("holdfast.paged.heap", "48m");
    /** What an index entry costs on the heap when it is not paged out (object, deque slot), at the least. */
    private static final int HEAP_INDEX_ENTRY_BYTES = 64;
    /** False to see the same run with every index entry on the heap (it fails: that is the point). */
    private static final boolean PAGING = !"false".equals(System.getProperty("holdfast.paged.paging"));
    private static final String QUEUE = "paged";
    private static final int BODY_BYTES = 64;
    /** Published before the heap is first measured. */
    private static final int WARM_UP = 20_000;

    @TempDir
    Path dir;
    private ChildBroker broker;

    @AfterEach
    void stop() {
        if (broker != null) {
            broker.close();
        }
    }

    private ChildBroker start() throws Exception {
        Path config = dir.resolve("holdfast.conf");
        Files.writeString(config, "journal.segment_size = 8388608\nmanagement.tcp.port = 0\n"
                + "message_memory_limit.absolute = 1048576\n" // so the index, not the bodies, is what grows
                + "queue_index.paging = " + PAGING + "\n");
        ChildBroker b = ChildBroker.spawn(dir.resolve("data"), config, dir.resolve("broker.log"), HEAP);
        b.awaitListening(120);
        return b;
    }

    /** What a consumer does with each delivery: its number, tag and channel. */
    private interface Delivered {
        void accept(int number, long deliveryTag, Channel ch) throws IOException;
    }

    /** Consumes {@link #QUEUE} on a new channel of {@code c} with manual acks and prefetch 500. */
    private static void consume(Connection c, Delivered delivered) throws IOException {
        Channel ch = c.createChannel();
        ch.basicQos(500);
        ch.basicConsume(QUEUE, false, new DefaultConsumer(ch) {
            @Override
            public void handleDelivery(String tag, Envelope envelope, AMQP.BasicProperties properties, byte[] b)
                    throws IOException {
                delivered.accept(NumberedBodies.number(b), envelope.getDeliveryTag(), getChannel());
            }
        });
    }

    /** The child's heap in use right after a full collection (jcmd GC.run, then GC.heap_info's generations). */
    private long liveHeapBytes() throws Exception {
        jcmd("GC.run");
        long used = 0;
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("generation\\s+total \\d+K, used (\\d+)K")
                .matcher(jcmd("GC.heap_info"));
        while (m.find()) {
            used += Long.parseLong(m.group(1)) * 1024;
        }
        assertThat(used).as("heap generations in jcmd's answer").isPositive();
        return used;
    }

    private String jcmd(String command) throws Exception {
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(),
                Long.toString(broker.pid()), command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as("jcmd %s: %s", command, out).isZero();
        return out;
    }

    private long metric(String series) throws Exception {
        return Management.sample(Management.request(broker.managementPort(), "GET", "/metrics/per-object", "guest", "guest", null)
                .body(), series);
    }

    @Test
    void aBacklogPastWhatTheHeapIndexHoldsRaisesNoAlarmAndAKillNineMidDrainLosesNothing() throws Exception {
        broker = start();
        long warmHeap = 0;
        try (Connection c = broker.connect("publisher")) {
            Channel ch = c.createChannel();
            ch.queueDeclare(QUEUE, true, false, false, null);
            ch.confirmSelect();
            AMQP.BasicProperties persistent = new AMQP.BasicProperties.Builder().deliveryMode(2).build();
            for (int i = 0; i < MESSAGES; i++) {
                ch.basicPublish("", QUEUE, persistent, NumberedBodies.body(i, BODY_BYTES));
                if (i % 2000 == 1999) {
                    ch.waitForConfirmsOrDie(60_000);
                }
                if (i == WARM_UP - 1) { // connection, channel, JIT and the queue's windows are all there now
                    warmHeap = liveHeapBytes();
                }
            }
            ch.waitForConfirmsOrDie(60_000);
        }
        assertThat(metric("holdfast_queue_messages_ready{queue=\"" + QUEUE + "\",vhost=\"/\"}")).isEqualTo(MESSAGES);
        assertThat(metric("holdfast_queue_index_paged_out{queue=\"" + QUEUE + "\",vhost=\"/\"}"))
                .isGreaterThan(MESSAGES - 5 * 4096L);
        assertThat(metric("holdfast_memory_alarm")).isZero();
        long grown = liveHeapBytes() - warmHeap;
        int added = MESSAGES - WARM_UP;
        System.out.printf("PagedBacklogTest: %d more messages grew the live heap by %d bytes (%.1f per message)%n",
                added, grown, (double) grown / added);
        assertThat(grown).as("live heap grown by the backlog").isLessThan((long) added * HEAP_INDEX_ENTRY_BYTES / 4);

        // Drain a part with acks, and kill -9 in the middle of it.
        BitSet acked = new BitSet(MESSAGES);
        AtomicInteger expected = new AtomicInteger();
        AtomicBoolean outOfOrder = new AtomicBoolean();
        int killAfter = MESSAGES / 3;
        Connection killed = broker.connect("consumer");
        consume(killed, (n, tag, ch) -> {
            if (n != expected.getAndIncrement()) {
                outOfOrder.set(true);
            }
            if (n % 100 == 99) {
                ch.basicAck(tag, true);
                synchronized (acked) {
                    acked.set(0, n + 1);
                }
            }
            if (n == killAfter) {
                broker.signalKill();
            }
        });
        await().atMost(Duration.ofSeconds(60)).until(() -> !killed.isOpen());
        killed.abort();
        broker.kill();
        assertThat(outOfOrder).as("delivered in order before the kill").isFalse();
        assertThat(broker.log()).doesNotContain("OutOfMemoryError");

        // The restart rebuilds the queue from the journal; everything not acked comes back, in order.
        broker = start();
        BitSet seen = new BitSet(MESSAGES);
        int firstAfterRestart;
        synchronized (acked) {
            firstAfterRestart = acked.nextClearBit(0);
        }
        AtomicInteger previous = new AtomicInteger(-1);
        AtomicInteger duplicates = new AtomicInteger();
        try (Connection c = broker.connect("drainer")) {
            consume(c, (n, tag, ch) -> {
                if (n <= previous.getAndSet(n)) {
                    outOfOrder.set(true);
                }
                synchronized (seen) {
                    if (seen.get(n)) {
                        duplicates.incrementAndGet();
                    }
                    seen.set(n);
                }
                ch.basicAck(tag, false);
            });
            await().atMost(Duration.ofSeconds(90)).until(() -> {
                synchronized (seen) {
                    return seen.nextClearBit(firstAfterRestart) >= MESSAGES;
                }
            });
            await().atMost(Duration.ofSeconds(30)).until(() ->
                    metric("holdfast_queue_messages_unacked{queue=\"" + QUEUE + "\",vhost=\"/\"}") == 0);
        }
        assertThat(outOfOrder).as("delivered in order after the restart").isFalse();
        assertThat(duplicates).hasValue(0);
        assertThat(metric("holdfast_queue_messages_ready{queue=\"" + QUEUE + "\",vhost=\"/\"}")).isZero();
        assertThat(metric("holdfast_memory_alarm")).isZero();
        assertThat(metric("holdfast_message_read_failures_total")).isZero();
        assertThat(broker.log()).doesNotContain("OutOfMemoryError", "ERROR");
    }
}
