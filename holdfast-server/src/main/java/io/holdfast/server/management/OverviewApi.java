package io.holdfast.server.management;

import io.holdfast.core.Broker;
import io.holdfast.core.Exchange;
import io.holdfast.core.Queue;
import io.holdfast.core.VirtualHost;
import io.holdfast.server.config.Version;
import io.holdfast.server.engine.ClientConnections;
import io.holdfast.server.engine.Engine;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntSupplier;

/**
 * RabbitMQ's {@code GET /api/overview}. As RabbitMQ's plugin: a monitoring or administrator user gets the whole
 * broker's totals; another management user (management, policymaker) only what is in the vhosts it has
 * permissions in: {@code queue_totals}, the queues, exchanges and consumers of {@code object_totals} (its
 * connections and channels are its own, as {@code /api/connections} shows it), and {@code message_stats} summed
 * over those vhosts' queues (so without {@code confirm}, which is counted per channel, not per queue). Handler
 * threads; the counts are read on the broker thread.
 */
final class OverviewApi {
    /** One vhost's part of the totals. */
    private record VhostTotals(String vhost, long exchanges, long queues, long consumers, long ready, long unacked) {}

    private final Engine engine;
    private final IntSupplier connections;
    private final ClientConnections clients;
    private final MessageRates rates;

    OverviewApi(Engine engine, IntSupplier connections, ClientConnections clients, MessageRates rates) {
        this.engine = engine;
        this.connections = connections;
        this.clients = clients;
        this.rates = rates;
    }

    void addTo(Routes routes) {
        routes.add("GET", "/api/overview", Routes.Access.MANAGEMENT, this::overview);
    }

    private Routes.Response overview(Routes.Request r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("management_version", Version.VERSION);
        m.put("product_name", "Holdfast");
        m.put("product_version", Version.VERSION);
        m.put("rabbitmq_version", Version.VERSION);
        m.put("cluster_name", ApiViews.NODE);
        m.put("node", ApiViews.NODE);
        boolean monitor = engine.access().user(r.user()).map(HttpAuth::isMonitor).orElse(false);
        List<VhostTotals> vhosts = engine.query(OverviewApi::vhostTotals).stream()
                .filter(v -> monitor || HttpAuth.seesVhost(engine.access(), r.user(), v.vhost())).toList();
        List<ClientConnections.Info> own = engine.query(b -> clients.list()).stream()
                .filter(c -> monitor || c.user().equals(r.user())).toList();
        m.put("object_totals", objectTotals(vhosts, monitor ? connections.getAsInt() : own.size(),
                own.stream().mapToLong(ClientConnections.Info::channels).sum()));
        m.put("queue_totals", queueTotals(vhosts));
        if (monitor) {
            m.put("message_stats", rates.brokerStats(ManagementApi.brokerCounts(engine)));
        } else {
            List<String> seen = vhosts.stream().map(VhostTotals::vhost).toList();
            m.put("message_stats", rates.queuesStats(engine.query(b -> queueCounts(b, seen))));
        }
        return ManagementHttp.json(200, m);
    }

    private static List<VhostTotals> vhostTotals(Broker broker) {
        List<VhostTotals> out = new ArrayList<>();
        for (VirtualHost v : broker.virtualHosts()) {
            long exchanges = 0;
            long queues = 0;
            long consumers = 0;
            long ready = 0;
            long unacked = 0;
            for (Exchange ignored : v.exchanges()) {
                exchanges++;
            }
            for (Queue q : v.queues()) {
                ApiViews.Figures f = ApiViews.Figures.of(broker, q);
                queues++;
                consumers += f.consumers();
                ready += f.ready();
                unacked += f.unacked();
            }
            out.add(new VhostTotals(v.name(), exchanges, queues, consumers, ready, unacked));
        }
        return out;
    }

    /** The counters of the queues in {@code vhosts}, keyed for {@link MessageRates}. Broker thread. */
    private static Map<String, MessageRates.Counts> queueCounts(Broker broker, List<String> vhosts) {
        Map<String, MessageRates.Counts> out = new HashMap<>();
        for (String name : vhosts) {
            VirtualHost v = broker.virtualHost(name);
            if (v != null) {
                v.queues().forEach(q -> out.put(MessageRates.key(name, q.name()), ApiViews.counts(q)));
            }
        }
        return out;
    }

    private static Map<String, Object> objectTotals(List<VhostTotals> vhosts, int connections, long channels) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("connections", connections);
        m.put("channels", channels);
        m.put("exchanges", vhosts.stream().mapToLong(VhostTotals::exchanges).sum());
        m.put("queues", vhosts.stream().mapToLong(VhostTotals::queues).sum());
        m.put("consumers", vhosts.stream().mapToLong(VhostTotals::consumers).sum());
        return m;
    }

    private static Map<String, Object> queueTotals(List<VhostTotals> vhosts) {
        long ready = vhosts.stream().mapToLong(VhostTotals::ready).sum();
        long unacked = vhosts.stream().mapToLong(VhostTotals::unacked).sum();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("messages", ready + unacked);
        m.put("messages_ready", ready);
        m.put("messages_unacknowledged", unacked);
        return m;
    }
}
