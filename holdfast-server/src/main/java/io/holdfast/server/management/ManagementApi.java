package io.holdfast.server.management;

import io.holdfast.core.Exchange;
import io.holdfast.core.Queue;
import io.holdfast.core.VirtualHost;
import io.holdfast.server.alarms.MemoryMonitor;
import io.holdfast.server.engine.Engine;
import io.holdfast.store.RecoveryReport;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the management listener answers, by path. Holdfast's own: {@code GET /api/health}, {@code POST
 * /api/health/acknowledge}, {@code GET /metrics}, {@code /metrics/per-object}, {@code /metrics/detailed}.
 * RabbitMQ's management API, read side, with its paths and JSON fields ({@link ApiViews}): {@code /api/vhosts[/{vhost}]},
 * {@code /api/queues[/{vhost}[/{name}]]}, {@code /api/exchanges[/{vhost}[/{name}]]},
 * {@code /api/bindings[/{vhost}]}, {@code /api/health/checks/alarms} and {@code local-alarms}; a listing shows
 * a user without the monitoring or administrator tag only the vhosts they have permissions in. A vhost
 * or object that does not exist is RabbitMQ's 404 {@code {"error":"Object Not Found","reason":"Not Found"}}.
 * Handlers run on management threads.
 */
final class ManagementApi {
    private static final Logger log = LoggerFactory.getLogger(ManagementApi.class);
    private static final String ACKNOWLEDGE = "/api/health/acknowledge";

    private final Engine engine;
    private final HealthState health;
    private final BooleanSupplier diskAlarm;
    private final MemoryMonitor memory;
    private final BrokerMetrics metrics;
    private final ClusterApi cluster;
    private final MessageRates rates;

    ManagementApi(Engine engine, HealthState health, BooleanSupplier diskAlarm,
                  MemoryMonitor memory, BrokerMetrics metrics, ClusterApi cluster, MessageRates rates) {
        this.cluster = cluster;
        this.rates = rates;
        this.engine = engine;
        this.health = health;
        this.diskAlarm = diskAlarm;
        this.memory = memory;
        this.metrics = metrics;
    }

    Routes routes() {
        return new Routes()
                .add("GET", "/api/health", Routes.Access.HEALTH, r -> ManagementHttp.json(health.degraded() ? 503 : 200, health()))
                .add("POST", ACKNOWLEDGE, Routes.Access.ADMIN, r -> acknowledge())
                .add("GET", "/metrics", Routes.Access.HEALTH, r -> prometheus(metrics.scrape()))
                .add("GET", "/metrics/per-object", Routes.Access.HEALTH, r -> prometheus(metrics.scrapePerObject()))
                .add("GET", "/metrics/detailed", Routes.Access.HEALTH, r -> prometheus(metrics.scrapeDetailed(
                        Set.copyOf(r.query().getOrDefault("family", List.of())),
                        Set.copyOf(r.query().getOrDefault("vhost", List.of())))))
                .add("GET", "/api/health/checks/alarms", Routes.Access.MANAGEMENT, r -> alarms())
                .add("GET", "/api/health/checks/local-alarms", Routes.Access.MANAGEMENT, r -> alarms())
                .add("GET", "/api/vhosts", Routes.Access.MANAGEMENT, r -> visible(r, "name", b -> {
                    List<Map<String, Object>> out = new ArrayList<>();
                    b.virtualHosts().forEach(v -> out.add(ApiViews.vhost(v)));
                    return out;
                }))
                .add("GET", "/api/vhosts/{vhost}", Routes.Access.VHOST_READ, r -> one(b -> {
                    VirtualHost v = b.virtualHost(r.variable(0));
                    return v == null ? null : ApiViews.vhost(v);
                }))
                .add("GET", "/api/queues", Routes.Access.MANAGEMENT, r -> ManagementHttp.json(200,
                        ApiViews.queues(engine.query(b -> ApiViews.queueRows(b, null)).stream()
                                .filter(q -> HttpAuth.seesVhost(engine.access(), r.user(), q.vhost())).toList(), rates)))
                .add("GET", "/api/queues/{vhost}", Routes.Access.VHOST_READ, r -> {
                    List<ApiViews.QueueRow> rows = engine.query(b -> b.virtualHost(r.variable(0)) == null ? null
                            : ApiViews.queueRows(b, r.variable(0)));
                    return rows == null ? notFound() : ManagementHttp.json(200, ApiViews.queues(rows, rates));
                })
                .add("GET", "/api/queues/{vhost}/{name}", Routes.Access.VHOST_READ, r -> one(b -> {
                    VirtualHost v = b.virtualHost(r.variable(0));
                    Queue q = v == null ? null : v.queue(r.variable(1));
                    return q == null ? null : ApiViews.QueueRow.of(b, q).view(rates);
                }))
                .add("GET", "/api/exchanges", Routes.Access.MANAGEMENT, r -> visible(r, "vhost", b -> ApiViews.exchanges(b, null)))
                .add("GET", "/api/exchanges/{vhost}", Routes.Access.VHOST_READ,
                        r -> inVhost(r.variable(0), b -> ApiViews.exchanges(b, r.variable(0))))
                .add("GET", "/api/exchanges/{vhost}/{name}", Routes.Access.VHOST_READ, r -> one(b -> {
                    VirtualHost v = b.virtualHost(r.variable(0));
                    Exchange x = v == null ? null : v.exchange(r.variable(1));
                    return x == null ? null : ApiViews.exchange(v, x);
                }))
                .add("GET", "/api/bindings", Routes.Access.MANAGEMENT, r -> visible(r, "vhost", b -> ApiViews.bindings(b, null)))
                .add("GET", "/api/bindings/{vhost}", Routes.Access.VHOST_READ,
                        r -> inVhost(r.variable(0), b -> ApiViews.bindings(b, r.variable(0))));
    }

