package io.holdfast.server.management;

import io.holdfast.core.Broker;
import io.holdfast.core.Queue;
import io.holdfast.core.VirtualHost;
import io.holdfast.server.alarms.MemoryMonitor;
import io.holdfast.server.cluster.MetadataGroup;
import io.holdfast.server.engine.Engine;
import io.holdfast.server.engine.MessageCounters;
import io.holdfast.server.persistence.JournalStore;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.BooleanSupplier;
import java.util.function.IntSupplier;

/**
 * The Prometheus scrapes, in Prometheus' text format through Micrometer: Holdfast's own {@code holdfast_*} series,
 * and the same facts under the names of RabbitMQ's Prometheus plugin ({@code rabbitmq_*}) so dashboards built for
 * RabbitMQ show a Holdfast. As that plugin: {@code GET /metrics} gives queue series as totals over all queues
 * (a scrape costs the same with 10 or 10,000 queues), {@code /metrics/per-object} one series per queue, and
 * {@code /metrics/detailed} only the per-queue families asked for ({@link QueueMetrics}). Each scrape reads broker
 * state with one {@link Engine#query} and then renders every meter from that snapshot. Called on management
 * threads, one scrape at a time.
 */
final class BrokerMetrics {
    /** Prometheus' text exposition format, version 0.0.4. */
    static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

    /**
     * Broker state read on the broker thread in one query; {@code queues} is null unless the scrape shows a series
     * per queue.
     */
    private record Snapshot(int queueCount, QueueMetrics.Totals totals, List<QueueMetrics.Sample> queues,
                            long residentBytes, long journalReads, long readFailures, long quarantined,
                            long deadLettered, long deadLetterDropped, long delayed, long deduplicated,
                            int exchanges) {}

    private final Engine engine;
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private volatile Snapshot snapshot = new Snapshot(0, QueueMetrics.Totals.NONE, null, 0, 0, 0, 0, 0, 0, 0, 0, 0);
    private final QueueMetrics queueMetrics = new QueueMetrics();
    private final RaftMetrics raft; // null on a single node
    private final boolean perObjectByDefault;

    /**
     * @param perObjectByDefault {@code prometheus.return_per_object_metrics}: {@code /metrics} is
     *                           {@code /metrics/per-object}
     */
    BrokerMetrics(Engine engine, HealthState health, IntSupplier connections, BooleanSupplier diskAlarm,
                  MemoryMonitor memory, MetadataGroup cluster, boolean perObjectByDefault) {
        this.engine = engine;
        this.perObjectByDefault = perObjectByDefault;
        registry.getPrometheusRegistry().register(queueMetrics);
        this.raft = cluster == null ? null : new RaftMetrics(cluster, registry);
        var r = health.report();
        gauge("holdfast_degraded", "1 while journal damage (found by recovery, or reading a message back) is not"
                + " acknowledged (POST /api/health/acknowledge)", () -> health.degraded() ? 1 : 0);
        counter("holdfast_journal_corrupt_records_skipped", "Corrupt journal regions the last recovery skipped; the"
                + " messages in them are lost", r::corruptRecordsSkipped);
        counter("holdfast_journal_torn_tail_bytes_truncated", "Bytes of torn journal tail the last recovery cut"
                + " (normal after a crash)", r::tornTailBytesTruncated);
        gauge("holdfast_journal_disk_bytes", "Bytes of journal segment files", engine::journalDiskBytes);
        gauge("holdfast_journal_segments", "Journal segment files", engine::journalSegments);
        gauge("holdfast_disk_alarm", "1 while free disk space is below disk_free_limit.absolute and publishers are"
                + " blocked", () -> diskAlarm.getAsBoolean() ? 1 : 0);
        gauge("holdfast_memory_alarm", "1 while the heap after GC is above vm_memory_high_watermark and publishers"
                + " are blocked", () -> memory.alarmed() ? 1 : 0);
        gauge("holdfast_heap_used_after_gc_bytes", "JVM heap in use after the last garbage collection (what"
                + " vm_memory_high_watermark is compared with)", memory::heapUsedAfterGcBytes);
        gauge("holdfast_connections", "Open client connections", connections::getAsInt);
        gauge("holdfast_message_resident_bytes", "Body bytes of stored messages held in memory"
                + " (message_memory_limit.absolute bounds it)", () -> snapshot.residentBytes());
        counter("holdfast_message_journal_reads", "Messages read back from the journal to be delivered (their"
                + " bodies were paged out)", () -> snapshot.journalReads());
        counter("holdfast_message_read_failures", "Stored messages that did not read back intact and were"
                + " dropped, never delivered", () -> snapshot.readFailures());
        counter("holdfast_quarantined_messages", "Messages moved to holdfast.quarantine after exceeding"
                + " x-delivery-limit", () -> snapshot.quarantined());
        counter("holdfast_dead_lettered_messages", "Messages republished to their queue's x-dead-letter-exchange",
                () -> snapshot.deadLettered());
        counter("holdfast_dead_letter_dropped", "Messages whose dead-lettering found no exchange, no route or a"
                + " cycle, and were dropped", () -> snapshot.deadLetterDropped());
        gauge("holdfast_delayed_messages", "Messages x-delayed-message exchanges hold until their x-delay has"
                + " passed", () -> snapshot.delayed());
        counter("holdfast_deduplicated_messages", "Publishes confirmed but not enqueued: their message-id was in"
                + " the queue's deduplication window", () -> snapshot.deduplicated());
        rabbitMqNames(connections, diskAlarm, memory);
    }

