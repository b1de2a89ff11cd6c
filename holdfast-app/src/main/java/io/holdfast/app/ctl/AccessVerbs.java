package io.holdfast.app.ctl;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * rabbitmqctl's verbs for users, vhosts, permissions, topic permissions and limits, with its arguments and
 * messages, over the management API's {@code /api/users}, {@code /api/vhosts}, {@code /api/permissions},
 * {@code /api/topic-permissions} and {@code /api/vhost-limits}; and Holdfast's {@code audit}. They need an administrator's credentials.
 */
final class AccessVerbs {
    private AccessVerbs() {}

    private static String seg(String s) {
        return ManagementClient.segment(s);
    }

    /** A 404 as the missing thing's name. */
    private static CtlException missing(CtlException e, String what) {
        return e.notFound() ? new CtlException(CtlException.DATA, what) : e;
    }

    /** GETs {@code path}; a 404 says {@code what} is missing (see {@link #missing}). */
    private static JsonNode getOr(ManagementClient client, String path, String what) throws CtlException {
        try {
            return client.get(path);
        } catch (CtlException e) {
            throw missing(e, what);
        }
    }

    @Command(name = "add_user", description = "Adds a user (no permissions until set_permissions).")
    static final class AddUser extends Ctl.Verb {
        @Parameters(index = "0", paramLabel = "USERNAME") String name;
        @Parameters(index = "1", paramLabel = "PASSWORD") String password;

        @Override
        int run(ManagementClient client) throws CtlException {
            info("Adding user \"" + name + "\" ...");
            if (client.exists("/api/users/" + seg(name))) {
                throw new CtlException(CtlException.DATA, "user '" + name + "' already exists");
            }
            client.put("/api/users/" + seg(name), Map.of("password", password, "tags", ""));
            info("Done. Don't forget to grant the user permissions to some virtual hosts! See 'holdfast ctl "
                    + "set_permissions --help' to learn more.");
            return 0;
        }
    }

    @Command(name = "delete_user", description = "Deletes a user and their permissions.")
    static final class DeleteUser extends Ctl.Verb {
        @Parameters(index = "0", paramLabel = "USERNAME") String name;

        @Override
        int run(ManagementClient client) throws CtlException {
            info("Deleting user \"" + name + "\" ...");
            try {
                client.delete("/api/users/" + seg(name));
            } catch (CtlException e) {
                throw missing(e, "no such user '" + name + "'");
            }
            return 0;
        }
    }

    @Command(name = "change_password", description = "Sets a user's password.")
    static final class ChangePassword extends Ctl.Verb {
        @Parameters(index = "0", paramLabel = "USERNAME") String name;
        @Parameters(index = "1", paramLabel = "NEW_PASSWORD") String password;

        @Override
        int run(ManagementClient client) throws CtlException {
            info("Changing password for user \"" + name + "\" ...");
            JsonNode user = getOr(client, "/api/users/" + seg(name), "no such user '" + name + "'");
            client.put("/api/users/" + seg(name), Map.of("password", password, "tags", user.path("tags")));
            return 0;
        }
    }

    @Command(name = "clear_password", description = "Removes a user's password: they can then log in only by "
            + "client certificate (EXTERNAL).")
    static final class ClearPassword extends Ctl.Verb {
        @Parameters(index = "0", paramLabel = "USERNAME") String name;

        @Override
        int run(ManagementClient client) throws CtlException {
            info("Clearing password for user \"" + name + "\" ...");
            JsonNode user = getOr(client, "/api/users/" + seg(name), "no such user '" + name + "'");
            client.put("/api/users/" + seg(name), Map.of("password_hash", "", "tags", user.path("tags")));
            return 0;
        }
    }

    @Command(name = "set_user_tags", description = "Sets a user's tags (administrator, monitoring, management, ...).")
    static final class SetUserTags extends Ctl.Verb {
        @Parameters(index = "0", paramLabel = "USERNAME") String name;
        @Parameters(index = "1..*", arity = "0..*", paramLabel = "TAG") List<String> tags = new ArrayList<>();

