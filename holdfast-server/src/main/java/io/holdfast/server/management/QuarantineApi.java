package io.holdfast.server.management;

import com.fasterxml.jackson.databind.JsonNode;
import io.holdfast.core.Broker;
import io.holdfast.core.Queue;
import io.holdfast.core.VirtualHost;
import io.holdfast.server.engine.Engine;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Holdfast's poison-message queue ({@link Broker#QUARANTINE_QUEUE}, one per vhost) for operators:
 * <ul>
 * <li>{@code GET /api/holdfast/quarantine/{vhost}[?queue=Q][&limit=N]} (monitoring): {@code messages} (how many
 *     are ready in quarantine), with Q {@code messages_from_queue} (how many of them came from Q), and
 *     {@code listed}, the first N (default 100, 0 for none) from queue Q (any if absent), oldest first, each with {@code position}, {@code queue} (where it came from), {@code reason},
 *     {@code delivery_count} and the message as RabbitMQ's get shows it (headers under {@code properties}).</li>
 * <li>{@code POST /api/holdfast/quarantine/{vhost}/republish} (administrator), body
 *     {@code {"queue":Q,"count":N,"after":P,"batch":B}}, every field optional: one step of sending messages back
 *     to the queues they came from, in order. It looks at up to B (default 1000, at most 10000) messages after
 *     position P (default 0) and republishes those from Q, at most N. It answers once every copy is durable:
 *     {@code {"republished","stayed","next","left"}}; continue with {@code "after": next} while {@code left}
 *     is not 0. A message stays in quarantine if its queue is gone or refuses it.</li>
 * <li>{@code DELETE /api/holdfast/quarantine/{vhost}} (administrator): empties it, {@code {"purged":n}}.</li>
 * </ul>
 * A vhost that does not exist is 404; one with no quarantine queue yet has an empty one. Handler threads.
 */
final class QuarantineApi {
    private static final int LIST_DEFAULT = 100;
    private static final int BATCH_DEFAULT = 1000;
    private static final int BATCH_MAX = 10_000;

    private final Engine engine;
    private final CoreClient core;

    QuarantineApi(Engine engine, CoreClient core) {
        this.engine = engine;
        this.core = core;
    }

    void addTo(Routes routes) {
        routes.add("GET", "/api/holdfast/quarantine/{vhost}", Routes.Access.VHOST_READ, r -> TopologyApi.answering(() -> list(r)))
                .add("POST", "/api/holdfast/quarantine/{vhost}/republish", Routes.Access.ADMIN,
                        r -> TopologyApi.answering(() -> republish(r)))
                .add("DELETE", "/api/holdfast/quarantine/{vhost}", Routes.Access.ADMIN,
                        r -> TopologyApi.answering(() -> purge(r)));
    }

    private Routes.Response list(Routes.Request r) {
        String from = query(r, "queue");
        String limitText = query(r, "limit");
        int limit = limitText == null ? LIST_DEFAULT : AmqpJson.count(ManagementHttp.MAPPER.createObjectNode()
                .put("limit", limitText), "limit", LIST_DEFAULT);
        Object found = engine.query(b -> {
            VirtualHost v = b.virtualHost(r.variable(0));
            if (v == null) {
                return null;
            }
            Queue q = v.queue(Broker.QUARANTINE_QUEUE);
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("vhost", v.name());
            m.put("messages", q == null ? 0 : q.readyCount());
            if (from != null) {
                m.put("messages_from_queue", b.quarantinedFrom(v.name(), from));
            }
            m.put("listed", b.quarantined(v.name(), from, limit).stream().map(QuarantineApi::view).toList());
            return m;
        });
        return found == null ? ManagementApi.notFound() : ManagementHttp.json(200, found);
    }

    private static Map<String, Object> view(Broker.Quarantined q) {
        Map<String, Object> v = new LinkedHashMap<>();
        v.put("position", q.position());
        v.put("queue", q.queue());
        v.put("reason", q.reason());
        v.put("delivery_count", q.deliveryCount());
        MessageApi.putMessage(v, q.message(), "auto", Integer.MAX_VALUE);
        return v;
    }

    private Routes.Response republish(Routes.Request r) {
        JsonNode body = r.body().length == 0 ? ManagementHttp.MAPPER.createObjectNode() : ManagementHttp.body(r);
        String from = body.hasNonNull("queue") ? AmqpJson.text(body, "queue") : null;
        int count = AmqpJson.count(body, "count", Integer.MAX_VALUE);
        int batch = AmqpJson.count(body, "batch", BATCH_DEFAULT);
        if (batch < 1 || batch > BATCH_MAX) {
            throw new ManagementHttp.BadRequest("\"batch\" must be between 1 and " + BATCH_MAX + ", not " + batch);
        }
        long after = position(body.path("after"));
        Broker.Republished done = core.callDurably(r.variable(0), ch -> engine.broker()
                .republishQuarantined(ch.vhost(), from, after, batch, count));
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("republished", done.republished());
        m.put("stayed", done.stayed());
        m.put("next", done.next());
        m.put("left", done.left());
        return ManagementHttp.json(200, m);
    }

    private Routes.Response purge(Routes.Request r) {
        int purged = core.call(r.variable(0), ch -> {
            Queue q = engine.broker().virtualHost(ch.vhost()).queue(Broker.QUARANTINE_QUEUE);
            return q == null ? 0 : engine.broker().topology().purgeQueue(ch, Broker.QUARANTINE_QUEUE);
        });
        return ManagementHttp.json(200, Map.of("purged", purged));
    }

    private static long position(JsonNode n) {
        if (n.isMissingNode() || n.isNull()) {
            return 0;
        }
        if (!n.canConvertToLong() || !n.isIntegralNumber() || n.asLong() < 0) {
            throw new ManagementHttp.BadRequest("\"after\" must be a position (a non-negative integer), not " + n);
        }
        return n.asLong();
    }

    private static String query(Routes.Request r, String name) {
        List<String> values = r.query().get(name);
        return values == null || values.isEmpty() ? null : values.get(0);
    }
}
