package io.holdfast.app.ctl;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * rabbitmqctl's {@code list_*} verbs: the info items to show as arguments (its defaults without), tab
 * separated with a header row, after "Listing ... for vhost ..." unless {@code -q}.
 */
final class ListVerbs {
    private ListVerbs() {}

    /** A list verb: its API path, its info items (name to how to read it off one JSON object), its defaults. */
    abstract static class ListVerb extends Ctl.Verb {
        @Option(names = {"-p", "--vhost"}, defaultValue = "/", description = "virtual host (default ${DEFAULT-VALUE})")
        String vhost;

        @Option(names = "--no-table-headers", description = "no header row")
        boolean noHeaders;

        @Parameters(paramLabel = "INFO_ITEM", arity = "0..*", description = "columns to show")
        List<String> items = new ArrayList<>();

        abstract String what();

        abstract String path();

        abstract Map<String, Function<JsonNode, Object>> infoItems();

        abstract List<String> defaults();

        @Override
        int run(ManagementClient client) throws CtlException {
            Map<String, Function<JsonNode, Object>> known = infoItems();
            List<String> columns = items.isEmpty() ? defaults() : items;
            for (String c : columns) {
                if (!known.containsKey(c)) {
                    throw CtlException.usage("info key '" + c + "' is not supported by list_" + what() + "; valid: "
                            + String.join(", ", known.keySet()));
                }
            }
            JsonNode rows;
            try {
                rows = client.get(path());
            } catch (CtlException e) {
                throw e.notFound() ? new CtlException(CtlException.DATA, "virtual host '" + vhost + "' does not exist")
                        : e;
            }
            info("Timeout: " + ctl.timeoutSeconds + ".0 seconds ...");
            info(listing());
            if (!noHeaders) {
                out().println(String.join("\t", columns));
            }
            for (JsonNode row : rows) {
                List<String> cells = new ArrayList<>();
                for (String c : columns) {
                    cells.add(format(known.get(c).apply(row)));
                }
                out().println(String.join("\t", cells));
            }
            return 0;
        }

        String listing() {
            return "Listing " + what() + " for vhost " + vhost + " ...";
        }

        String vhostPath() {
            return ManagementClient.segment(vhost);
        }
    }

    @Command(name = "list_queues", description = "Queues and their counts (default items: name messages).")
    static final class ListQueues extends ListVerb {
        @Override String what() { return "queues"; }

        @Override String path() { return "/api/queues/" + vhostPath(); }

        @Override List<String> defaults() { return List.of("name", "messages"); }

        @Override
        Map<String, Function<JsonNode, Object>> infoItems() {
            return fields("name", "durable", "auto_delete", "arguments", "exclusive", "messages_ready",
                    "messages_unacknowledged", "messages", "consumers", "state", "type", "messages_held", "leader",
                    "members");
        }
    }

    @Command(name = "list_exchanges", description = "Exchanges (default items: name type).")
    static final class ListExchanges extends ListVerb {
        @Override String what() { return "exchanges"; }

        @Override String path() { return "/api/exchanges/" + vhostPath(); }

        @Override List<String> defaults() { return List.of("name", "type"); }

        @Override
        Map<String, Function<JsonNode, Object>> infoItems() {
            return fields("name", "type", "durable", "auto_delete", "internal", "arguments");
        }
    }

    @Command(name = "list_bindings", description = "Bindings (default items: source and destination, routing_key, arguments).")
    static final class ListBindings extends ListVerb {
        @Override String what() { return "bindings"; }

        @Override String path() { return "/api/bindings/" + vhostPath(); }

        @Override
        List<String> defaults() {
            return List.of("source_name", "source_kind", "destination_name", "destination_kind", "routing_key",
                    "arguments");
        }

        @Override
        Map<String, Function<JsonNode, Object>> infoItems() {
            Map<String, Function<JsonNode, Object>> m = new LinkedHashMap<>();
            m.put("source_name", n -> n.path("source").asText());
            m.put("source_kind", n -> "exchange");
            m.put("destination_name", n -> n.path("destination").asText());
            m.put("destination_kind", n -> n.path("destination_type").asText());
            m.put("routing_key", n -> n.path("routing_key").asText());
            m.put("arguments", n -> n.path("arguments"));
            return m;
        }
    }