    /** RabbitMQ's Prometheus plugin's names for the same facts, and its global message counters. */
    private void rabbitMqNames(IntSupplier connections, BooleanSupplier diskAlarm, MemoryMonitor memory) {
        gauge("rabbitmq_connections", "Connections currently open", connections::getAsInt);
        gauge("rabbitmq_channels", "Channels currently open", () -> engine.limits().channels());
        gauge("rabbitmq_queues", "Queues available", () -> snapshot.queueCount());
        gauge("rabbitmq_exchanges", "Exchanges available", () -> snapshot.exchanges());
        gauge("rabbitmq_consumers", "Consumers currently connected", () -> snapshot.totals().consumers());
        gauge("rabbitmq_alarms_free_disk_space_watermark", "1 if free disk space is below the watermark",
                () -> diskAlarm.getAsBoolean() ? 1 : 0);
        gauge("rabbitmq_alarms_memory_used_watermark", "1 if the memory watermark is reached",
                () -> memory.alarmed() ? 1 : 0);
        MessageCounters c = engine.counters();
        adder("rabbitmq_global_messages_received", "Messages received from publishers", c.received);
        adder("rabbitmq_global_messages_received_confirm", "Messages received from publishers expecting"
                + " confirmations", c.receivedConfirm);
        adder("rabbitmq_global_messages_routed", "Messages routed to queues", c.routed);
        adder("rabbitmq_global_messages_unroutable_returned", "Messages published as mandatory into an exchange"
                + " and returned to the publisher as unroutable", c.unroutableReturned);
        adder("rabbitmq_global_messages_unroutable_dropped", "Messages published as non-mandatory into an exchange"
                + " and dropped as unroutable", c.unroutableDropped);
        adder("rabbitmq_global_messages_confirmed", "Messages confirmed to publishers", c.confirmed);
        adder("rabbitmq_global_messages_delivered", "Messages delivered to consumers (basic.get included)",
                c.delivered);
        adder("rabbitmq_global_messages_redelivered", "Messages redelivered to consumers", c.redelivered);
        adder("rabbitmq_global_messages_acknowledged", "Messages acknowledged by consumers", c.acknowledged);
        Timer latency = Timer.builder("holdfast_confirm_latency")
                .description("Publish received to basic.ack sent, per confirmed message")
                .publishPercentileHistogram()
                .minimumExpectedValue(Duration.ofMillis(1))
                .maximumExpectedValue(Duration.ofSeconds(10))
                .register(registry);
        c.confirmLatency(nanos -> latency.record(nanos, TimeUnit.NANOSECONDS));
    }

