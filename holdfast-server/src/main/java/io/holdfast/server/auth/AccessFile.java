package io.holdfast.server.auth;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.holdfast.store.AtomicFile;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * {@code <data_dir>/access.meta}: users, vhosts, permissions and topic permissions, replaced whole and atomically at each
 * change ({@link AtomicFile}: magic, version, length and CRC around the content). The content is JSON in
 * the shape of RabbitMQ's definitions for the same things, with a version:
 *
 * <pre>
 * {"version": 2,
 *  "users": [{"name", "password_hash", "hashing_algorithm", "tags": [..], "limits": {"max-connections", "max-channels"}}],
 *  "vhosts": [{"name", "description", "limits": {"max-connections", "max-queues"}}],
 *  "permissions": [{"user", "vhost", "configure", "write", "read"}],
 *  "topic_permissions": [{"user", "vhost", "exchange", "write", "read"}]}
 * </pre>
 * Version 1 (before topic permissions) is read too. Version 2 is always written, so an older Holdfast refuses
 * the file rather than ignore topic permissions it does not know (which would grant what they deny).
 * Called with {@link AccessControl}'s lock held.
 */
final class AccessFile {
    static final String FILE_NAME = "access.meta";
    private static final int VERSION = 2;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path file;

    AccessFile(Path dataDir) {
        this.file = dataDir.resolve(FILE_NAME);
    }

    Optional<AccessControl.State> load() throws IOException {
        Optional<byte[]> content = AtomicFile.read(file);
        if (content.isEmpty()) {
            return Optional.empty();
        }
        try {
            return Optional.of(decode(content.get()));
        } catch (IOException e) {
            throw new IOException(file + ": " + e.getMessage(), e);
        }
    }

    /** The content's JSON, as {@link #encode} wrote it (also how a cluster replicates the state). */
    static AccessControl.State decode(byte[] content) throws IOException {
        JsonNode root = JSON.readTree(content);
        int version = root.path("version").asInt(-1);
        if (version != 1 && version != VERSION) {
            throw new IOException("access state has format version " + version + "; this Holdfast reads 1 and "
                    + VERSION);
        }
        Map<String, AccessControl.User> users = new LinkedHashMap<>();
        for (JsonNode u : root.path("users")) {
            List<String> tags = new ArrayList<>();
            u.path("tags").forEach(t -> tags.add(t.asText()));
            users.put(u.path("name").asText(), new AccessControl.User(u.path("name").asText(),
                    new PasswordHash(u.path("hashing_algorithm").asText(), u.path("password_hash").asText()), tags,
                    u.path("limits").path("max-connections").asInt(-1), u.path("limits").path("max-channels").asInt(-1)));
        }
        Map<String, AccessControl.Vhost> vhosts = new LinkedHashMap<>();
        for (JsonNode v : root.path("vhosts")) {
            vhosts.put(v.path("name").asText(), new AccessControl.Vhost(v.path("name").asText(),
                    v.path("description").asText(""), v.path("limits").path("max-connections").asInt(-1),
                    v.path("limits").path("max-queues").asInt(-1)));
        }
        Map<String, Map<String, Permission>> permissions = new LinkedHashMap<>();
        for (JsonNode p : root.path("permissions")) {
            permissions.computeIfAbsent(p.path("user").asText(), k -> new LinkedHashMap<>()).put(
                    p.path("vhost").asText(), Permission.of(p.path("configure").asText(), p.path("write").asText(),
                            p.path("read").asText()));
        }
        Map<String, Map<String, Map<String, TopicPermission>>> topic = new LinkedHashMap<>();
        for (JsonNode p : root.path("topic_permissions")) {
            TopicPermission t = TopicPermission.of(p.path("exchange").asText(), p.path("write").asText(),
                    p.path("read").asText());
            topic.computeIfAbsent(p.path("user").asText(), k -> new LinkedHashMap<>())
                    .computeIfAbsent(p.path("vhost").asText(), k -> new LinkedHashMap<>()).put(t.exchange(), t);
        }
        return new AccessControl.State(users, vhosts, permissions, topic);
    }

    void save(AccessControl.State s) throws IOException {
        AtomicFile.write(file, encode(s));
    }

    /** The same state always gives the same bytes (sorted, fixed layout): replicas compare them. */
    static byte[] encode(AccessControl.State s) throws IOException {
        ObjectNode root = JSON.createObjectNode();
        root.put("version", VERSION);
        ArrayNode users = root.putArray("users");
        s.users().values().stream().sorted(java.util.Comparator.comparing(AccessControl.User::name)).forEach(u -> {
            ObjectNode n = users.addObject();
            n.put("name", u.name());
            n.put("password_hash", u.password().hash());
            n.put("hashing_algorithm", u.password().algorithm());
            ArrayNode tags = n.putArray("tags");
            u.tags().forEach(tags::add);
            ObjectNode limits = n.putObject("limits");
            limits.put("max-connections", u.maxConnections());
            limits.put("max-channels", u.maxChannels());
        });
        ArrayNode vhosts = root.putArray("vhosts");
        s.vhosts().values().stream().sorted(java.util.Comparator.comparing(AccessControl.Vhost::name)).forEach(v -> {
            ObjectNode n = vhosts.addObject();
            n.put("name", v.name());
            n.put("description", v.description());
            ObjectNode limits = n.putObject("limits");
            limits.put("max-connections", v.maxConnections());
            limits.put("max-queues", v.maxQueues());
        });
        ArrayNode permissions = root.putArray("permissions");
        new java.util.TreeMap<>(s.permissions()).forEach((user, byVhost) -> new java.util.TreeMap<>(byVhost).forEach(
                (vhost, p) -> {
                    ObjectNode n = permissions.addObject();
                    n.put("user", user);
                    n.put("vhost", vhost);
                    n.put("configure", p.configure());
                    n.put("write", p.write());
                    n.put("read", p.read());
                }));
        ArrayNode topic = root.putArray("topic_permissions");
        new java.util.TreeMap<>(s.topicPermissions()).forEach((user, byVhost) -> new java.util.TreeMap<>(byVhost)
                .forEach((vhost, byExchange) -> new java.util.TreeMap<>(byExchange).values().forEach(p -> {
                    ObjectNode n = topic.addObject();
                    n.put("user", user);
                    n.put("vhost", vhost);
                    n.put("exchange", p.exchange());
                    n.put("write", p.write());
                    n.put("read", p.read());
                })));
        return JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(root);
    }
}
