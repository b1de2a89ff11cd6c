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
 * every connection, other management users their own; administrators close any, others their own. Another
 * user's connection, asked for by name by someone who may not see or close it, is RabbitMQ's 401
 * {@code User not authorised to access object} (a missing one is 404). Handler threads; the connections are read
 * on the broker thread.
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
        routes.add("GET", "/api/connections", Routes.Access.MANAGEMENT, r -> ManagementHttp.json(200, list(r)))
                .add("GET", "/api/connections/{name}", Routes.Access.MANAGEMENT, r -> {
                    ClientConnections.Info c = engine.query(b -> connections.list()).stream()
                            .filter(i -> i.name().equals(r.variable(0))).findFirst().orElse(null);
                    if (c == null) {
                        return ManagementApi.notFound();
                    }
                    return seenBy(engine, r, c.user()) ? ManagementHttp.json(200, view(c)) : notAuthorised();
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
            return notAuthorised();
        }
        return closed ? Routes.Response.of(204, ManagementHttp.JSON, "") : ManagementApi.notFound();
    }

    /** RabbitMQ's answer to a user asking for a connection or channel that is not theirs to see or close. */
    static Routes.Response notAuthorised() {
        return ManagementHttp.error(401, "not_authorised", "User not authorised to access object");
    }

    /** Whether the asker sees what {@code owner}'s connections have: as RabbitMQ, monitors see all, others their own. */
    static boolean seenBy(Engine engine, Routes.Request r, String owner) {
        return owner.equals(r.user()) || engine.access().user(r.user()).map(HttpAuth::isMonitor).orElse(false);
    }

    /** The connections the user may see, sorted by name, as RabbitMQ shows them. */
    private List<Map<String, Object>> list(Routes.Request r) {
        return engine.query(b -> connections.list()).stream()
                .filter(c -> seenBy(engine, r, c.user()))
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
