package io.holdfast.server.management;

import io.holdfast.core.ChannelState;
import io.holdfast.core.Consumer;
import io.holdfast.core.Queue;
import io.holdfast.server.engine.ClientConnections;
import io.holdfast.server.engine.Engine;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * RabbitMQ's channels and consumers API (monitoring): {@code GET /api/channels}, {@code /api/channels/{name}},
 * {@code /api/connections/{name}/channels}, {@code /api/vhosts/{vhost}/channels}, {@code /api/consumers} and
 * {@code /api/consumers/{vhost}}, with RabbitMQ's field names and JSON types. Handler threads; the views are
 * built on the broker thread, where the channels live.
 */
final class ChannelsApi {
    private final Engine engine;
    private final ClientConnections connections;

    ChannelsApi(Engine engine, ClientConnections connections) {
        this.engine = engine;
        this.connections = connections;
    }

    void addTo(Routes routes) {
        routes.add("GET", "/api/channels", Routes.Access.MANAGEMENT,
                        r -> ManagementHttp.json(200, channels(seenBy(r))))
                .add("GET", "/api/channels/{name}", Routes.Access.MANAGEMENT, r -> {
                    List<Map<String, Object>> found = channels(c -> c.name().equals(r.variable(0)));
                    if (found.isEmpty()) {
                        return ManagementApi.notFound();
                    }
                    return ConnectionsApi.seenBy(engine, r, String.valueOf(found.get(0).get("user")))
                            ? ManagementHttp.json(200, found.get(0)) : ConnectionsApi.notAuthorised();
                })
                .add("GET", "/api/connections/{name}/channels", Routes.Access.MANAGEMENT, r -> {
                    String owner = engine.query(b -> connections.list().stream().filter(c -> c.name().equals(r.variable(0)))
                            .map(ClientConnections.Info::user).findFirst().orElse(null));
                    if (owner == null) {
                        return ManagementApi.notFound();
                    }
                    if (!ConnectionsApi.seenBy(engine, r, owner)) {
                        return ConnectionsApi.notAuthorised();
                    }
                    return ManagementHttp.json(200, channels(c -> c.connection().name().equals(r.variable(0))));
                })
                .add("GET", "/api/vhosts/{vhost}/channels", Routes.Access.VHOST_READ, r -> vhostOnly(r.variable(0),
                        () -> channels(seenBy(r).and(c -> c.state().vhost().equals(r.variable(0))))))
                .add("GET", "/api/consumers", Routes.Access.MANAGEMENT, r -> ManagementHttp.json(200,
                        consumers(null).stream().filter(m -> HttpAuth.seesVhost(engine.access(), r.user(),
                                String.valueOf(((Map<?, ?>) m.get("queue")).get("vhost")))).toList()))
                .add("GET", "/api/consumers/{vhost}", Routes.Access.VHOST_READ, r -> vhostOnly(r.variable(0),
                        () -> consumers(r.variable(0))));
    }

    /** As RabbitMQ: monitoring and administrator see every channel, other management users their own. */
    private Predicate<ClientConnections.ChannelInfo> seenBy(Routes.Request r) {
        boolean monitor = engine.access().user(r.user()).map(HttpAuth::isMonitor).orElse(false);
        return c -> monitor || c.connection().user().equals(r.user());
    }

    private Routes.Response vhostOnly(String vhost, java.util.function.Supplier<Object> view) {
        if (engine.query(b -> b.virtualHost(vhost) == null)) {
            return ManagementApi.notFound();
        }
        return ManagementHttp.json(200, view.get());
    }

    /** The channels {@code which} accepts, sorted by name, as RabbitMQ lists them. */
    private List<Map<String, Object>> channels(Predicate<ClientConnections.ChannelInfo> which) {
        return engine.query(b -> {
            List<Map<String, Object>> out = new ArrayList<>();
            connections.channels().stream().filter(which)
                    .sorted(Comparator.comparing((ClientConnections.ChannelInfo c) -> c.connection().name())
                            .thenComparingInt(ClientConnections.ChannelInfo::number))
                    .forEach(c -> out.add(channel(c)));
            return out;
        });
    }

    private static Map<String, Object> channel(ClientConnections.ChannelInfo c) {
        ChannelState s = c.state();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", c.name());
        m.put("number", c.number());
        m.put("node", ApiViews.NODE);
        m.put("connection_details", connectionDetails(c.connection()));
        m.put("user", c.connection().user());
        m.put("user_who_performed_action", c.connection().user());
        m.put("vhost", s.vhost());
        m.put("prefetch_count", s.prefetchPerConsumer());
        m.put("global_prefetch_count", s.prefetchGlobal());
        m.put("confirm", c.confirm());
        m.put("transactional", c.transactional());
        m.put("messages_unacknowledged", s.unackedCount());
        m.put("messages_unconfirmed", c.unconfirmed());
        m.put("messages_uncommitted", c.uncommitted());
        m.put("acks_uncommitted", s.txHeldCount());
        m.put("consumer_count", s.consumerCount());
        m.put("state", s.flowActive() ? "running" : "flow");
        return m;
    }

    private static Map<String, Object> connectionDetails(ClientConnections.Info c) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", c.name());
        m.put("peer_host", c.peerHost());
        m.put("peer_port", c.peerPort());
        return m;
    }

    /** The consumers (of {@code vhost} when not null), by channel then consumer tag. */
    private List<Map<String, Object>> consumers(String vhost) {
        return engine.query(b -> {
            List<Map<String, Object>> out = new ArrayList<>();
            connections.channels().stream().filter(c -> vhost == null || c.state().vhost().equals(vhost))
                    .sorted(Comparator.comparing(ClientConnections.ChannelInfo::name))
                    .forEach(c -> {
                        List<Consumer> cs = new ArrayList<>();
                        c.state().consumers().forEach(cs::add);
                        cs.sort(Comparator.comparing(Consumer::tag));
                        cs.forEach(x -> out.add(consumer(c, x)));
                    });
            return out;
        });
    }

    private static Map<String, Object> consumer(ClientConnections.ChannelInfo c, Consumer x) {
        Queue q = x.queue();
        boolean waiting = q.singleActiveConsumer() && q.activeConsumer() != x;
        Map<String, Object> queue = new LinkedHashMap<>();
        queue.put("name", q.name());
        queue.put("vhost", q.vhost());
        Map<String, Object> channel = new LinkedHashMap<>();
        channel.put("name", c.name());
        channel.put("number", c.number());
        channel.put("connection_name", c.connection().name());
        channel.put("peer_host", c.connection().peerHost());
        channel.put("peer_port", c.connection().peerPort());
        channel.put("user", c.connection().user());
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("consumer_tag", x.tag());
        m.put("queue", queue);
        m.put("channel_details", channel);
        m.put("ack_required", !x.noAck());
        m.put("prefetch_count", x.prefetch());
        m.put("exclusive", x.exclusive());
        m.put("active", !waiting);
        m.put("activity_status", waiting ? "waiting" : q.singleActiveConsumer() ? "single_active" : "up");
        m.put("priority", x.priority());
        m.put("arguments", ApiViews.arguments(x.arguments()));
        return m;
    }
}
