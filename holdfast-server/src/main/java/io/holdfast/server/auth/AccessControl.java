package io.holdfast.server.auth;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Who may do what: users (salted password hashes, tags, limits), virtual hosts (with limits), each
 * user's permissions per virtual host, and topic permissions per user, vhost and topic exchange, with
 * RabbitMQ's names and semantics. Durable: every change is written
 * to {@code <data_dir>/access.meta} ({@link AccessFile}) before it is visible, after its entry in the
 * {@link AuditLog}. The default user is created at the first start only, as RabbitMQ's {@code default_user}.
 *
 * <p>Reads take the current immutable snapshot and never block: a changed permission applies to the next
 * check of every open channel. Changes from any thread are serialised. A change that cannot be made
 * throws {@link AccessException} and changes nothing.
 */
public final class AccessControl {
    /** A user; {@code maxConnections} and {@code maxChannels} are -1 for no limit. */
    public record User(String name, PasswordHash password, List<String> tags, int maxConnections, int maxChannels) {
        public User {
            tags = List.copyOf(tags);
        }

        public boolean hasTag(String tag) {
            return tags.contains(tag);
        }
    }

    /** A virtual host; {@code maxConnections} and {@code maxQueues} are -1 for no limit. */
    public record Vhost(String name, String description, int maxConnections, int maxQueues) {}

    /**
     * Everything, at one moment. Immutable. {@code topicPermissions}: user, then vhost, then exchange.
     */
    record State(Map<String, User> users, Map<String, Vhost> vhosts, Map<String, Map<String, Permission>> permissions,
                 Map<String, Map<String, Map<String, TopicPermission>>> topicPermissions) {
        State {
            users = Map.copyOf(users);
            vhosts = Map.copyOf(vhosts);
            Map<String, Map<String, Permission>> p = new TreeMap<>();
            permissions.forEach((user, byVhost) -> p.put(user, Map.copyOf(byVhost)));
            permissions = Map.copyOf(p);
            Map<String, Map<String, Map<String, TopicPermission>>> t = new TreeMap<>();
            topicPermissions.forEach((user, byVhost) -> {
                Map<String, Map<String, TopicPermission>> v = new TreeMap<>();
                byVhost.forEach((vhost, byExchange) -> {
                    if (!byExchange.isEmpty()) {
                        v.put(vhost, Map.copyOf(byExchange));
                    }
                });
                if (!v.isEmpty()) {
                    t.put(user, Map.copyOf(v));
                }
            });
            topicPermissions = Map.copyOf(t);
        }

        State(Map<String, User> users, Map<String, Vhost> vhosts, Map<String, Map<String, Permission>> permissions) {
            this(users, vhosts, permissions, Map.of());
        }
    }

    /** Who made a change, and from where: for the audit log. */
    public record Actor(String user, String from) {
        public static final Actor BROKER = new Actor("holdfast", "local");
    }

    private final AccessFile file;
    private final AuditLog audit;
    private volatile State state;
    /** Non-null on a cluster node: changes go through the cluster and come back through {@link #install}. */
    private volatile AccessReplication replication;

    private AccessControl(AccessFile file, AuditLog audit, State state) {
        this.file = file;
        this.audit = audit;
        this.state = state;
    }

    /**
     * Loads {@code <dataDir>/access.meta}, or, at the first start, creates it with {@code defaultUser} (tag
     * administrator, every permission on vhost {@code /}) and the vhost {@code /}.
     */
    public static AccessControl open(Path dataDir, String defaultUser, String defaultPass, AuditLog audit)
            throws IOException {
        AccessFile file = new AccessFile(dataDir);
        Optional<State> saved = file.load();
        if (saved.isPresent()) {
            return new AccessControl(file, audit, saved.get());
        }
        State first = new State(Map.of(defaultUser, new User(defaultUser, PasswordHash.of(defaultPass),
                List.of("administrator"), -1, -1)), Map.of("/", new Vhost("/", "Default virtual host", -1, -1)),
                Map.of(defaultUser, Map.of("/", Permission.all())));
        AccessControl ac = new AccessControl(file, audit, first);
        audit.append(Actor.BROKER, "first_start", Map.of("default_user", defaultUser, "vhost", "/"));
        file.save(first);
        return ac;
    }

    // ---- reads: any thread, never blocking ----

    public Optional<User> user(String name) {
        return Optional.ofNullable(state.users().get(name));
    }

    public List<User> users() {
        return sorted(state.users());
    }

    public Optional<Vhost> vhost(String name) {
        return Optional.ofNullable(state.vhosts().get(name));
    }

    public List<Vhost> vhosts() {
        return sorted(state.vhosts());
    }

