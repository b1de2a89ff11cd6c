package io.holdfast.server.management;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import io.holdfast.core.Binding;
import io.holdfast.core.Broker;
import io.holdfast.core.BrokerException;
import io.holdfast.core.ChannelState;
import io.holdfast.core.Exchange;
import io.holdfast.core.MessageStore;
import io.holdfast.core.Queue;
import io.holdfast.core.Topology;
import io.holdfast.core.VirtualHost;
import io.holdfast.protocol.ReplyCode;
import io.holdfast.server.auth.AccessControl;
import io.holdfast.server.auth.AccessException;
import io.holdfast.server.auth.Names;
import io.holdfast.server.auth.PasswordHash;
import io.holdfast.server.auth.Permission;
import io.holdfast.server.auth.TopicPermission;
import io.holdfast.server.config.Version;
import io.holdfast.server.engine.BasicPropertiesRewriter;
import io.holdfast.server.engine.Engine;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * RabbitMQ's definitions: the JSON its {@code GET /api/definitions} exports and {@code POST /api/definitions}
 * (and {@code load_definitions} at start) imports: users with their password hashes, vhosts, permissions, topic
 * permissions, and queues, exchanges (not the predeclared ones) and bindings.
 *
 * <p>An import is checked whole before anything changes: every entry is read and checked (names, hashes,
 * regular expressions, references to users and vhosts), then the topology is declared into a scratch broker
 * that holds copies of the objects it touches, so the core's own checks (arguments, equivalence with what
 * exists) run. Only if all of that passes is it applied: the topology in the same broker task as the check, so
 * nothing can come between; then users, vhosts, permissions and topic permissions. A refusal is an
 * {@link Invalid} naming the entry and what is wrong, and nothing is applied. Policies and parameters, which
 * Holdfast has not, are refused rather than dropped silently. Any thread but the broker's; public only for
 * {@link #load}, the rest is the management API's.
 */
public final class Definitions {
    private static final Logger log = LoggerFactory.getLogger(Definitions.class);

    /** A definitions file that cannot be imported, with the entry and what is wrong. */
    static final class Invalid extends RuntimeException {
        Invalid(String message) {
            super(message);
        }
    }

    record UserDef(String name, PasswordHash hash, List<String> tags) {}

    record PermissionDef(String user, String vhost, Permission permission) {}

    record TopicPermissionDef(String user, String vhost, TopicPermission permission) {}

    record QueueDef(String where, String vhost, String name, boolean durable, boolean autoDelete,
                            Map<String, Object> arguments) {}

    record ExchangeDef(String where, String vhost, String name, String type, boolean durable,
                               boolean autoDelete, boolean internal, Map<String, Object> arguments) {}

    record BindingDef(String where, String vhost, String source, String destination, boolean toQueue,
                              String routingKey, Map<String, Object> arguments) {}

    /** What a file asks for, read and checked entry by entry. */
    record Plan(List<UserDef> users, List<String> vhosts, List<PermissionDef> permissions,
                List<TopicPermissionDef> topicPermissions, List<ExchangeDef> exchanges, List<QueueDef> queues,
                List<BindingDef> bindings) {
        /** "2 users, 1 vhosts, ..." for logs and progress lines. */
        /** Exchanges, queues and bindings: what is declared on the broker thread, twice (checked, then applied). */
        int topologyEntries() {
            return exchanges.size() + queues.size() + bindings.size();
        }

        /** Every entry applied: the topology, then vhosts, users, permissions and topic permissions. */
        int entries() {
            return topologyEntries() + vhosts.size() + users.size() + permissions.size() + topicPermissions.size();
        }

        String summary() {
            return users.size() + " users, " + vhosts.size() + " vhosts, " + permissions.size() + " permissions, "
                    + topicPermissions.size() + " topic permissions, " + exchanges.size() + " exchanges, " + queues.size() + " queues, " + bindings.size() + " bindings";
        }
    }

    private final Engine engine;
    private final CoreClient core;
    private final ImportProgress progress = new ImportProgress();

    Definitions(Engine engine, CoreClient core) {
        this.engine = engine;
        this.core = core;
    }

    /** The import under way, or how the last one ended. */
    ImportProgress progress() {
        return progress;
    }

    /**
     * Imports {@code file} ({@code load_definitions}) at start, before the listeners open, as RabbitMQ does.
     *
     * @throws IOException naming the file, and the entry and what is wrong; nothing is applied then
     */
    public static void load(Engine engine, Path file) throws IOException {
        Definitions d = new Definitions(engine, new CoreClient(engine));
        try {
            JsonNode root = ManagementHttp.MAPPER.readTree(file.toFile());
            Plan plan = d.plan(root == null ? ManagementHttp.MAPPER.createObjectNode() : root, null);
            d.apply(plan, AccessControl.Actor.BROKER);
            log.info("load_definitions: imported {} from {}", plan.summary(), file);
        } catch (Invalid | CoreClient.NoSuchVhost | AccessException e) {
            throw new IOException("load_definitions " + file + ": " + e.getMessage(), e);
        } catch (JsonProcessingException e) {
            throw new IOException("load_definitions " + file + ": not JSON: " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new IOException("load_definitions " + file + ": cannot read it: " + e.getMessage(), e);
        }
    }

    boolean vhostExists(String vhost) {
        return engine.access().vhost(vhost).isPresent();
    }

    // ---- export ----

    /** The broker's definitions ({@code vhost} null), or one vhost's (no users, vhosts or permissions, as RabbitMQ). */
    Map<String, Object> export(String vhost) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("rabbit_version", Version.VERSION);
        m.put("rabbitmq_version", Version.VERSION);
        m.put("product_name", "Holdfast");
        m.put("product_version", Version.VERSION);
        AccessControl access = engine.access();
        if (vhost == null) {
            List<Map<String, Object>> users = new ArrayList<>();
            for (AccessControl.User u : access.users()) {
                Map<String, Object> x = new LinkedHashMap<>();
                x.put("name", u.name());
                x.put("password_hash", u.password().hash());
                x.put("hashing_algorithm", u.password().algorithm());
                x.put("tags", u.tags());
                x.put("limits", Map.of());
                users.add(x);
            }
            m.put("users", users);
            List<Map<String, Object>> vhosts = new ArrayList<>();
            for (AccessControl.Vhost v : access.vhosts()) {
                Map<String, Object> x = new LinkedHashMap<>();
                x.put("name", v.name());
                x.put("description", v.description());
                x.put("metadata", Map.of("description", v.description(), "tags", List.of()));
                vhosts.add(x);
            }
            m.put("vhosts", vhosts);
            List<Map<String, Object>> permissions = new ArrayList<>();
            for (Map.Entry<String[], Permission> e : access.permissions()) {
                Map<String, Object> x = new LinkedHashMap<>();
                x.put("user", e.getKey()[0]);
                x.put("vhost", e.getKey()[1]);
                x.put("configure", e.getValue().configure());
                x.put("write", e.getValue().write());
                x.put("read", e.getValue().read());
                permissions.add(x);
            }
            m.put("permissions", permissions);
            List<Map<String, Object>> topic = new ArrayList<>();
            for (Map.Entry<String[], TopicPermission> e : access.topicPermissions()) {
                topic.add(AccessApi.topicPermission(e.getKey()[0], e.getKey()[1], e.getValue()));
            }
            m.put("topic_permissions", topic);
            m.put("global_parameters", List.of());
        }
        m.put("parameters", List.of());
        m.put("policies", List.of());
        m.putAll(engine.query(b -> topology(b, vhost)));
        return m;
    }

    /** Queues (not exclusive ones), exchanges (not predeclared) and bindings between them; broker thread. */
    private static Map<String, Object> topology(Broker b, String only) {
        List<Map<String, Object>> queues = new ArrayList<>();
        List<Map<String, Object>> exchanges = new ArrayList<>();
        List<Map<String, Object>> bindings = new ArrayList<>();
        for (VirtualHost v : b.virtualHosts()) {
            if (only != null && !only.equals(v.name())) {
                continue;
            }
            for (Queue q : v.queues()) {
                if (!q.exclusive()) {
                    Map<String, Object> x = ApiViews.queue(q);
                    x.keySet().retainAll(Set.of("name", "vhost", "durable", "auto_delete", "arguments"));
                    queues.add(x);
                }
            }
            for (Exchange e : v.exchanges()) {
                if (!Topology.predeclared(e)) {
                    exchanges.add(ApiViews.exchange(v, e));
                }
                for (Binding bd : e.bindings()) {
                    Queue q = bd.toQueue() ? v.queue(bd.destination()) : null;
                    if (q == null || !q.exclusive()) {
                        Map<String, Object> x = ApiViews.binding(v, bd);
                        x.remove("properties_key");
                        bindings.add(x);
                    }
                }
            }
        }
        if (only != null) { // a vhost's own file names no vhost, as RabbitMQ's
            queues.forEach(x -> x.remove("vhost"));
            exchanges.forEach(x -> x.remove("vhost"));
            bindings.forEach(x -> x.remove("vhost"));
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("queues", queues);
        m.put("exchanges", exchanges);
        m.put("bindings", bindings);
        return m;
    }

    // ---- import ----

    /**
     * Reads and checks a definitions file ({@code vhost} non-null: one vhost's, whose entries go there).
     *
     * @throws Invalid naming the first entry that is wrong
     */
    Plan plan(JsonNode root, String vhost) {
        if (!root.isObject()) {
            throw new Invalid("definitions must be a JSON object");
        }
        for (String unsupported : List.of("policies", "parameters")) {
            JsonNode n = root.path(unsupported);
            if (n.isArray() && !n.isEmpty()) {
                throw new Invalid(unsupported + "[0]: Holdfast has no " + unsupported.replace('_', ' ')
                        + " yet; remove them from the file to import the rest");
            }
        }
        AccessControl access = engine.access();
        List<UserDef> users = new ArrayList<>();
        List<String> vhosts = new ArrayList<>();
        List<PermissionDef> permissions = new ArrayList<>();
        List<TopicPermissionDef> topicPermissions = new ArrayList<>();
        if (vhost == null) {
            for (Entry e : entries(root, "users")) {
                String name = e.text("name");
                e.check(() -> Names.check("user", name));
                String algorithm = e.body.hasNonNull("hashing_algorithm") ? e.text("hashing_algorithm")
                        : PasswordHash.MD5; // as RabbitMQ: a file without the field predates 3.6, whose hashes were MD5
                String hash = e.text("password_hash");
                PasswordHash h = e.get(() -> new PasswordHash(algorithm, hash));
                users.add(new UserDef(name, h, AccessApi.tags(e.body.path("tags"))));
            }
            for (Entry e : entries(root, "vhosts")) {
                String name = e.text("name");
                e.check(() -> Names.check("virtual host", name));
                vhosts.add(name);
            }
            Set<String> userNames = new LinkedHashSet<>();
            users.forEach(u -> userNames.add(u.name()));
            access.users().forEach(u -> userNames.add(u.name()));
            for (Entry e : entries(root, "permissions")) {
                String user = e.text("user");
                String in = e.text("vhost");
                if (!userNames.contains(user)) {
                    throw e.invalid("no user '" + user + "' in the broker or the file");
                }
                requireVhost(e, in, vhosts);
                Permission p = e.get(() -> Permission.of(e.text("configure"), e.text("write"), e.text("read")));
                permissions.add(new PermissionDef(user, in, p));
            }
            for (Entry e : entries(root, "topic_permissions")) {
                String user = e.text("user");
                String in = e.text("vhost");
                if (!userNames.contains(user)) {
                    throw e.invalid("no user '" + user + "' in the broker or the file");
                }
                requireVhost(e, in, vhosts);
                TopicPermission p = e.get(() -> TopicPermission.of(e.text("exchange"), e.text("write"), e.text("read")));
                topicPermissions.add(new TopicPermissionDef(user, in, p));
            }
        } else if (access.vhost(vhost).isEmpty()) {
            throw new CoreClient.NoSuchVhost(vhost);
        }
        List<ExchangeDef> exchanges = new ArrayList<>();
        for (Entry e : entries(root, "exchanges")) {
            String in = vhost != null ? vhost : e.text("vhost");
            requireVhost(e, in, vhosts);
            exchanges.add(e.get(() -> new ExchangeDef(e.where + " (exchange '" + e.text("name") + "' in vhost '" + in
                    + "')", in, e.text("name"), e.text("type"), AmqpJson.bool(e.body, "durable", false),
                    AmqpJson.bool(e.body, "auto_delete", false), AmqpJson.bool(e.body, "internal", false),
                    AmqpJson.table(e.body, "arguments"))));
        }
        List<QueueDef> queues = new ArrayList<>();
        for (Entry e : entries(root, "queues")) {
            String in = vhost != null ? vhost : e.text("vhost");
            requireVhost(e, in, vhosts);
            queues.add(e.get(() -> new QueueDef(e.where + " (queue '" + e.text("name") + "' in vhost '" + in + "')",
                    in, e.text("name"), AmqpJson.bool(e.body, "durable", false),
                    AmqpJson.bool(e.body, "auto_delete", false), AmqpJson.table(e.body, "arguments"))));
        }
        List<BindingDef> bindings = new ArrayList<>();
        for (Entry e : entries(root, "bindings")) {
            String in = vhost != null ? vhost : e.text("vhost");
            requireVhost(e, in, vhosts);
            String type = e.text("destination_type");
            if (!type.equals("queue") && !type.equals("exchange")) {
                throw e.invalid("destination_type must be queue or exchange, not '" + type + "'");
            }
            bindings.add(e.get(() -> new BindingDef(e.where + " (binding of '" + e.text("source") + "' to " + type
                    + " '" + e.text("destination") + "' in vhost '" + in + "')", in, e.text("source"),
                    e.text("destination"), type.equals("queue"),
                    e.body.hasNonNull("routing_key") ? e.text("routing_key") : "", AmqpJson.table(e.body, "arguments"))));
        }
        return new Plan(users, vhosts, permissions, topicPermissions, exchanges, queues, bindings);
    }

    /**
     * Applies a plan: checks its topology against a scratch copy and, if that passes, declares it for real in the
     * same broker task; then vhosts, users, permissions and topic permissions.
     *
     * @throws Invalid naming the entry the core refused; nothing is applied then
     */
    void apply(Plan plan, AccessControl.Actor who) {
        try {
            applyAll(plan, who);
        } catch (RuntimeException e) {
            progress.end(ImportProgress.FAILED);
            throw e;
        }
        progress.end(ImportProgress.DONE);
    }

    private void applyAll(Plan plan, AccessControl.Actor who) {
        progress.start(plan.topologyEntries());
        String refused = engine.query(b -> {
            for (QueueDef q : plan.queues()) { // the scratch copy of an exclusive queue is a plain one
                VirtualHost v = b.virtualHost(q.vhost());
                Queue existing = v == null ? null : v.queue(q.name());
                if (existing != null && existing.exclusive()) {
                    return q.where() + ": an exclusive queue of that name exists";
                }
            }
            String why = declare(scratchOf(b, plan), plan);
            if (why != null) {
                return why;
            }
            progress.phase(ImportProgress.APPLYING, plan.entries());
            plan.vhosts().forEach(b::addVirtualHost);
            why = declare(b, plan);
            engine.afterCommand();
            return why == null ? null : "partly applied, after a concurrent change: " + why;
        });
        if (refused != null) {
            throw new Invalid(refused);
        }
        AccessControl access = engine.access();
        for (String v : plan.vhosts()) {
            if (access.vhost(v).isEmpty()) {
                access.addVhost(who, v, "");
            }
            progress.step();
        }
        for (UserDef u : plan.users()) {
            access.putUser(who, u.name(), u.hash(), u.tags());
            progress.step();
        }
        for (PermissionDef p : plan.permissions()) {
            access.setPermissions(who, p.user(), p.vhost(), p.permission());
            progress.step();
        }
        for (TopicPermissionDef p : plan.topicPermissions()) {
            access.setTopicPermissions(who, p.user(), p.vhost(), p.permission());
            progress.step();
        }
    }

    /**
     * A broker holding what the plan touches as it is now: the vhosts, and copies of the existing exchanges and
     * queues the plan declares or binds, so declaring the plan into it meets the same checks as the real one.
     */
    private Broker scratchOf(Broker real, Plan plan) {
        Broker scratch = new Broker(MessageStore.NONE, () -> "scratch", new BasicPropertiesRewriter());
        real.virtualHosts().forEach(v -> scratch.addVirtualHost(v.name()));
        plan.vhosts().forEach(scratch::addVirtualHost);
        Set<String> copied = new LinkedHashSet<>();
        List<String[]> touched = new ArrayList<>(); // vhost, name, "q" or "e"
        plan.exchanges().forEach(x -> touched.add(new String[] {x.vhost(), x.name(), "e"}));
        plan.queues().forEach(q -> touched.add(new String[] {q.vhost(), q.name(), "q"}));
        for (BindingDef bd : plan.bindings()) {
            touched.add(new String[] {bd.vhost(), bd.source(), "e"});
            touched.add(new String[] {bd.vhost(), bd.destination(), bd.toQueue() ? "q" : "e"});
        }
        for (String[] t : touched) {
            VirtualHost v = real.virtualHost(t[0]);
            if (v == null || !copied.add(String.join("\u0000", t))) {
                continue;
            }
            ChannelState ch = scratch.openChannel(core.connectionId(), 1, t[0], core);
            try {
                if (t[2].equals("e")) {
                    Exchange x = v.exchange(t[1]);
                    if (x != null && !Topology.predeclared(x)) {
                        scratch.topology().declareExchange(ch, x.name(), x.type().wireName(), false, x.durable(),
                                x.autoDelete(), x.internal(), x.arguments());
                    }
                } else {
                    Queue q = v.queue(t[1]);
                    if (q != null) {
                        // An exclusive queue is copied as a plain one; apply refuses to declare over it.
                        scratch.topology().declareQueue(ch, q.name(), false, q.durable(), false, q.autoDelete(),
                                q.arguments());
                    }
                }
            } finally {
                scratch.closeChannel(ch);
            }
        }
        return scratch;
    }

    /** Declares the plan's topology into {@code b}: exchanges, then queues, then bindings. The refusal, or null. */
    private String declare(Broker b, Plan plan) {
        Map<String, ChannelState> channels = new LinkedHashMap<>();
        try {
            for (ExchangeDef x : plan.exchanges()) {
                String why = attempt(x.where(), () -> b.topology().declareExchange(channel(b, channels, x.vhost()),
                        x.name(), x.type(), false, x.durable(), x.autoDelete(), x.internal(), x.arguments()));
                if (why != null) {
                    return why;
                }
                progress.step();
            }
            for (QueueDef q : plan.queues()) {
                String why = attempt(q.where(), () -> b.topology().declareQueue(channel(b, channels, q.vhost()),
                        q.name(), false, q.durable(), false, q.autoDelete(), q.arguments()));
                if (why != null) {
                    return why;
                }
                progress.step();
            }
            for (BindingDef bd : plan.bindings()) {
                String why = attempt(bd.where(), () -> {
                    ChannelState ch = channel(b, channels, bd.vhost());
                    if (bd.toQueue()) {
                        b.topology().bindQueue(ch, bd.destination(), bd.source(), bd.routingKey(), bd.arguments());
                    } else {
                        b.topology().bindExchange(ch, bd.destination(), bd.source(), bd.routingKey(), bd.arguments());
                    }
                });
                if (why != null) {
                    return why;
                }
                progress.step();
            }
            return null;
        } finally {
            channels.values().forEach(b::closeChannel);
        }
    }

    private ChannelState channel(Broker b, Map<String, ChannelState> channels, String vhost) {
        return channels.computeIfAbsent(vhost, v -> b.openChannel(core.connectionId(), channels.size() + 1, v, core));
    }

    private static String attempt(String where, Runnable declare) {
        try {
            declare.run();
            return null;
        } catch (BrokerException e) {
            return where + ": " + e.code().code() + " " + ReplyCode.name(e.code().code()) + " - " + e.getMessage();
        }
    }

    private static void requireVhost(Entry e, String vhost, List<String> inFile) {
        if (!inFile.contains(vhost) && e.definitions.engine.access().vhost(vhost).isEmpty()) {
            throw e.invalid("no vhost '" + vhost + "' in the broker or the file");
        }
    }

    private List<Entry> entries(JsonNode root, String section) {
        JsonNode list = root.path(section);
        if (list.isMissingNode() || list.isNull()) {
            return List.of();
        }
        if (!list.isArray()) {
            throw new Invalid(section + " must be a JSON array");
        }
        List<Entry> out = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            if (!list.get(i).isObject()) {
                throw new Invalid(section + "[" + i + "] must be a JSON object");
            }
            out.add(new Entry(this, section + "[" + i + "]", list.get(i)));
        }
        return out;
    }

    /** One entry of the file, and where it is ({@code queues[3]}) for the error that names it. */
    private record Entry(Definitions definitions, String where, JsonNode body) {
        String text(String field) {
            return get(() -> AmqpJson.text(body, field));
        }

        Invalid invalid(String what) {
            return new Invalid(where + ": " + what);
        }

        <T> T get(java.util.function.Supplier<T> read) {
            try {
                return read.get();
            } catch (ManagementHttp.BadRequest | AccessException | IllegalArgumentException e) {
                throw invalid(e.getMessage());
            }
        }

        void check(Runnable check) {
            get(() -> {
                check.run();
                return null;
            });
        }
    }
}
