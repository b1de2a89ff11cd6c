package io.holdfast.server.management;

import com.fasterxml.jackson.databind.JsonNode;
import io.holdfast.server.auth.AccessControl;
import io.holdfast.server.auth.AccessException;
import io.holdfast.server.auth.AuditLog;
import io.holdfast.server.auth.PasswordHash;
import io.holdfast.server.auth.Permission;
import io.holdfast.server.auth.TopicPermission;
import io.holdfast.server.engine.Engine;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;

/**
 * RabbitMQ's API for who may do what, with its paths, bodies and answers: {@code /api/whoami},
 * {@code /api/users[/{name}]}, {@code PUT|DELETE /api/vhosts/{name}}, {@code /api/permissions[/{vhost}/{user}]},
 * {@code /api/users/{user}/permissions}, {@code /api/vhosts/{vhost}/permissions},
 * {@code /api/topic-permissions[/{vhost}/{user}]}, {@code /api/users/{user}/topic-permissions},
 * {@code /api/vhosts/{vhost}/topic-permissions}, {@code /api/vhost-limits[/{vhost}[/{name}]]},
 * {@code /api/user-limits/{user}/{name}}; and Holdfast's {@code DELETE /api/topic-permissions/{vhost}/{user}/{exchange}}
 * (one exchange's, for {@code clear_topic_permissions USER EXCHANGE}) and {@code GET /api/audit}. A created object answers 201, a changed one 204; bad input 400 with the reason.
 * Changes need the administrator tag; each is audited with the user and address it came from.
 */
final class AccessApi {
    private static final long VHOST_DELETE_TIMEOUT_SECONDS = 30;

    private final Engine engine;
    private final BiConsumer<String, Runnable> closeVirtualHost;

    /**
     * @param closeVirtualHost ends the connections on a vhost, then runs the given task on the broker thread
     */
    AccessApi(Engine engine, BiConsumer<String, Runnable> closeVirtualHost) {
        this.engine = engine;
        this.closeVirtualHost = closeVirtualHost;
    }

    private AccessControl access() {
        return engine.access();
    }

    void addTo(Routes routes) {
        routes.add("GET", "/api/whoami", Routes.Access.MANAGEMENT, this::whoami)
                .add("GET", "/api/users", Routes.Access.ADMIN, r -> ManagementHttp.json(200,
                        access().users().stream().map(AccessApi::user).toList()))
                .add("GET", "/api/users/{name}", Routes.Access.ADMIN, r -> access().user(r.variable(0))
                        .map(u -> ManagementHttp.json(200, user(u))).orElseGet(ManagementApi::notFound))
                .add("PUT", "/api/users/{name}", Routes.Access.ADMIN, this::putUser)
                .add("DELETE", "/api/users/{name}", Routes.Access.ADMIN, r -> change(() ->
                        access().deleteUser(actor(r), r.variable(0)), 204))
                .add("GET", "/api/users/{name}/permissions", Routes.Access.ADMIN, r -> access().user(r.variable(0))
                        .map(u -> ManagementHttp.json(200, permissions(r.variable(0), null)))
                        .orElseGet(ManagementApi::notFound))
                .add("PUT", "/api/vhosts/{vhost}", Routes.Access.ADMIN, this::putVhost)
                .add("DELETE", "/api/vhosts/{vhost}", Routes.Access.ADMIN, this::deleteVhost)
                .add("GET", "/api/vhosts/{vhost}/permissions", Routes.Access.ADMIN, r -> access().vhost(r.variable(0))
                        .map(v -> ManagementHttp.json(200, permissions(null, r.variable(0))))
                        .orElseGet(ManagementApi::notFound))
                .add("GET", "/api/permissions", Routes.Access.ADMIN, r -> ManagementHttp.json(200,
                        permissions(null, null)))
                .add("GET", "/api/permissions/{vhost}/{user}", Routes.Access.ADMIN, r ->
                        access().permission(r.variable(1), r.variable(0))
                                .map(p -> ManagementHttp.json(200, permission(r.variable(1), r.variable(0), p)))
                                .orElseGet(ManagementApi::notFound))
                .add("PUT", "/api/permissions/{vhost}/{user}", Routes.Access.ADMIN, this::putPermissions)
                .add("DELETE", "/api/permissions/{vhost}/{user}", Routes.Access.ADMIN, r -> change(() ->
                        access().clearPermissions(actor(r), r.variable(1), r.variable(0)), 204))
                .add("GET", "/api/topic-permissions", Routes.Access.ADMIN, r -> ManagementHttp.json(200,
                        topicPermissions(null, null)))
                .add("GET", "/api/topic-permissions/{vhost}/{user}", Routes.Access.ADMIN, this::getTopicPermissions)
                .add("PUT", "/api/topic-permissions/{vhost}/{user}", Routes.Access.ADMIN, this::putTopicPermissions)
                .add("DELETE", "/api/topic-permissions/{vhost}/{user}", Routes.Access.ADMIN, r -> change(() ->
                        access().clearTopicPermissions(actor(r), r.variable(1), r.variable(0), null), 204))
                .add("DELETE", "/api/topic-permissions/{vhost}/{user}/{exchange}", Routes.Access.ADMIN, r -> change(() ->
                        access().clearTopicPermissions(actor(r), r.variable(1), r.variable(0), r.variable(2)), 204))
                .add("GET", "/api/users/{name}/topic-permissions", Routes.Access.ADMIN, r -> access().user(r.variable(0))
                        .map(u -> ManagementHttp.json(200, topicPermissions(r.variable(0), null)))
                        .orElseGet(ManagementApi::notFound))
                .add("GET", "/api/vhosts/{vhost}/topic-permissions", Routes.Access.ADMIN, r -> access().vhost(r.variable(0))
                        .map(v -> ManagementHttp.json(200, topicPermissions(null, r.variable(0))))
                        .orElseGet(ManagementApi::notFound))
                .add("GET", "/api/vhost-limits", Routes.Access.ADMIN, r -> ManagementHttp.json(200, vhostLimits(null)))
                .add("GET", "/api/vhost-limits/{vhost}", Routes.Access.ADMIN, r -> access().vhost(r.variable(0))
                        .map(v -> ManagementHttp.json(200, vhostLimits(v.name()))).orElseGet(ManagementApi::notFound))
                .add("PUT", "/api/vhost-limits/{vhost}/{name}", Routes.Access.ADMIN, r -> putVhostLimit(r, false))
                .add("DELETE", "/api/vhost-limits/{vhost}/{name}", Routes.Access.ADMIN, r -> putVhostLimit(r, true))
                .add("PUT", "/api/user-limits/{user}/{name}", Routes.Access.ADMIN, r -> putUserLimit(r, false))
                .add("DELETE", "/api/user-limits/{user}/{name}", Routes.Access.ADMIN, r -> putUserLimit(r, true))
                .add("GET", "/api/audit", Routes.Access.ADMIN, r -> audit());
    }