    /** The user's permissions in the vhost, or empty if it has none there. */
    public Optional<Permission> permission(String user, String vhost) {
        Map<String, Permission> byVhost = state.permissions().get(user);
        return Optional.ofNullable(byVhost == null ? null : byVhost.get(vhost));
    }

    /** Every (user, vhost, permission), sorted by user then vhost. */
    public List<Map.Entry<String[], Permission>> permissions() {
        List<Map.Entry<String[], Permission>> out = new ArrayList<>();
        new TreeMap<>(state.permissions()).forEach((user, byVhost) -> new TreeMap<>(byVhost).forEach((vhost, p) ->
                out.add(Map.entry(new String[] {user, vhost}, p))));
        return out;
    }

    /** The user's topic permission on {@code exchange} in the vhost, or empty: then every routing key is allowed. */
    public Optional<TopicPermission> topicPermission(String user, String vhost, String exchange) {
        return Optional.ofNullable(topicPermissions(user, vhost).get(exchange));
    }

    /** The user's topic permissions in the vhost by exchange; empty if none (the common case, checked first). */
    public Map<String, TopicPermission> topicPermissions(String user, String vhost) {
        Map<String, Map<String, TopicPermission>> byVhost = state.topicPermissions().get(user);
        Map<String, TopicPermission> byExchange = byVhost == null ? null : byVhost.get(vhost);
        return byExchange == null ? Map.of() : byExchange;
    }

    /** Every (user, vhost, topic permission), sorted by user, vhost, then exchange. */
    public List<Map.Entry<String[], TopicPermission>> topicPermissions() {
        List<Map.Entry<String[], TopicPermission>> out = new ArrayList<>();
        new TreeMap<>(state.topicPermissions()).forEach((user, byVhost) -> new TreeMap<>(byVhost).forEach(
                (vhost, byExchange) -> new TreeMap<>(byExchange).values().forEach(p ->
                        out.add(Map.entry(new String[] {user, vhost}, p)))));
        return out;
    }

    private static <T> List<T> sorted(Map<String, T> m) {
        return new ArrayList<>(new TreeMap<>(m).values());
    }

    // ---- changes: serialised; audited, then written, then visible ----

    public synchronized void addUser(Actor who, String name, String password, List<String> tags) {
        Names.check("user", name);
        requirePassword(password);
        State s = state;
        if (s.users().containsKey(name)) {
            throw AccessException.exists("user '" + name + "' already exists");
        }
        Map<String, User> users = new LinkedHashMap<>(s.users());
        users.put(name, new User(name, PasswordHash.of(password), tags, -1, -1));
        commit(who, "add_user", Map.of("user", name, "tags", String.join(",", tags)),
                new State(users, s.vhosts(), s.permissions(), s.topicPermissions()));
    }

    /** Puts a user with an existing hash (definitions import). */
    public synchronized void putUser(Actor who, String name, PasswordHash hash, List<String> tags) {
        Names.check("user", name);
        State s = state;
        Map<String, User> users = new LinkedHashMap<>(s.users());
        User old = users.get(name);
        users.put(name, new User(name, hash, tags, old == null ? -1 : old.maxConnections(),
                old == null ? -1 : old.maxChannels()));
        commit(who, "put_user", Map.of("user", name, "tags", String.join(",", tags)),
                new State(users, s.vhosts(), s.permissions(), s.topicPermissions()));
    }

    public synchronized void deleteUser(Actor who, String name) {
        State s = state;
        requireUser(s, name);
        Map<String, User> users = new LinkedHashMap<>(s.users());
        users.remove(name);
        Map<String, Map<String, Permission>> permissions = new LinkedHashMap<>(s.permissions());
        permissions.remove(name);
        Map<String, Map<String, Map<String, TopicPermission>>> topic = new LinkedHashMap<>(s.topicPermissions());
        topic.remove(name);
        commit(who, "delete_user", Map.of("user", name), new State(users, s.vhosts(), permissions, topic));
    }

    public synchronized void changePassword(Actor who, String name, String password) {
        requirePassword(password);
        State s = state;
        User u = requireUser(s, name);
        Map<String, User> users = new LinkedHashMap<>(s.users());
        users.put(name, new User(name, PasswordHash.of(password), u.tags(), u.maxConnections(), u.maxChannels()));
        commit(who, "change_password", Map.of("user", name), new State(users, s.vhosts(), s.permissions(), s.topicPermissions()));
    }

    /** RabbitMQ's {@code clear_password}: the user can then log in only by a client certificate (EXTERNAL). */
    public synchronized void clearPassword(Actor who, String name) {
        State s = state;
        User u = requireUser(s, name);
        Map<String, User> users = new LinkedHashMap<>(s.users());
        users.put(name, new User(name, PasswordHash.none(), u.tags(), u.maxConnections(), u.maxChannels()));
        commit(who, "clear_password", Map.of("user", name), new State(users, s.vhosts(), s.permissions(),
                s.topicPermissions()));
    }

