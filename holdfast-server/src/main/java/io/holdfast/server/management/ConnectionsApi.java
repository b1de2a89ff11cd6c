package io.holdfast.server.management;

import io.holdfast.server.engine.ClientConnections;
import io.holdfast.server.engine.Engine;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * RabbitMQ's connections API: {@code GET /api/connections}, {@code GET /api/connections/{name}} (monitoring) and
 * {@code DELETE /api/connections/{name}} (administrator), which closes it with RabbitMQ's
 * {@code 320 CONNECTION_FORCED - Closed via management plugin}. Handler threads; the connections are read on the
 * broker thread.
 */
final class ConnectionsApi {
    /** RabbitMQ's reason when the management plugin closes a connection. */
    static final String CLOSED_VIA_MANAGEMENT = "Closed via management plugin";

    private final Engine engine;
    private final ClientConnections connections;

    ConnectionsApi(Engine engine, ClientConnections connections) {
        this.engine = engine;
        this.connections = connections;
    }

    void addTo(Routes routes) {
        routes.add("GET", "/api/connections", Routes.Access.READ, r -> ManagementHttp.json(200, list(null)))
                .add("GET", "/api/connections/{name}", Routes.Access.READ, r -> {
                    List<Map<String, Object>> found = list(r.variable(0));
                    return found.isEmpty() ? ManagementApi.notFound() : ManagementHttp.json(200, found.get(0));
                })
                .add("DELETE", "/api/connections/{name}", Routes.Access.ADMIN, r ->
                        engine.query(b -> connections.close(r.variable(0), CLOSED_VIA_MANAGEMENT))
                                ? Routes.Response.of(204, ManagementHttp.JSON, "") : ManagementApi.notFound());
    }

    /** The connections (only the one named {@code name} when not null), sorted by name, as RabbitMQ shows them. */
    private List<Map<String, Object>> list(String name) {
        return engine.query(b -> connections.list()).stream()
                .filter(c -> name == null || c.name().equals(name))
                .sorted(Comparator.comparing(ClientConnections.Info::name))
                .map(ConnectionsApi::view).toList();
    }

    private static Map<String, Object> view(ClientConnections.Info c) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", c.name());
        m.put("node", ApiViews.NODE);
        m.put("type", "network");
        m.put("protocol", "AMQP 0-9-1");
        m.put("user", c.user());
        m.put("vhost", c.vhost());
        m.put("peer_host", c.peerHost());
        m.put("peer_port", c.peerPort());
        m.put("channels", c.channels());
        m.put("state", "running");
        return m;
    }
}