        @Override
        int run(ManagementClient client) throws CtlException {
            info("Setting tags for user \"" + name + "\" to [" + String.join(", ", tags) + "] ...");
            JsonNode user = getOr(client, "/api/users/" + seg(name), "no such user '" + name + "'");
            // A PUT without a password hash clears the password (RabbitMQ's API), so the hash goes with the tags.
            client.put("/api/users/" + seg(name), Map.of("tags", tags, "password_hash", user.path("password_hash"),
                    "hashing_algorithm", user.path("hashing_algorithm")));
            return 0;
        }
    }

    @Command(name = "list_users", description = "Users and their tags.")
    static final class ListUsers extends Ctl.Verb {
        @Override
        int run(ManagementClient client) throws CtlException {
            JsonNode users = client.get("/api/users");
            info("Listing users ...");
            out().println("user\ttags");
            for (JsonNode u : users) {
                List<String> tags = new ArrayList<>();
                u.path("tags").forEach(t -> tags.add(t.asText()));
                out().println(u.path("name").asText() + "\t[" + String.join(", ", tags) + "]");
            }
            return 0;
        }
    }

    @Command(name = "authenticate_user", description = "Checks a user's password (exit 0 when it is right).")
    static final class AuthenticateUser extends Ctl.Verb {
        @Parameters(index = "0", paramLabel = "USERNAME") String name;
        @Parameters(index = "1", paramLabel = "PASSWORD") String password;

        @Override
        int run(ManagementClient client) throws CtlException {
            info("Authenticating user \"" + name + "\" ...");
            try {
                new ManagementClient(ctl.host, ctl.port, Duration.ofSeconds(Math.max(1, ctl.timeoutSeconds)), name,
                        password).get("/api/whoami");
            } catch (CtlException e) {
                if (e.loggedIn()) { // the password is right; the user only lacks a management tag
                    out().println("Success");
                    return 0;
                }
                throw e.exitCode() == CtlException.NOPERM ? new CtlException(CtlException.NOPERM,
                        "failed to authenticate user \"" + name + "\": user '" + name + "' - invalid credentials") : e;
            }
            out().println("Success");
            return 0;
        }
    }

    @Command(name = "add_vhost", description = "Adds a virtual host.")
    static final class AddVhost extends Ctl.Verb {
        @Parameters(index = "0", paramLabel = "VHOST") String name;

        @Option(names = "--description", defaultValue = "") String description;

        @Override
        int run(ManagementClient client) throws CtlException {
            info("Adding vhost \"" + name + "\" ...");
            if (client.exists("/api/vhosts/" + seg(name))) {
                throw new CtlException(CtlException.DATA, "virtual host '" + name + "' already exists");
            }
            client.put("/api/vhosts/" + seg(name), Map.of("description", description));
            return 0;
        }
    }

    @Command(name = "delete_vhost", description = "Deletes a virtual host: its connections are closed, its queues "
            + "and their messages deleted.")
    static final class DeleteVhost extends Ctl.Verb {
        @Parameters(index = "0", paramLabel = "VHOST") String name;

        @Override
        int run(ManagementClient client) throws CtlException {
            info("Deleting vhost \"" + name + "\" ...");
            try {
                client.delete("/api/vhosts/" + seg(name));
            } catch (CtlException e) {
                throw missing(e, "virtual host '" + name + "' does not exist");
            }
            return 0;
        }
    }

    @Command(name = "set_permissions", description = "Sets a user's configure, write and read regular expressions "
            + "in a vhost.")
    static final class SetPermissions extends Ctl.Verb {
        @Option(names = {"-p", "--vhost"}, defaultValue = "/") String vhost;
        @Parameters(index = "0", paramLabel = "USERNAME") String user;
        @Parameters(index = "1", paramLabel = "CONF") String configure;
        @Parameters(index = "2", paramLabel = "WRITE") String write;
        @Parameters(index = "3", paramLabel = "READ") String read;

        @Override
        int run(ManagementClient client) throws CtlException {
            info("Setting permissions for user \"" + user + "\" in vhost \"" + vhost + "\" ...");
            try {
                client.put("/api/permissions/" + seg(vhost) + "/" + seg(user),
                        Map.of("configure", configure, "write", write, "read", read));
            } catch (CtlException e) {
                throw missing(e, "no such user '" + user + "' or virtual host '" + vhost + "'");
            }
            return 0;
        }
    }