    public synchronized void setUserTags(Actor who, String name, List<String> tags) {
        State s = state;
        User u = requireUser(s, name);
        Map<String, User> users = new LinkedHashMap<>(s.users());
        users.put(name, new User(name, u.password(), tags, u.maxConnections(), u.maxChannels()));
        commit(who, "set_user_tags", Map.of("user", name, "tags", String.join(",", tags)),
                new State(users, s.vhosts(), s.permissions(), s.topicPermissions()));
    }

    public synchronized void addVhost(Actor who, String name, String description) {
        Names.check("virtual host", name);
        State s = state;
        if (s.vhosts().containsKey(name)) {
            throw AccessException.exists("virtual host '" + name + "' already exists");
        }
        Map<String, Vhost> vhosts = new LinkedHashMap<>(s.vhosts());
        vhosts.put(name, new Vhost(name, description == null ? "" : description, -1, -1));
        commit(who, "add_vhost", Map.of("vhost", name), new State(s.users(), vhosts, s.permissions(), s.topicPermissions()));
    }

    /** Removes the vhost and every permission in it; its queues and connections are the caller's to end. */
    public synchronized void deleteVhost(Actor who, String name) {
        State s = state;
        requireVhost(s, name);
        Map<String, Vhost> vhosts = new LinkedHashMap<>(s.vhosts());
        vhosts.remove(name);
        Map<String, Map<String, Permission>> permissions = new LinkedHashMap<>();
        s.permissions().forEach((user, byVhost) -> {
            Map<String, Permission> rest = new LinkedHashMap<>(byVhost);
            rest.remove(name);
            permissions.put(user, rest);
        });
        Map<String, Map<String, Map<String, TopicPermission>>> topic = new LinkedHashMap<>();
        s.topicPermissions().forEach((user, byVhost) -> {
            Map<String, Map<String, TopicPermission>> rest = new LinkedHashMap<>(byVhost);
            rest.remove(name);
            topic.put(user, rest);
        });
        commit(who, "delete_vhost", Map.of("vhost", name), new State(s.users(), vhosts, permissions, topic));
    }

    /** @throws AccessException for an unknown user or vhost; IllegalArgumentException for a bad regex */
    public synchronized void setPermissions(Actor who, String user, String vhost, Permission p) {
        State s = state;
        requireUser(s, user);
        requireVhost(s, vhost);
        Map<String, Map<String, Permission>> permissions = new LinkedHashMap<>(s.permissions());
        Map<String, Permission> byVhost = new LinkedHashMap<>(permissions.getOrDefault(user, Map.of()));
        byVhost.put(vhost, p);
        permissions.put(user, byVhost);
        commit(who, "set_permissions", Map.of("user", user, "vhost", vhost, "configure", p.configure(),
                "write", p.write(), "read", p.read()), new State(s.users(), s.vhosts(), permissions, s.topicPermissions()));
    }

    public synchronized void clearPermissions(Actor who, String user, String vhost) {
        State s = state;
        requireUser(s, user);
        requireVhost(s, vhost);
        Map<String, Map<String, Permission>> permissions = new LinkedHashMap<>(s.permissions());
        Map<String, Permission> byVhost = new LinkedHashMap<>(permissions.getOrDefault(user, Map.of()));
        byVhost.remove(vhost);
        permissions.put(user, byVhost);
        commit(who, "clear_permissions", Map.of("user", user, "vhost", vhost),
                new State(s.users(), s.vhosts(), permissions, s.topicPermissions()));
    }

    /**
     * Sets the user's topic permission on {@code p.exchange()} in the vhost (replacing one there).
     *
     * @throws AccessException for an unknown user or vhost
     */
    public synchronized void setTopicPermissions(Actor who, String user, String vhost, TopicPermission p) {
        State s = state;
        requireUser(s, user);
        requireVhost(s, vhost);
        Map<String, TopicPermission> byExchange = new LinkedHashMap<>(topicIn(s, user, vhost));
        byExchange.put(p.exchange(), p);
        commit(who, "set_topic_permissions", Map.of("user", user, "vhost", vhost, "exchange", p.exchange(),
                "write", p.write(), "read", p.read()), withTopic(s, user, vhost, byExchange));
    }

