package io.holdfast.server.management;

import io.holdfast.core.Broker;
import io.holdfast.core.Queue;
import io.holdfast.core.VirtualHost;
import io.holdfast.server.alarms.MemoryMonitor;
import io.holdfast.server.engine.Engine;
import io.holdfast.server.persistence.JournalStore;
import io.holdfast.store.RecoveryReport;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.IntSupplier;

/**
 * The {@code GET /metrics} scrape in Prometheus text format: broker-wide gauges and counters and one
 * series per queue. Reads broker state with two {@link Engine#query}s; called on a management thread.
 */
final class BrokerMetrics {
    private final Engine engine;
    private final HealthState health;
    private final IntSupplier connections;
    private final BooleanSupplier diskAlarm;
    private final MemoryMonitor memory;

    BrokerMetrics(Engine engine, HealthState health, IntSupplier connections, BooleanSupplier diskAlarm,
                  MemoryMonitor memory) {
        this.engine = engine;
        this.health = health;
        this.connections = connections;
        this.diskAlarm = diskAlarm;
        this.memory = memory;
    }

    /** Broker-wide counters, read on the broker thread in one query. */
    private record Counters(long residentBytes, long journalReads, long readFailures, long quarantined,
                            long deadLettered, long deadLetterDropped, long delayed, long deduplicated) {}

    private record QueueSample(String vhost, String name, long ready, long unacked, long consumers, long held) {}

    private static List<QueueSample> queues(Broker broker) {
        List<QueueSample> out = new ArrayList<>();
        for (VirtualHost v : broker.virtualHosts()) {
            for (Queue q : v.queues()) {
                out.add(new QueueSample(v.name(), q.name(), q.readyCount(), q.unackedCount(), q.consumerCount(),
                        q.heldCount()));
            }
        }
        out.sort(Comparator.comparing(QueueSample::vhost).thenComparing(QueueSample::name));
        return out;
    }

    String scrape() {
        List<QueueSample> queues = engine.query(BrokerMetrics::queues);
        JournalStore store = engine.store();
        Counters counts = engine.query(b -> new Counters(store.residentBytes(), store.reads(), store.readFailures(),
                b.quarantinedCount(), b.deadLetteredCount(), b.deadLetterDroppedCount(),
                b.delayedMessages().heldCount(), b.deduplication().duplicateCount()));
        RecoveryReport r = health.report();
        PrometheusText text = new PrometheusText()
                .single("holdfast_degraded", "gauge",
                        "1 while journal damage (found by recovery, or reading a message back) is not acknowledged (POST /api/health/acknowledge)",
                        health.degraded() ? 1 : 0)
                .single("holdfast_journal_corrupt_records_skipped_total", "counter",
                        "Corrupt journal regions the last recovery skipped; the messages in them are lost",
                        r.corruptRecordsSkipped())
                .single("holdfast_journal_torn_tail_bytes_truncated_total", "counter",
                        "Bytes of torn journal tail the last recovery cut (normal after a crash)",
                        r.tornTailBytesTruncated())
                .single("holdfast_journal_disk_bytes", "gauge", "Bytes of journal segment files",
                        engine.journalDiskBytes())
                .single("holdfast_journal_segments", "gauge", "Journal segment files", engine.journalSegments())
                .single("holdfast_disk_alarm", "gauge",
                        "1 while free disk space is below disk_free_limit.absolute and publishers are blocked",
                        diskAlarm.getAsBoolean() ? 1 : 0)
                .single("holdfast_memory_alarm", "gauge",
                        "1 while the heap after GC is above vm_memory_high_watermark and publishers are blocked",
                        memory.alarmed() ? 1 : 0)
                .single("holdfast_heap_used_after_gc_bytes", "gauge",
                        "JVM heap in use after the last garbage collection (what vm_memory_high_watermark is compared with)",
                        memory.heapUsedAfterGcBytes())
                .single("holdfast_connections", "gauge", "Open client connections", connections.getAsInt())
                .single("holdfast_message_resident_bytes", "gauge",
                        "Body bytes of stored messages held in memory (message_memory_limit.absolute bounds it)",
                        counts.residentBytes())
                .single("holdfast_message_journal_reads_total", "counter",
                        "Messages read back from the journal to be delivered (their bodies were paged out)",
                        counts.journalReads())
                .single("holdfast_message_read_failures_total", "counter",
                        "Stored messages that did not read back intact and were dropped, never delivered",
                        counts.readFailures())
                .single("holdfast_quarantined_messages_total", "counter",
                        "Messages moved to holdfast.quarantine after exceeding x-delivery-limit", counts.quarantined())
                .single("holdfast_dead_lettered_messages_total", "counter",
                        "Messages republished to their queue's x-dead-letter-exchange", counts.deadLettered())
                .single("holdfast_dead_letter_dropped_total", "counter",
                        "Messages whose dead-lettering found no exchange, no route or a cycle, and were dropped",
                        counts.deadLetterDropped())
                .single("holdfast_delayed_messages", "gauge",
                        "Messages x-delayed-message exchanges hold until their x-delay has passed", counts.delayed())
                .single("holdfast_deduplicated_messages_total", "counter",
                        "Publishes confirmed but not enqueued: their message-id was in the queue's deduplication window",
                        counts.deduplicated());
        text.family("holdfast_queue_messages_ready", "gauge", "Messages ready for delivery");
        for (QueueSample q : queues) {
            text.sample("holdfast_queue_messages_ready", q.ready(), "vhost", q.vhost(), "queue", q.name());
        }
        text.family("holdfast_queue_messages_unacked", "gauge", "Messages delivered and not yet acknowledged");
        for (QueueSample q : queues) {
            text.sample("holdfast_queue_messages_unacked", q.unacked(), "vhost", q.vhost(), "queue", q.name());
        }
        text.family("holdfast_queue_messages_held", "gauge",
                "Messages returned unsettled and held back by x-redelivery-backoff until their delay is over");
        for (QueueSample q : queues) {
            text.sample("holdfast_queue_messages_held", q.held(), "vhost", q.vhost(), "queue", q.name());
        }
        text.family("holdfast_queue_consumers", "gauge", "Consumers");
        for (QueueSample q : queues) {
            text.sample("holdfast_queue_consumers", q.consumers(), "vhost", q.vhost(), "queue", q.name());
        }
        return text.toString();
    }
}