    @Command(name = "clear_permissions", description = "Removes a user's permissions in a vhost.")
    static final class ClearPermissions extends Ctl.Verb {
        @Option(names = {"-p", "--vhost"}, defaultValue = "/") String vhost;
        @Parameters(index = "0", paramLabel = "USERNAME") String user;

        @Override
        int run(ManagementClient client) throws CtlException {
            info("Clearing permissions for user \"" + user + "\" in vhost \"" + vhost + "\" ...");
            try {
                client.delete("/api/permissions/" + seg(vhost) + "/" + seg(user));
            } catch (CtlException e) {
                throw missing(e, "no such user '" + user + "' or virtual host '" + vhost + "'");
            }
            return 0;
        }
    }

    /** rabbitmqctl's permissions tables: the {@code who} column (user or vhost), then {@code columns}. */
    private static void printPermissions(Ctl.Verb verb, String who, JsonNode rows, String... columns) {
        verb.out().println(who + "\t" + String.join("\t", columns));
        rows.forEach(p -> {
            StringBuilder line = new StringBuilder(p.path(who).asText());
            for (String column : columns) {
                line.append('\t').append(p.path(column).asText());
            }
            verb.out().println(line);
        });
    }

    @Command(name = "list_permissions", description = "Every user's permissions in a vhost.")
    static final class ListPermissions extends Ctl.Verb {
        @Option(names = {"-p", "--vhost"}, defaultValue = "/") String vhost;

        @Override
        int run(ManagementClient client) throws CtlException {
            JsonNode rows = getOr(client, "/api/vhosts/" + seg(vhost) + "/permissions",
                    "virtual host '" + vhost + "' does not exist");
            info("Listing permissions for vhost \"" + vhost + "\" ...");
            printPermissions(this, "user", rows, "configure", "write", "read");
            return 0;
        }
    }

    @Command(name = "list_user_permissions", description = "A user's permissions in every vhost.")
    static final class ListUserPermissions extends Ctl.Verb {
        @Parameters(index = "0", paramLabel = "USERNAME") String user;

        @Override
        int run(ManagementClient client) throws CtlException {
            JsonNode rows = getOr(client, "/api/users/" + seg(user) + "/permissions",
                    "no such user '" + user + "'");
            info("Listing permissions for user \"" + user + "\" ...");
            printPermissions(this, "vhost", rows, "configure", "write", "read");
            return 0;
        }
    }

    @Command(name = "set_topic_permissions", description = "Sets a user's write and read regular expressions on "
            + "routing keys for a topic exchange in a vhost ({username}, {vhost} and {client_id} expand).")
    static final class SetTopicPermissions extends Ctl.Verb {
        @Option(names = {"-p", "--vhost"}, defaultValue = "/") String vhost;
        @Parameters(index = "0", paramLabel = "USERNAME") String user;
        @Parameters(index = "1", paramLabel = "EXCHANGE") String exchange;
        @Parameters(index = "2", paramLabel = "WRITE") String write;
        @Parameters(index = "3", paramLabel = "READ") String read;

        @Override
        int run(ManagementClient client) throws CtlException {
            info("Setting topic permissions on \"" + exchange + "\" for user \"" + user + "\" in vhost \"" + vhost
                    + "\" ...");
            try {
                client.put("/api/topic-permissions/" + seg(vhost) + "/" + seg(user),
                        Map.of("exchange", exchange, "write", write, "read", read));
            } catch (CtlException e) {
                throw missing(e, "no such user '" + user + "' or virtual host '" + vhost + "'");
            }
            return 0;
        }
    }

    @Command(name = "clear_topic_permissions", description = "Removes a user's topic permissions in a vhost: on "
            + "one exchange, or on all.")
    static final class ClearTopicPermissions extends Ctl.Verb {
        @Option(names = {"-p", "--vhost"}, defaultValue = "/") String vhost;
        @Parameters(index = "0", paramLabel = "USERNAME") String user;
        @Parameters(index = "1", arity = "0..1", paramLabel = "EXCHANGE") String exchange;