    // Micrometer holds a meter's object weakly, and these lambdas have no other owner: without a strong
    // reference (Gauge's option, or this list for function counters) a GC would turn them into NaN.
    private final List<Object> functions = new ArrayList<>();

    private void gauge(String name, String help, java.util.function.LongSupplier value) {
        Gauge.builder(name, value, v -> v.getAsLong()).description(help).strongReference(true).register(registry);
    }

    private void counter(String name, String help, java.util.function.LongSupplier value) {
        functions.add(value);
        FunctionCounter.builder(name, value, v -> v.getAsLong()).description(help).register(registry);
    }

    private void adder(String name, String help, LongAdder value) {
        FunctionCounter.builder(name, value, LongAdder::sum).description(help).register(registry); // the engine owns it
    }

    /** One queue's figures: a quorum queue's from this node's replica of it. */
    private static QueueMetrics.Sample sample(Broker b, VirtualHost v, Queue q) {
        ApiViews.Figures f = ApiViews.Figures.of(b, q);
        return new QueueMetrics.Sample(v.name(), q.name(), f.ready(), f.unacked(), f.consumers(), f.held(),
                f.pagedOut());
    }

    private static Snapshot read(Broker b, JournalStore store, boolean perQueue) {
        List<QueueMetrics.Sample> queues = perQueue ? new ArrayList<>() : null;
        long ready = 0;
        long unacked = 0;
        long consumers = 0;
        long held = 0;
        long pagedOut = 0;
        int queueCount = 0;
        int exchanges = 0;
        for (VirtualHost v : b.virtualHosts()) {
            for (Queue q : v.queues()) {
                QueueMetrics.Sample one = sample(b, v, q);
                queueCount++;
                ready += one.ready();
                unacked += one.unacked();
                consumers += one.consumers();
                held += one.held();
                pagedOut += one.pagedOut();
                if (perQueue) {
                    queues.add(one);
                }
            }
            for (var ignored : v.exchanges()) {
                exchanges++;
            }
        }
        return new Snapshot(queueCount, new QueueMetrics.Totals(ready, unacked, consumers, held, pagedOut), queues,
                store.residentBytes(), store.reads(), store.readFailures(), b.quarantinedCount(),
                b.deadLetteredCount(), b.deadLetterDroppedCount(), b.delayedMessages().heldCount(),
                b.deduplication().duplicateCount(), exchanges);
    }

    /** {@code GET /metrics}: queue totals, or a series per queue under {@code prometheus.return_per_object_metrics}. */
    String scrape() {
        return perObjectByDefault ? scrapePerObject() : scrape(false, null);
    }

    /** {@code GET /metrics/per-object}: every series, the queue families one per queue. */
    String scrapePerObject() {
        return scrape(true, null);
    }

    /**
     * {@code GET /metrics/detailed?family=F&vhost=V}: only the per-queue families of the groups named (RabbitMQ's
     * {@code queue_coarse_metrics}, {@code queue_consumer_count}, {@code queue_metrics}), of the vhosts named (all
     * if none), under {@code rabbitmq_detailed_*} names; nothing else.
     */
    String scrapeDetailed(Set<String> families, Set<String> vhosts) {
        return scrape(true, new QueueMetrics.Detailed(families, vhosts));
    }

    private synchronized String scrape(boolean perQueue, QueueMetrics.Detailed detailed) {
        JournalStore store = engine.store();
        Snapshot s = engine.query(b -> read(b, store, perQueue));
        snapshot = s;
        queueMetrics.view = new QueueMetrics.View(s.totals(), s.queues(), detailed);
        if (detailed != null) {
            return registry.scrape(CONTENT_TYPE, QueueMetrics.detailedNames(detailed.families()));
        }
        if (raft != null) {
            raft.update();
        }
        return registry.scrape();
    }
}