    private Routes.Response whoami(Routes.Request r) {
        AccessControl.User u = access().user(r.user()).orElseThrow();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", u.name());
        m.put("tags", u.tags());
        return ManagementHttp.json(200, m);
    }

    /**
     * RabbitMQ's user PUT: {@code password}, or {@code password_hash} (with {@code hashing_algorithm}; {@code ""}
     * for none), or neither, which leaves (or makes) the user without a password, as RabbitMQ: they log in only
     * by client certificate (EXTERNAL).
     */
    private Routes.Response putUser(Routes.Request r) throws IOException {
        JsonNode body = ManagementHttp.body(r);
        String name = r.variable(0);
        List<String> tags = tags(body.path("tags"));
        boolean exists = access().user(name).isPresent();
        String password = body.hasNonNull("password") ? body.get("password").asText() : null;
        String hash = body.hasNonNull("password_hash") ? body.get("password_hash").asText() : null;
        if (password != null && hash != null) {
            throw new ManagementHttp.BadRequest("give password or password_hash, not both");
        }
        AccessControl.Actor who = actor(r);
        return change(() -> {
            if (password != null && exists) {
                access().changePassword(who, name, password);
                access().setUserTags(who, name, tags);
            } else if (password != null) {
                access().addUser(who, name, password, tags);
            } else if (hash != null && !hash.isEmpty()) {
                String algorithm = body.path("hashing_algorithm").asText(PasswordHash.SHA256);
                access().putUser(who, name, new PasswordHash(algorithm, hash), tags);
            } else if (exists) {
                access().clearPassword(who, name);
                access().setUserTags(who, name, tags);
            } else {
                access().putUser(who, name, PasswordHash.none(), tags);
            }
        }, exists ? 204 : 201);
    }

    /** RabbitMQ's tags: a comma-separated string (before 3.9) or a list; for the API and definitions. */
    static List<String> tags(JsonNode n) {
        List<String> out = new ArrayList<>();
        if (n.isArray()) {
            n.forEach(t -> out.add(t.asText().trim()));
        } else if (n.isTextual()) {
            for (String t : n.asText().split(",")) {
                out.add(t.trim());
            }
        }
        out.removeIf(String::isEmpty);
        return out;
    }