        @Override
        int run(ManagementClient client) throws CtlException {
            info("Clearing topic permissions" + (exchange == null ? "" : " on \"" + exchange + "\"") + " for user \""
                    + user + "\" in vhost \"" + vhost + "\" ...");
            try {
                client.delete("/api/topic-permissions/" + seg(vhost) + "/" + seg(user)
                        + (exchange == null ? "" : "/" + seg(exchange)));
            } catch (CtlException e) {
                throw missing(e, "no such user '" + user + "' or virtual host '" + vhost + "'");
            }
            return 0;
        }
    }

    @Command(name = "list_topic_permissions", description = "Every user's topic permissions in a vhost.")
    static final class ListTopicPermissions extends Ctl.Verb {
        @Option(names = {"-p", "--vhost"}, defaultValue = "/") String vhost;

        @Override
        int run(ManagementClient client) throws CtlException {
            JsonNode rows = getOr(client, "/api/vhosts/" + seg(vhost) + "/topic-permissions",
                    "virtual host '" + vhost + "' does not exist");
            info("Listing topic permissions for vhost \"" + vhost + "\" ...");
            printPermissions(this, "user", rows, "exchange", "write", "read");
            return 0;
        }
    }

    @Command(name = "list_user_topic_permissions", description = "A user's topic permissions in every vhost.")
    static final class ListUserTopicPermissions extends Ctl.Verb {
        @Parameters(index = "0", paramLabel = "USERNAME") String user;

        @Override
        int run(ManagementClient client) throws CtlException {
            JsonNode rows = getOr(client, "/api/users/" + seg(user) + "/topic-permissions",
                    "no such user '" + user + "'");
            info("Listing topic permissions for user \"" + user + "\" ...");
            printPermissions(this, "vhost", rows, "exchange", "write", "read");
            return 0;
        }
    }

    @Command(name = "set_vhost_limits", description = "Sets a vhost's limits, as JSON: "
            + "'{\"max-connections\": 100, \"max-queues\": 1000}' (a negative value lifts one).")
    static final class SetVhostLimits extends Ctl.Verb {
        @Option(names = {"-p", "--vhost"}, defaultValue = "/") String vhost;
        @Parameters(index = "0", paramLabel = "DEFINITION") String definition;

        @Override
        int run(ManagementClient client) throws CtlException {
            JsonNode limits;
            try {
                limits = new ObjectMapper().readTree(definition);
            } catch (IOException e) {
                throw CtlException.usage("the limits are not JSON: " + e.getMessage());
            }
            if (limits == null || !limits.isObject() || limits.isEmpty()) {
                throw CtlException.usage("give the limits as a JSON object, e.g. '{\"max-connections\": 100}'");
            }
            info("Applying limits to vhost \"" + vhost + "\": " + definition + " ...");
            for (Map.Entry<String, JsonNode> e : limits.properties()) {
                if (!e.getValue().canConvertToInt()) {
                    throw CtlException.usage("limit '" + e.getKey() + "' must be an integer");
                }
                try {
                    client.put("/api/vhost-limits/" + seg(vhost) + "/" + seg(e.getKey()),
                            Map.of("value", e.getValue().asInt()));
                } catch (CtlException failure) {
                    throw missing(failure, "virtual host '" + vhost + "' does not exist");
                }
            }
            return 0;
        }
    }

    @Command(name = "audit", description = "The audit log: every change to users, vhosts, permissions and limits, "
            + "and every failed login.")
    static final class Audit extends Ctl.Verb {
        @Option(names = "--limit", defaultValue = "100", description = "the newest N entries (default ${DEFAULT-VALUE})")
        int limit;

        @Override
        int run(ManagementClient client) throws CtlException {
            JsonNode entries = client.get("/api/audit");
            info("Listing the audit log ...");
            out().println("time\tuser\tfrom\taction\tdetails");
            List<JsonNode> all = new ArrayList<>();
            entries.forEach(all::add);
            for (JsonNode e : all.subList(Math.max(0, all.size() - limit), all.size())) {
                Map<String, String> details = new LinkedHashMap<>();
                e.path("details").properties().forEach(d -> details.put(d.getKey(), d.getValue().asText()));
                out().println(Instant.ofEpochMilli(e.path("time").asLong()) + "\t" + e.path("user").asText() + "\t"
                        + e.path("from").asText() + "\t" + e.path("action").asText() + "\t" + details);
            }
            return 0;
        }
    }
}