    private static Routes.Response prometheus(String text) {
        return Routes.Response.of(200, BrokerMetrics.CONTENT_TYPE, text);
    }

    /** A listing of the whole broker, with only what is in the vhosts the user sees (by each item's {@code key}). */
    private Routes.Response visible(Routes.Request r, String key,
                                    java.util.function.Function<io.holdfast.core.Broker, List<Map<String, Object>>> view) {
        List<Map<String, Object>> all = engine.query(view);
        return ManagementHttp.json(200, all.stream()
                .filter(m -> HttpAuth.seesVhost(engine.access(), r.user(), String.valueOf(m.get(key)))).toList());
    }

    /** One object, or RabbitMQ's 404 when {@code view} finds none (returns null). */
    private Routes.Response one(java.util.function.Function<io.holdfast.core.Broker, Object> view) {
        Object found = engine.query(view);
        return found == null ? notFound() : ManagementHttp.json(200, found);
    }

    private Routes.Response inVhost(String vhost, java.util.function.Function<io.holdfast.core.Broker, Object> view) {
        Object found = engine.query(b -> b.virtualHost(vhost) == null ? null : view.apply(b));
        return found == null ? notFound() : ManagementHttp.json(200, found);
    }

    /** The broker-wide counters for {@link MessageRates}: publishes received, deliveries and gets, acks, ... */
    static MessageRates.Counts brokerCounts(Engine engine) {
        var c = engine.counters();
        return new MessageRates.Counts(c.received.sum(), c.delivered.sum(), c.acknowledged.sum(), c.confirmed.sum(),
                c.redelivered.sum());
    }

    static Routes.Response notFound() {
        return ManagementHttp.error(404, "Object Not Found", "Not Found");
    }

    private Map<String, Object> health() throws IOException {
        RecoveryReport r = health.report();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("status", health.degraded() ? "degraded" : "ok");
        m.put("corrupt_records_skipped", r.corruptRecordsSkipped());
        m.put("torn_tail_bytes_truncated", r.tornTailBytesTruncated());
        m.put("damage", r.damage());
        if (r.degraded()) {
            m.put("acknowledged", health.acknowledged());
        }
        m.put("unreadable_messages_dropped", health.readFailures());
        m.put("disk_alarm", diskAlarm.getAsBoolean());
        m.put("memory_alarm", memory.alarmed());
        Map<String, Object> clusterPart = cluster.health();
        if (clusterPart != null) {
            m.put("cluster", clusterPart);
        }
        return m;
    }

    private Routes.Response acknowledge() throws IOException {
        try {
            health.acknowledge();
        } catch (IOException e) {
            log.error("could not store the journal damage acknowledgement", e);
            return ManagementHttp.error(500, "internal_error", "could not store the acknowledgement: " + e);
        }
        return ManagementHttp.json(200, health());
    }

    /** RabbitMQ 3.10's alarm health check: 200 {"status":"ok"}, or 503 naming the alarms in effect. */
    private Routes.Response alarms() {
        List<Map<String, Object>> raised = new ArrayList<>();
        if (diskAlarm.getAsBoolean()) {
            raised.add(Map.of("node", ApiViews.NODE, "resource", "disk"));
        }
        if (memory.alarmed()) {
            raised.add(Map.of("node", ApiViews.NODE, "resource", "memory"));
        }
        Map<String, Object> m = new LinkedHashMap<>();
        if (raised.isEmpty()) {
            m.put("status", "ok");
            return ManagementHttp.json(200, m);
        }
        m.put("status", "failed");
        m.put("reason", "resource alarm(s) in effect in the cluster");
        m.put("alarms", raised);
        return ManagementHttp.json(503, m);
    }
}
