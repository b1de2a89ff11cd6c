package io.holdfast.server.management;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.holdfast.core.Broker;
import io.holdfast.core.Queue;
import io.holdfast.core.VirtualHost;
import io.holdfast.server.alarms.MemoryMonitor;
import io.holdfast.server.config.ServerConfig;
import io.holdfast.server.engine.Engine;
import io.holdfast.server.persistence.JournalStore;
import io.holdfast.store.RecoveryReport;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.function.IntSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The management HTTP listener on {@code management.tcp.ip}:{@code management.tcp.port}, on the JDK's
 * {@link HttpServer}:
 *
 * <ul>
 *   <li>{@code GET /api/health}: 200 when ok, 503 while degraded (journal damage not acknowledged); JSON.
 *   <li>{@code POST /api/health/acknowledge}: an operator acknowledges the damage; 200 with the new health.
 *   <li>{@code GET /metrics}: Prometheus text format.
 * </ul>
 *
 * Errors are JSON {@code {"error":..., "reason":...}}: 404 for an unknown path, 405 (with {@code Allow})
 * for a wrong method. Handlers run on two threads of their own, never on the broker thread or Netty's;
 * broker state is read by a task on the broker thread ({@link Engine#query}), which gives up after a few
 * seconds rather than pile up scrapes behind a stuck broker. Health needs no broker thread at all.
 */
public final class ManagementHttp implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ManagementHttp.class);
    private static final String JSON = "application/json";
    private static final String HEALTH = "/api/health";
    private static final String ACKNOWLEDGE = "/api/health/acknowledge";
    private static final String METRICS = "/metrics";
    private static final int BACKLOG = 64;

    private final HttpServer http;
    private final ExecutorService handlers;
    private final Engine engine;
    private final HealthState health;
    private final IntSupplier connections;
    private final BooleanSupplier diskAlarm;
    private final MemoryMonitor memory;

    private ManagementHttp(HttpServer http, Engine engine, HealthState health, IntSupplier connections,
                           BooleanSupplier diskAlarm, MemoryMonitor memory) {
        this.http = http;
        this.engine = engine;
        this.health = health;
        this.connections = connections;
        this.diskAlarm = diskAlarm;
        this.memory = memory;
        AtomicInteger threads = new AtomicInteger();
        this.handlers = Executors.newFixedThreadPool(2, r -> {
            Thread t = new Thread(r, "holdfast-management-" + threads.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        http.setExecutor(handlers);
        http.createContext("/", this::handle);
    }

    /** Binds and starts serving, and logs where; null (logged too) if {@code management.enabled = false}. */
    public static ManagementHttp startIfEnabled(ServerConfig config, Engine engine, HealthState health,
                                         IntSupplier connections, BooleanSupplier diskAlarm,
                                         MemoryMonitor memory) throws IOException {
        if (!config.managementEnabled()) {
            log.info("management HTTP is off (management.enabled = false)");
            return null;
        }
        String where = config.managementBindAddress() + ":" + config.managementPort();
        HttpServer http;
        try {
            http = HttpServer.create(new InetSocketAddress(config.managementBindAddress(), config.managementPort()),
                    BACKLOG);
        } catch (IOException | RuntimeException e) {
            throw new IOException("cannot listen for management HTTP on " + where + ": " + e.getMessage()
                    + " (set management.tcp.ip / management.tcp.port, or management.enabled = false)", e);
        }
        ManagementHttp management = new ManagementHttp(http, engine, health, connections, diskAlarm, memory);
        http.start();
        log.info("management HTTP listening on http://{}:{} (GET {}, POST {}, GET {})",
                http.getAddress().getHostString(), management.port(), HEALTH, ACKNOWLEDGE, METRICS);
        return management;
    }

    public int port() {
        return http.getAddress().getPort();
    }

    private void handle(HttpExchange ex) {
        try {
            String path = ex.getRequestURI().getPath();
            String method = ex.getRequestMethod();
            switch (path) {
                case HEALTH -> {
                    if (allowed(ex, "GET", "HEAD")) {
                        send(ex, health.degraded() ? 503 : 200, JSON, healthJson());
                    }
                }
                case ACKNOWLEDGE -> {
                    if (allowed(ex, "POST")) {
                        acknowledge(ex);
                    }
                }
                case METRICS -> {
                    if (allowed(ex, "GET", "HEAD")) {
                        send(ex, 200, PrometheusText.CONTENT_TYPE, metrics());
                    }
                }
                default -> error(ex, 404, "not_found", "no endpoint " + method + " " + path + "; there are GET "
                        + HEALTH + ", POST " + ACKNOWLEDGE + " and GET " + METRICS);
            }
        } catch (CompletionException e) { // from Engine.query: a timeout, or what the query threw
            Throwable cause = e.getCause() == null ? e : e.getCause();
            log.warn("management: broker state unavailable for {}: {}", ex.getRequestURI(), cause.toString());
            error(ex, 503, "unavailable", "broker state unavailable: " + cause);
        } catch (IOException e) {
            log.debug("management: {} {}: {}", ex.getRequestMethod(), ex.getRequestURI(), e.toString()); // client left
        } catch (RuntimeException e) {
            log.warn("management: {} {} failed", ex.getRequestMethod(), ex.getRequestURI(), e);
            error(ex, 500, "internal_error", e.toString());
        } finally {
            ex.close();
        }
    }

    private void acknowledge(HttpExchange ex) throws IOException {
        try {
            health.acknowledge();
        } catch (IOException e) {
            log.error("could not store the journal damage acknowledgement", e);
            error(ex, 500, "internal_error", "could not store the acknowledgement: " + e);
            return;
        }
        send(ex, 200, JSON, healthJson());
    }

    private static boolean allowed(HttpExchange ex, String... methods) {
        for (String m : methods) {
            if (m.equals(ex.getRequestMethod())) {
                return true;
            }
        }
        ex.getResponseHeaders().set("Allow", String.join(", ", methods));
        error(ex, 405, "method_not_allowed", ex.getRequestURI().getPath() + " takes " + String.join(" or ", methods)
                + ", not " + ex.getRequestMethod());
        return false;
    }

    private String healthJson() {
        RecoveryReport r = health.report();
        JsonObject json = new JsonObject()
                .field("status", health.degraded() ? "degraded" : "ok")
                .field("corrupt_records_skipped", r.corruptRecordsSkipped())
                .field("torn_tail_bytes_truncated", r.tornTailBytesTruncated())
                .field("damage", r.damage());
        if (r.degraded()) {
            json.field("acknowledged", health.acknowledged());
        }
        return json.field("unreadable_messages_dropped", health.readFailures())
                .field("disk_alarm", diskAlarm.getAsBoolean())
                .field("memory_alarm", memory.alarmed()).toString();
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

    private String metrics() {
        List<QueueSample> queues = engine.query(ManagementHttp::queues);
        JournalStore store = engine.store();
        Counters counts = engine.query(b -> new Counters(store.residentBytes(), store.reads(), store.readFailures(),
                b.quarantinedCount(), b.deadLetteredCount(), b.deadLetterDroppedCount(),
                b.delayedMessages().heldCount(), b.deduplication().duplicateCount()));
        RecoveryReport r = health.report();
        PrometheusText text = new PrometheusText()
                .single("holdfast_degraded", "gauge",
                        "1 while journal damage (found by recovery, or reading a message back) is not acknowledged (POST "
                                + ACKNOWLEDGE + ")",
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

    private static void error(HttpExchange ex, int code, String error, String reason) {
        try {
            send(ex, code, JSON, new JsonObject().field("error", error).field("reason", reason).toString());
        } catch (IOException | RuntimeException e) {
            log.debug("management: could not send a {} to {}: {}", code, ex.getRemoteAddress(), e.toString());
        }
    }

    private static void send(HttpExchange ex, int code, String contentType, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", contentType);
        ex.getResponseHeaders().set("Cache-Control", "no-store");
        boolean head = "HEAD".equals(ex.getRequestMethod());
        ex.sendResponseHeaders(code, head ? -1 : bytes.length);
        if (!head) {
            try (OutputStream out = ex.getResponseBody()) {
                out.write(bytes);
            }
        }
    }

    /** Stops listening at once (requests in progress are cut) and stops the handler threads. */
    @Override
    public void close() {
        http.stop(0);
        handlers.shutdownNow();
        try {
            if (!handlers.awaitTermination(5, TimeUnit.SECONDS)) {
                log.warn("management handler threads did not stop within 5 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