    @Command(name = "list_vhosts", description = "Virtual hosts (default item: name).")
    static final class ListVhosts extends ListVerb {
        @Override String what() { return "vhosts"; }

        @Override String path() { return "/api/vhosts"; }

        @Override String listing() { return "Listing vhosts ..."; }

        @Override List<String> defaults() { return List.of("name"); }

        @Override
        Map<String, Function<JsonNode, Object>> infoItems() {
            return fields("name", "description", "messages", "messages_ready", "messages_unacknowledged", "tracing");
        }
    }

    @Command(name = "list_connections", description = "Open client connections (default items: user peer_host "
            + "peer_port state).")
    static final class ListConnections extends ListVerb {
        @Override String what() { return "connections"; }

        @Override String path() { return "/api/connections"; }

        @Override String listing() { return "Listing connections ..."; }

        @Override List<String> defaults() { return List.of("user", "peer_host", "peer_port", "state"); }

        @Override
        Map<String, Function<JsonNode, Object>> infoItems() {
            return fields("name", "user", "vhost", "peer_host", "peer_port", "channels", "state", "protocol", "type");
        }
    }

    @Command(name = "list_channels", description = "Open channels (default items: name user consumer_count "
            + "messages_unacknowledged; rabbitmqctl's pid is the channel's name here).")
    static final class ListChannels extends ListVerb {
        @Override String what() { return "channels"; }

        @Override String path() { return "/api/channels"; }

        @Override String listing() { return "Listing channels ..."; }

        @Override List<String> defaults() { return List.of("name", "user", "consumer_count", "messages_unacknowledged"); }

        @Override
        Map<String, Function<JsonNode, Object>> infoItems() {
            Map<String, Function<JsonNode, Object>> m = fields("name", "number", "user", "vhost", "transactional",
                    "confirm", "consumer_count", "messages_unacknowledged", "messages_unconfirmed", "messages_uncommitted",
                    "acks_uncommitted", "prefetch_count", "global_prefetch_count", "state");
            m.put("pid", n -> n.path("name"));
            m.put("connection", n -> n.path("connection_details").path("name"));
            return m;
        }
    }

    @Command(name = "list_consumers", description = "Consumers (default items: queue_name channel_pid consumer_tag "
            + "ack_required prefetch_count active activity_status arguments).")
    static final class ListConsumers extends ListVerb {
        @Override String what() { return "consumers"; }

        @Override String path() { return "/api/consumers/" + vhostPath(); }

        @Override String listing() { return "Listing consumers in vhost " + vhost + " ..."; }

        @Override
        List<String> defaults() {
            return List.of("queue_name", "channel_pid", "consumer_tag", "ack_required", "prefetch_count", "active",
                    "activity_status", "arguments");
        }

        @Override
        Map<String, Function<JsonNode, Object>> infoItems() {
            Map<String, Function<JsonNode, Object>> m = fields("consumer_tag", "ack_required", "prefetch_count",
                    "active", "activity_status", "arguments", "exclusive", "priority");
            m.put("queue_name", n -> n.path("queue").path("name"));
            m.put("channel_pid", n -> n.path("channel_details").path("name"));
            return m;
        }
    }

    private static Map<String, Function<JsonNode, Object>> fields(String... names) {
        Map<String, Function<JsonNode, Object>> m = new LinkedHashMap<>();
        for (String n : names) {
            m.put(n, node -> node.path(n));
        }
        return m;
    }

    /** A cell as rabbitmqctl prints it: plain scalars, arguments as {@code [{"x-max-length",10}]}. */
    static String format(Object v) {
        if (v instanceof String s) {
            return s;
        }
        JsonNode n = (JsonNode) v;
        if (n.isObject()) {
            List<String> pairs = new ArrayList<>();
            for (Map.Entry<String, JsonNode> e : n.properties()) {
                pairs.add("{\"" + e.getKey() + "\"," + (e.getValue().isTextual() ? "\"" + e.getValue().asText() + "\""
                        : e.getValue().toString()) + "}");
            }
            return "[" + String.join(",", pairs) + "]";
        }
        return n.isMissingNode() || n.isNull() ? "" : n.asText();
    }
}