    /** Removes the user's topic permission on {@code exchange} in the vhost, or all of them there if it is null. */
    public synchronized void clearTopicPermissions(Actor who, String user, String vhost, String exchange) {
        State s = state;
        requireUser(s, user);
        requireVhost(s, vhost);
        Map<String, TopicPermission> byExchange = new LinkedHashMap<>(topicIn(s, user, vhost));
        if (exchange == null) {
            byExchange.clear();
        } else {
            byExchange.remove(exchange);
        }
        Map<String, String> details = new LinkedHashMap<>(Map.of("user", user, "vhost", vhost));
        if (exchange != null) {
            details.put("exchange", exchange);
        }
        commit(who, "clear_topic_permissions", details, withTopic(s, user, vhost, byExchange));
    }

    private static Map<String, TopicPermission> topicIn(State s, String user, String vhost) {
        return s.topicPermissions().getOrDefault(user, Map.of()).getOrDefault(vhost, Map.of());
    }

    private static State withTopic(State s, String user, String vhost, Map<String, TopicPermission> byExchange) {
        Map<String, Map<String, Map<String, TopicPermission>>> topic = new LinkedHashMap<>(s.topicPermissions());
        Map<String, Map<String, TopicPermission>> byVhost = new LinkedHashMap<>(topic.getOrDefault(user, Map.of()));
        byVhost.put(vhost, byExchange);
        topic.put(user, byVhost);
        return new State(s.users(), s.vhosts(), s.permissions(), topic);
    }

    /** RabbitMQ's vhost limits {@code max-connections} and {@code max-queues}; a negative value lifts one. */
    public synchronized void setVhostLimits(Actor who, String vhost, int maxConnections, int maxQueues) {
        State s = state;
        Vhost v = requireVhost(s, vhost);
        Map<String, Vhost> vhosts = new LinkedHashMap<>(s.vhosts());
        vhosts.put(vhost, new Vhost(vhost, v.description(), Math.max(-1, maxConnections), Math.max(-1, maxQueues)));
        commit(who, "set_vhost_limits", Map.of("vhost", vhost, "max-connections", String.valueOf(maxConnections),
                "max-queues", String.valueOf(maxQueues)), new State(s.users(), vhosts, s.permissions(), s.topicPermissions()));
    }

    /** RabbitMQ's user limits {@code max-connections} and {@code max-channels}; negative lifts one. */
    public synchronized void setUserLimits(Actor who, String user, int maxConnections, int maxChannels) {
        State s = state;
        User u = requireUser(s, user);
        Map<String, User> users = new LinkedHashMap<>(s.users());
        users.put(user, new User(user, u.password(), u.tags(), Math.max(-1, maxConnections), Math.max(-1, maxChannels)));
        commit(who, "set_user_limits", Map.of("user", user, "max-connections", String.valueOf(maxConnections),
                "max-channels", String.valueOf(maxChannels)), new State(users, s.vhosts(), s.permissions(), s.topicPermissions()));
    }

    // ---- the cluster's seam: changes replicated through the metadata log ----

    /** From now on changes go through {@code r} (a cluster node); set once, before clients connect. */
    public void replicateThrough(AccessReplication r) {
        replication = r;
    }

    /** The current state in the bytes {@link AccessReplication} and {@link #install} carry. */
    public byte[] encoded() {
        try {
            return AccessFile.encode(state);
        } catch (IOException e) {
            throw new IllegalStateException("the access state does not encode", e);
        }
    }

    /**
     * Makes {@code encoded} the state (a change committed in the cluster's log, or its snapshot): written to
     * this node's file, then visible. Called by the cluster's apply thread only, never with this lock held.
     */
    public void install(byte[] encoded) throws IOException {
        State next = AccessFile.decode(encoded);
        file.save(next);
        state = next;
    }

    private void commit(Actor who, String action, Map<String, String> details, State next) {
        try {
            audit.append(who, action, details);
            AccessReplication r = replication;
            if (r != null) {
                r.replicate(AccessFile.encode(state), AccessFile.encode(next)); // installed here when it returns
                return;
            }
            file.save(next);
        } catch (IOException e) {
            throw new AccessException(AccessException.Kind.STORAGE, "could not store the change (" + action + "): "
                    + e.getMessage());
        }
        state = next;
    }

    private static User requireUser(State s, String name) {
        User u = s.users().get(name);
        if (u == null) {
            throw AccessException.notFound("no such user '" + name + "'");
        }
        return u;
    }

    private static Vhost requireVhost(State s, String name) {
        Vhost v = s.vhosts().get(name);
        if (v == null) {
            throw AccessException.notFound("virtual host '" + name + "' does not exist");
        }
        return v;
    }

    private static void requirePassword(String password) {
        if (password == null || password.isEmpty()) {
            throw AccessException.invalid("the password must not be empty");
        }
        if (password.getBytes(StandardCharsets.UTF_8).length > 1024) {
            throw AccessException.invalid("the password is longer than 1024 bytes");
        }
    }
}
