package io.holdfast.server.management;

import io.holdfast.server.engine.ClientConnections;
import io.holdfast.server.engine.Engine;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * RabbitMQ's connections API: {@code GET /api/connections}, {@code GET /api/connections/{name}} and
 * {@code DELETE /api/connections/{name}}, which closes it with RabbitMQ's
 * {@code 320 CONNECTION_FORCED - Closed via management plugin}. As RabbitMQ: monitoring and administrator see
 * every connection, other management users their own; administrators close any, others their own (else 401
 * {@code User not authorised to access object}). Handler threads; the connections are read on the broker thread.
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
        routes.add("GET", "/api/connections", Routes.Access.MANAGEMENT, r -> ManagementHttp.json(200, list(r, null)))
                .add("GET", "/api/connections/{name}", Routes.Access.MANAGEMENT, r -> {
                    List<Map<String, Object>> found = list(r, r.variable(0));
                    return found.isEmpty() ? ManagementApi.notFound() : ManagementHttp.json(200, found.get(0));
                })
                .add("DELETE", "/api/connections/{name}", Routes.Access.MANAGEMENT, this::close);
    }

    private Routes.Response close(Routes.Request r) {
        String name = r.variable(0);
        boolean admin = engine.access().user(r.user()).map(u -> u.hasTag("administrator")).orElse(false);
        Boolean closed = engine.query(b -> { // null: someone else's, and not an administrator asking
            ClientConnections.Info c = connections.list().stream().filter(i -> i.name().equals(name)).findFirst()
                    .orElse(null);
            if (c == null) {
                return false;
            }
            return admin || c.user().equals(r.user()) ? connections.close(name, CLOSED_VIA_MANAGEMENT) : null;
        });
        if (closed == null) {
            return ManagementHttp.error(401, "not_authorised", "User not authorised to access object");
        }
        return closed ? Routes.Response.of(204, ManagementHttp.JSON, "") : ManagementApi.notFound();
    }

    /**
     * The connections the user may see (only the one named {@code name} when not null), sorted by name, as
     * RabbitMQ shows them.
     */
    private List<Map<String, Object>> list(Routes.Request r, String name) {
        boolean monitor = engine.access().user(r.user()).map(HttpAuth::isMonitor).orElse(false);
        return engine.query(b -> connections.list()).stream()
                .filter(c -> name == null || c.name().equals(name))
                .filter(c -> monitor || c.user().equals(r.user()))
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
