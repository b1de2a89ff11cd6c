package io.holdfast.it;

import static io.holdfast.it.AlarmWatch.consume;
import static io.holdfast.it.AlarmWatch.recordBlocking;
import static io.holdfast.it.Management.metrics;
import static io.holdfast.it.Management.request;
import static io.holdfast.it.Management.sample;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import io.holdfast.server.alarms.MemoryMonitor;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * vm_memory_high_watermark: while the heap after GC is above it publishers are blocked, consumers go on,
 * and it clears; combined with the disk alarm, publishers stay blocked until both have cleared.
 */
class MemoryAlarmTest {
    private static final long MIB = 1024 * 1024;

    @TempDir
    Path dir;

    /** Keeps a large array reachable, so a collection cannot free it, until the test drops it. */
    private volatile byte[] ballast;

    private static void send(Channel ch, String queue, String body) throws Exception {
        ch.basicPublish("", queue, null, body.getBytes(StandardCharsets.UTF_8)); // transient
    }

    @Test
    void highHeapBlocksTransientPublishersButNotConsumersUntilItClears() throws Exception {
        try (RunningBroker broker = RunningBroker.start(dir);
             Connection publisher = broker.connect();
             Connection consumer = broker.connect()) {
            MemoryMonitor memory = broker.server().memoryMonitor();
            List<String> events = recordBlocking(publisher);
            Channel pub = publisher.createChannel();
            pub.queueDeclare("mem-q", false, false, false, null);
            pub.confirmSelect();
            send(pub, "mem-q", "before");
            pub.waitForConfirmsOrDie(10_000);

            System.gc(); // a GC notification gives the monitor a measure
            await().atMost(Duration.ofSeconds(10)).until(() -> memory.heapUsedAfterGcBytes() > 0);
            memory.setHighWatermarkBytes(1);
            await().atMost(Duration.ofSeconds(10)).until(() -> !events.isEmpty());
            assertThat(events).containsExactly("blocked: low on memory");
            assertThat(memory.alarmed()).isTrue();
            String m = metrics(broker);
            assertThat(sample(m, "holdfast_memory_alarm")).isEqualTo(1);
            assertThat(sample(m, "holdfast_disk_alarm")).isZero();
            assertThat(sample(m, "holdfast_heap_used_after_gc_bytes")).isPositive();
            assertThat(request(broker, "GET", "/api/health").body()).contains("\"disk_alarm\":false,\"memory_alarm\":true");

            List<String> received = consume(consumer, "mem-q");
            await().atMost(Duration.ofSeconds(10)).until(() -> received.contains("before"));

            send(pub, "mem-q", "during");
            await().during(Duration.ofMillis(700)).atMost(Duration.ofSeconds(2))
                    .until(() -> !received.contains("during"));

            memory.setHighWatermarkBytes(Long.MAX_VALUE);
            await().atMost(Duration.ofSeconds(10)).until(() -> events.contains("unblocked"));
            pub.waitForConfirmsOrDie(10_000);
            await().atMost(Duration.ofSeconds(10)).until(() -> received.contains("during"));
            assertThat(received).containsExactly("before", "during");
            assertThat(events).containsExactly("blocked: low on memory", "unblocked");
            assertThat(sample(metrics(broker), "holdfast_memory_alarm")).isZero();
            assertThat(request(broker, "GET", "/api/health").body()).contains("\"memory_alarm\":false");
        }
    }

    @Test
    void youngCollectionsUpdateTheMeasureSoTheAlarmClearsByItself() throws Exception {
        try (RunningBroker broker = RunningBroker.start(dir)) {
            MemoryMonitor memory = broker.server().memoryMonitor();
            ballast = new byte[256 * (int) MIB];
            System.gc();
            await().atMost(Duration.ofSeconds(10)).until(() -> memory.heapUsedAfterGcBytes() > 256 * MIB);
            memory.setHighWatermarkBytes(memory.heapUsedAfterGcBytes() - 128 * MIB);
            assertThat(memory.alarmed()).isTrue();

            ballast = null;
            // No System.gc(): only the collections that ordinary allocation causes (G1 young ones).
            await().atMost(Duration.ofSeconds(30)).until(() -> {
                for (int i = 0; i < 64; i++) {
                    byte[] garbage = new byte[(int) MIB];
                    garbage[i] = 1;
                }
                return !memory.alarmed();
            });
            assertThat(memory.heapUsedAfterGcBytes()).isLessThan(memory.highWatermarkBytes());
        } finally {
            ballast = null;
        }
    }

    @Test
    void publishersStayBlockedUntilBothDiskAndMemoryAlarmsClear() throws Exception {
        try (RunningBroker broker = RunningBroker.start(dir);
             Connection publisher = broker.connect();
             Connection consumer = broker.connect()) {
            MemoryMonitor memory = broker.server().memoryMonitor();
            List<String> events = recordBlocking(publisher);
            Channel pub = publisher.createChannel();
            pub.queueDeclare("both-q", false, false, false, null);
            pub.confirmSelect();
            send(pub, "both-q", "before");
            pub.waitForConfirmsOrDie(10_000);
            List<String> received = consume(consumer, "both-q");
            await().atMost(Duration.ofSeconds(10)).until(() -> received.contains("before"));
            System.gc();
            await().atMost(Duration.ofSeconds(10)).until(() -> memory.heapUsedAfterGcBytes() > 0);

            broker.server().diskMonitor().setLimitBytes(Long.MAX_VALUE);
            await().atMost(Duration.ofSeconds(10)).until(() -> !events.isEmpty());
            memory.setHighWatermarkBytes(1);
            assertThat(memory.alarmed()).isTrue();
            assertThat(broker.server().resourceAlarms().alarmed()).isTrue();

            memory.setHighWatermarkBytes(Long.MAX_VALUE); // memory clear, disk still raised
            send(pub, "both-q", "during");
            await().during(Duration.ofMillis(700)).atMost(Duration.ofSeconds(2))
                    .until(() -> !received.contains("during"));
            assertThat(events).containsExactly("blocked: low on disk");

            memory.setHighWatermarkBytes(1); // and the other way round: memory raised, then disk clears
            broker.server().diskMonitor().setLimitBytes(0);
            await().during(Duration.ofMillis(700)).atMost(Duration.ofSeconds(2))
                    .until(() -> !received.contains("during"));
            assertThat(events).containsExactly("blocked: low on disk");
            String m = metrics(broker);
            assertThat(sample(m, "holdfast_memory_alarm")).isEqualTo(1);
            assertThat(sample(m, "holdfast_disk_alarm")).isZero();

            memory.setHighWatermarkBytes(Long.MAX_VALUE); // both clear
            await().atMost(Duration.ofSeconds(10)).until(() -> events.contains("unblocked"));
            pub.waitForConfirmsOrDie(10_000);
            await().atMost(Duration.ofSeconds(10)).until(() -> received.contains("during"));
            assertThat(received).containsExactly("before", "during");
            assertThat(events).containsExactly("blocked: low on disk", "unblocked");
            assertThat(broker.server().resourceAlarms().alarmed()).isFalse();
        }
    }
}
