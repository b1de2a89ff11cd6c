package io.holdfast.app.ctl;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code holdfast ctl quarantine list|republish|purge}: Holdfast's poison-message queue {@code holdfast.quarantine}
 * (one per vhost), through the management API's {@code /api/holdfast/quarantine/{vhost}}. {@code republish} sends
 * messages back to the queues they came from in steps of a thousand, each step answered once its copies are
 * durable, with its progress on standard error (a line per tenth).
 */
@Command(name = "quarantine", description = "Holdfast's poison-message queue: list, republish or purge it.",
        subcommands = {QuarantineVerbs.ListQuarantined.class, QuarantineVerbs.Republish.class,
                QuarantineVerbs.Purge.class})
final class QuarantineVerbs implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "missing sub-verb: list, republish or purge");
    }

    /** The vhost option and path every quarantine verb shares. */
    abstract static class QuarantineVerb extends Ctl.Verb {
        @Option(names = {"-p", "--vhost"}, defaultValue = "/", description = "virtual host (default ${DEFAULT-VALUE})")
        String vhost;

        String path() {
            return "/api/holdfast/quarantine/" + ManagementClient.segment(vhost);
        }

        /** The request, with a missing vhost said as rabbitmqctl says it. */
        JsonNode inVhost(Request request) throws CtlException {
            try {
                return request.send();
            } catch (CtlException e) {
                throw e.notFound() ? new CtlException(CtlException.DATA, "virtual host '" + vhost + "' does not exist")
                        : e;
            }
        }

        @FunctionalInterface
        interface Request {
            JsonNode send() throws CtlException;
        }
    }

    @Command(name = "list", description = "Quarantined messages, oldest first: where each came from, why, its "
            + "delivery count and headers.")
    static final class ListQuarantined extends QuarantineVerb {
        @Option(names = "--queue", description = "only those from this queue") String queue;

        @Option(names = "--limit", defaultValue = "100", description = "at most this many (default ${DEFAULT-VALUE})")
        int limit;

        @Option(names = "--no-table-headers", description = "no header row") boolean noHeaders;

        @Override
        int run(ManagementClient client) throws CtlException {
            if (limit < 0) {
                throw CtlException.usage("--limit must not be negative");
            }
            String query = "?limit=" + limit + (queue == null ? "" : "&queue=" + ManagementClient.segment(queue));
            JsonNode answer = inVhost(() -> client.get(path() + query));
            info("Listing quarantined messages for vhost " + vhost + " ...");
            if (!noHeaders) {
                out().println("position\tqueue\treason\tdelivery_count\texchange\trouting_key\tpayload_bytes\theaders");
            }
            for (JsonNode m : answer.path("listed")) {
                List<String> cells = new ArrayList<>();
                for (String field : List.of("position", "queue", "reason", "delivery_count", "exchange", "routing_key",
                        "payload_bytes")) {
                    cells.add(ListVerbs.format(m.path(field)));
                }
                cells.add(ListVerbs.format(m.path("properties").path("headers")));
                out().println(String.join("\t", cells));
            }
            info(answer.path("listed").size() + " shown of " + answer.path("messages").asLong()
                    + " messages in quarantine");
            return 0;
        }
    }

    @Command(name = "republish", description = "Sends quarantined messages back to the queues they came from, with "
            + "their headers: all of them, those from --queue, or the first --count.")
    static final class Republish extends QuarantineVerb {
        private static final int BATCH = 1000;
        private static final ObjectMapper JSON = new ObjectMapper();

        @Option(names = "--queue", description = "only those from this queue") String queue;

        @Option(names = "--count", description = "at most this many (default: all)") Integer count;

        @Override
        int run(ManagementClient client) throws CtlException {
            if (count != null && count < 0) {
                throw CtlException.usage("--count must not be negative");
            }
            long inQuarantine = inVhost(() -> client.get(path() + "?limit=0")).path("messages").asLong();
            info("Republishing " + (count == null ? "" : "at most " + count + " ") + "quarantined messages"
                    + (queue == null ? "" : " from queue '" + queue + "'") + " in vhost '" + vhost + "' ...");
            // Progress counts messages republished toward --count, or messages looked at toward all of them.
            boolean byCount = count != null && queue == null;
            Progress progress = new Progress(err(), "Republishing", "messages", byCount
                    ? Math.min(count, inQuarantine) : inQuarantine);
            long republished = 0;
            long stayed = 0;
            long after = 0;
            long left = inQuarantine;
            while (left > 0 && (count == null || republished < count)) {
                ObjectNode step = JSON.createObjectNode().put("after", after).put("batch", BATCH);
                if (queue != null) {
                    step.put("queue", queue);
                }
                if (count != null) {
                    step.put("count", count - republished);
                }
                JsonNode done = inVhost(() -> client.post(path() + "/republish", step.toString()));
                long n = done.path("republished").asLong();
                republished += n;
                stayed += done.path("stayed").asLong();
                long nowLeft = done.path("left").asLong();
                progress.advance(byCount ? n : Math.max(0, left - nowLeft));
                if (done.path("next").asLong() == after) {
                    break; // nothing after the cursor any more
                }
                after = done.path("next").asLong();
                left = nowLeft;
            }
            out().println("Republished " + republished + " messages" + (stayed == 0 ? "" : "; " + stayed + " stayed in "
                    + "quarantine (their queue is gone or refused them)"));
            return 0;
        }
    }

    @Command(name = "purge", description = "Empties the quarantine queue: its messages are gone for good.")
    static final class Purge extends QuarantineVerb {
        @Override
        int run(ManagementClient client) throws CtlException {
            info("Purging the quarantine queue in vhost '" + vhost + "' ...");
            JsonNode done = inVhost(() -> client.delete(path()));
            out().println("Purged " + done.path("purged").asLong() + " messages");
            return 0;
        }
    }
}
