package io.holdfast.app.ctl;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * rabbitmqctl's {@code purge_queue} and {@code delete_queue}, with its banners, messages and exit codes (64 for a
 * queue that is missing, not empty or in use, as rabbitmqctl 3.10), over the management API's
 * {@code DELETE /api/queues/{vhost}/{name}[/contents]}. They need an administrator's credentials.
 */
final class QueueVerbs {
    private QueueVerbs() {}

    private static String path(String vhost, String queue) {
        return "/api/queues/" + ManagementClient.segment(vhost) + "/" + ManagementClient.segment(queue);
    }

    /** The queue as the API shows it; rabbitmqctl's "Queue not found" (64) when it is missing. */
    private static JsonNode queue(ManagementClient client, String vhost, String queue) throws CtlException {
        try {
            return client.get(path(vhost, queue));
        } catch (CtlException e) {
            if (e.exitCode() == CtlException.DATA && e.getMessage().startsWith("not found")) {
                throw CtlException.usage("Queue not found");
            }
            throw e;
        }
    }

    @Command(name = "purge_queue", description = "Purges a queue (removes all ready messages in it).")
    static final class PurgeQueue extends Ctl.Verb {
        @Option(names = {"-p", "--vhost"}, defaultValue = "/", description = "virtual host (default ${DEFAULT-VALUE})")
        String vhost;

        @Parameters(index = "0", paramLabel = "QUEUE") String name;

        @Override
        int run(ManagementClient client) throws CtlException {
            info("Purging queue '" + name + "' in vhost '" + vhost + "' ...");
            queue(client, vhost, name);
            try {
                client.delete(path(vhost, name) + "/contents");
            } catch (CtlException e) {
                if (e.getMessage().startsWith("not found")) { // deleted in between
                    throw CtlException.usage("Queue not found");
                }
                throw e;
            }
            return 0;
        }
    }

    @Command(name = "delete_queue", description = "Deletes a queue and its messages.")
    static final class DeleteQueue extends Ctl.Verb {
        @Option(names = {"-p", "--vhost"}, defaultValue = "/", description = "virtual host (default ${DEFAULT-VALUE})")
        String vhost;

        @Option(names = {"-e", "--if-empty"}, description = "only if the queue has no messages")
        boolean ifEmpty;

        @Option(names = "--if-unused", description = "only if the queue has no consumers (no -u: that is --username here)")
        boolean ifUnused;

        @Parameters(index = "0", paramLabel = "QUEUE") String name;

        @Override
        int run(ManagementClient client) throws CtlException {
            StringBuilder conditions = new StringBuilder();
            if (ifEmpty) {
                conditions.append("if queue is empty ");
            }
            if (ifUnused) {
                conditions.append(ifEmpty ? "and " : "").append("if queue is unused ");
            }
            info("Deleting queue '" + name + "' on vhost '" + vhost + "' " + conditions + "...");
            long ready = queue(client, vhost, name).path("messages_ready").asLong();
            String query = ifEmpty && ifUnused ? "?if-empty=true&if-unused=true" : ifEmpty ? "?if-empty=true"
                    : ifUnused ? "?if-unused=true" : "";
            try {
                client.delete(path(vhost, name) + query);
            } catch (CtlException e) {
                if (e.getMessage().startsWith("not found")) {
                    throw CtlException.usage("Queue not found");
                } else if (e.getMessage().endsWith("is not empty")) {
                    throw CtlException.usage("Queue is not empty");
                } else if (e.getMessage().endsWith("in use")) {
                    throw CtlException.usage("Queue is in use");
                }
                throw e;
            }
            out().println("Queue was successfully deleted with " + ready + " ready messages");
            return 0;
        }
    }
}