    private Routes.Response putVhost(Routes.Request r) throws IOException {
        JsonNode body = r.body().length == 0 ? ManagementHttp.MAPPER.createObjectNode() : ManagementHttp.body(r);
        String name = r.variable(0);
        if (access().vhost(name).isPresent()) {
            return Routes.Response.of(204, ManagementHttp.JSON, "");
        }
        Routes.Response answer = change(() -> access().addVhost(actor(r), name,
                body.path("description").asText("")), 201);
        if (answer.status() == 201) {
            engine.query(b -> b.addVirtualHost(name));
        }
        return answer;
    }

    /**
     * Deletes the vhost: refused to new connections at once, then its connections are closed (320) and its
     * queues, with their stored messages, exchanges and bindings go. Answers when all of it is done.
     */
    private Routes.Response deleteVhost(Routes.Request r) throws Exception {
        String name = r.variable(0);
        Routes.Response answer = change(() -> access().deleteVhost(actor(r), name), 204);
        if (answer.status() != 204) {
            return answer;
        }
        CompletableFuture<Void> gone = new CompletableFuture<>();
        closeVirtualHost.accept(name, () -> {
            try {
                engine.broker().deleteVirtualHost(name);
                engine.afterCommand();
                gone.complete(null);
            } catch (RuntimeException e) {
                gone.completeExceptionally(e);
            }
        });
        gone.get(VHOST_DELETE_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        return answer;
    }

    private Routes.Response putPermissions(Routes.Request r) throws IOException {
        JsonNode body = ManagementHttp.body(r);
        String vhost = r.variable(0);
        String user = r.variable(1);
        boolean exists = access().permission(user, vhost).isPresent();
        return change(() -> access().setPermissions(actor(r), user, vhost, Permission.of(
                text(body, "configure"), text(body, "write"), text(body, "read"))), exists ? 204 : 201);
    }

    private Routes.Response getTopicPermissions(Routes.Request r) {
        String vhost = r.variable(0);
        String user = r.variable(1);
        if (access().user(user).isEmpty() || access().vhost(vhost).isEmpty()) {
            return ManagementApi.notFound();
        }
        return ManagementHttp.json(200, topicPermissions(user, vhost));
    }

    /** RabbitMQ's {@code {"exchange":"amq.topic","write":"^a","read":".*"}}: one exchange's; 201 new, 204 replaced. */
    private Routes.Response putTopicPermissions(Routes.Request r) throws IOException {
        JsonNode body = ManagementHttp.body(r);
        String vhost = r.variable(0);
        String user = r.variable(1);
        boolean exists = access().topicPermission(user, vhost, body.path("exchange").asText("")).isPresent();
        return change(() -> access().setTopicPermissions(actor(r), user, vhost, TopicPermission.of(
                text(body, "exchange"), text(body, "write"), text(body, "read"))), exists ? 204 : 201);
    }

    private static String text(JsonNode body, String field) {
        if (!body.hasNonNull(field)) {
            throw new AccessException(AccessException.Kind.INVALID, "Mandatory field missing: " + field);
        }
        return body.get(field).asText();
    }

    private Routes.Response putVhostLimit(Routes.Request r, boolean clear) throws IOException {
        String vhost = r.variable(0);
        String limit = r.variable(1);
        AccessControl.Vhost v = access().vhost(vhost).orElse(null);
        if (v == null) {
            return ManagementApi.notFound();
        }
        int value = clear ? -1 : limitValue(r);
        return change(() -> {
            switch (limit) {
                case "max-connections" -> access().setVhostLimits(actor(r), vhost, value, v.maxQueues());
                case "max-queues" -> access().setVhostLimits(actor(r), vhost, v.maxConnections(), value);
                default -> throw new AccessException(AccessException.Kind.INVALID, "unknown vhost limit '" + limit
                        + "'; known: max-connections, max-queues");
            }
        }, 204);
    }

    private Routes.Response putUserLimit(Routes.Request r, boolean clear) throws IOException {
        String user = r.variable(0);
        String limit = r.variable(1);
        AccessControl.User u = access().user(user).orElse(null);
        if (u == null) {
            return ManagementApi.notFound();
        }
        int value = clear ? -1 : limitValue(r);
        return change(() -> {
            switch (limit) {
                case "max-connections" -> access().setUserLimits(actor(r), user, value, u.maxChannels());
                case "max-channels" -> access().setUserLimits(actor(r), user, u.maxConnections(), value);
                default -> throw new AccessException(AccessException.Kind.INVALID, "unknown user limit '" + limit
                        + "'; known: max-connections, max-channels");
            }
        }, 204);
    }

    /** {@code {"value": N}}, N an integer; negative means no limit, as RabbitMQ. */
    private static int limitValue(Routes.Request r) throws IOException {
        JsonNode value = ManagementHttp.body(r).path("value");
        if (!value.isIntegralNumber() || !value.canConvertToInt()) {
            // A 400 here: outside change(), an AccessException would escape as a 500.
            throw new ManagementHttp.BadRequest("the limit's \"value\" must be an integer");
        }
        return value.asInt();
    }

    private Routes.Response audit() throws IOException {
        List<Map<String, Object>> out = new ArrayList<>();
        for (AuditLog.Entry e : engine.audit().entries(10_000)) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("time", e.timeMillis());
            m.put("user", e.user());
            m.put("from", e.from());
            m.put("action", e.action());
            m.put("details", e.details());
            out.add(m);
        }
        return ManagementHttp.json(200, out);
    }

    /** Runs a change; its refusal becomes RabbitMQ's 400 or 404 with the reason. */
    private static Routes.Response change(Runnable change, int status) {
        try {
            change.run();
        } catch (AccessException e) {
            return switch (e.kind()) {
                case NOT_FOUND -> ManagementApi.notFound();
                case EXISTS, INVALID -> ManagementHttp.error(400, "bad_request", e.getMessage());
                case STORAGE -> ManagementHttp.error(500, "internal_error", e.getMessage());
                case UNAVAILABLE -> ManagementHttp.error(503, "service_unavailable", e.getMessage());
                case CONFLICT -> ManagementHttp.error(409, "conflict", e.getMessage());
            };
        } catch (IllegalArgumentException e) { // a regular expression that does not compile, a bad hash
            return ManagementHttp.error(400, "bad_request", e.getMessage());
        }
        return Routes.Response.of(status, ManagementHttp.JSON, "");
    }

    private static AccessControl.Actor actor(Routes.Request r) {
        return new AccessControl.Actor(r.user(), r.peer());
    }

    private static Map<String, Object> user(AccessControl.User u) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", u.name());
        m.put("password_hash", u.password().hash());
        m.put("hashing_algorithm", u.password().algorithm());
        m.put("tags", u.tags());
        Map<String, Object> limits = new LinkedHashMap<>();
        if (u.maxConnections() >= 0) {
            limits.put("max-connections", u.maxConnections());
        }
        if (u.maxChannels() >= 0) {
            limits.put("max-channels", u.maxChannels());
        }
        m.put("limits", limits);
        return m;
    }

    private List<Map<String, Object>> permissions(String user, String vhost) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (Map.Entry<String[], Permission> e : access().permissions()) {
            if ((user == null || user.equals(e.getKey()[0])) && (vhost == null || vhost.equals(e.getKey()[1]))) {
                out.add(permission(e.getKey()[0], e.getKey()[1], e.getValue()));
            }
        }
        return out;
    }

    private List<Map<String, Object>> topicPermissions(String user, String vhost) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (Map.Entry<String[], TopicPermission> e : access().topicPermissions()) {
            if ((user == null || user.equals(e.getKey()[0])) && (vhost == null || vhost.equals(e.getKey()[1]))) {
                out.add(topicPermission(e.getKey()[0], e.getKey()[1], e.getValue()));
            }
        }
        return out;
    }

    /** RabbitMQ's shape of a topic permission, in the API and in definitions. */
    static Map<String, Object> topicPermission(String user, String vhost, TopicPermission p) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("user", user);
        m.put("vhost", vhost);
        m.put("exchange", p.exchange());
        m.put("write", p.write());
        m.put("read", p.read());
        return m;
    }

    private static Map<String, Object> permission(String user, String vhost, Permission p) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("user", user);
        m.put("vhost", vhost);
        m.put("configure", p.configure());
        m.put("write", p.write());
        m.put("read", p.read());
        return m;
    }

    private List<Map<String, Object>> vhostLimits(String only) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (AccessControl.Vhost v : access().vhosts()) {
            if (only != null && !only.equals(v.name())) {
                continue;
            }
            Map<String, Object> value = new LinkedHashMap<>();
            if (v.maxConnections() >= 0) {
                value.put("max-connections", v.maxConnections());
            }
            if (v.maxQueues() >= 0) {
                value.put("max-queues", v.maxQueues());
            }
            if (!value.isEmpty() || only != null) {
                out.add(Map.of("vhost", v.name(), "value", value));
            }
        }
        return out;
    }
}
