package io.holdfast.app.ctl;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;

/** The verbs about the broker as a whole: status, ping, await_startup, and Holdfast's health verbs. */
final class NodeVerbs {
    private NodeVerbs() {}

    @Command(name = "status", description = "The broker's version, health, alarms and totals.")
    static final class Status extends Ctl.Verb {
        @Override
        int run(ManagementClient client) throws CtlException {
            JsonNode overview = client.get("/api/overview");
            JsonNode health = client.get("/api/health");
            info("Status of node " + overview.path("node").asText() + " ...");
            out().println("Holdfast version: " + overview.path("product_version").asText());
            out().println("Health: " + describeHealth(health));
            List<String> alarms = new ArrayList<>();
            if (health.path("disk_alarm").asBoolean()) {
                alarms.add("disk");
            }
            if (health.path("memory_alarm").asBoolean()) {
                alarms.add("memory");
            }
            out().println("Alarms: " + (alarms.isEmpty() ? "(none)" : String.join(", ", alarms)
                    + " (publishers are blocked)"));
            JsonNode objects = overview.path("object_totals");
            JsonNode totals = overview.path("queue_totals");
            out().println("Connections: " + objects.path("connections").asLong() + ", queues: "
                    + objects.path("queues").asLong() + ", exchanges: " + objects.path("exchanges").asLong()
                    + ", consumers: " + objects.path("consumers").asLong());
            out().println("Messages: " + totals.path("messages").asLong() + " (ready "
                    + totals.path("messages_ready").asLong() + ", unacknowledged "
                    + totals.path("messages_unacknowledged").asLong() + ")");
            return 0;
        }
    }

    @Command(name = "cluster_status", description = "The cluster's nodes, which are running, and the Raft state of "
            + "the metadata group and of each quorum queue: leader, term, commit index and followers' lag.")
    static final class ClusterStatus extends Ctl.Verb {
        @Override
        int run(ManagementClient client) throws CtlException {
            JsonNode cluster = client.get("/api/health").path("cluster");
            if (cluster.isMissingNode()) {
                JsonNode overview = client.get("/api/overview");
                info("Cluster status of node " + overview.path("node").asText() + " ...");
                out().println("Single node: no cluster_formation keys in its config, nothing replicated");
                return 0;
            }
            info("Cluster status of node " + cluster.path("node").asText() + " ...");
            List<String> all = new ArrayList<>();
            List<String> running = new ArrayList<>();
            for (JsonNode n : cluster.path("nodes")) {
                all.add(n.path("name").asText() + " (" + n.path("address").asText() + ")");
                if (n.path("running").asBoolean()) {
                    running.add(n.path("name").asText());
                }
            }
            out().println("Disk Nodes: " + String.join(", ", all));
            out().println("Running Nodes: " + String.join(", ", running));
            JsonNode leader = cluster.path("leader");
            out().println("Metadata group '" + cluster.path("group").asText() + "': leader "
                    + (leader.isNull() ? "(none: no majority)" : leader.asText()) + ", term "
                    + cluster.path("term").asLong() + ", commit index " + cluster.path("commit_index").asLong()
                    + ", applied here " + cluster.path("applied_index").asLong());
            List<String> lag = new ArrayList<>();
            for (JsonNode f : cluster.path("followers")) {
                lag.add(f.path("peer").asText() + " " + f.path("lag").asLong() + " behind");
            }
            out().println("Followers: " + (lag.isEmpty() ? "(their lag is known on the leader only)"
                    : String.join(", ", lag)));
            for (JsonNode q : cluster.path("quorum_queues")) {
                List<String> behind = new ArrayList<>();
                for (JsonNode f : q.path("followers")) {
                    behind.add(f.path("peer").asText() + " " + f.path("lag").asLong() + " behind");
                }
                JsonNode qLeader = q.path("leader");
                out().println("Quorum queue '" + q.path("name").asText() + "' in vhost '" + q.path("vhost").asText()
                        + "': leader " + (qLeader.isNull() ? "(none)" : qLeader.asText()) + ", term "
                        + q.path("term").asLong() + ", commit index " + q.path("commit_index").asLong()
                        + ", applied here " + q.path("applied_index").asLong()
                        + (behind.isEmpty() ? "" : "; " + String.join(", ", behind)));
            }
            return 0;
        }
    }

    @Command(name = "ping", description = "Checks that the broker answers.")
    static final class Ping extends Ctl.Verb {
        @Override
        int run(ManagementClient client) throws CtlException {
            info("Will ping the broker at " + client.where() + ". Timeout: " + ctl.timeoutSeconds + " s.");
            client.get("/api/health");
            out().println("Ping succeeded");
            return 0;
        }
    }

    @Command(name = "await_startup", description = "Waits until the broker answers (at most --timeout seconds).")
    static final class AwaitStartup extends Ctl.Verb {
        @Override
        int run(ManagementClient client) throws CtlException {
            info("Waiting for the broker at " + client.where() + " to start up ...");
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(ctl.timeoutSeconds);
            while (true) {
                try {
                    client.get("/api/health");
                    return 0;
                } catch (CtlException e) {
                    if (e.exitCode() != CtlException.UNAVAILABLE || System.nanoTime() > deadline) {
                        throw e.exitCode() == CtlException.UNAVAILABLE
                                ? new CtlException(CtlException.TEMPFAIL, "the broker at " + client.where()
                                        + " did not start within " + ctl.timeoutSeconds + " s (--timeout)")
                                : e;
                    }
                }
                try {
                    Thread.sleep(250); // polling a process that is starting: there is nothing to wait on
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw CtlException.unavailable("interrupted");
                }
            }
        }
    }

    @Command(name = "health", description = "Holdfast's health, with the journal damage; exit 1 while degraded.")
    static final class Health extends Ctl.Verb {
        @Override
        int run(ManagementClient client) throws CtlException {
            JsonNode health = client.get("/api/health");
            out().println(describeHealth(health));
            for (JsonNode d : health.path("damage")) {
                out().println("  " + d.asText());
            }
            return "ok".equals(health.path("status").asText()) ? 0 : 1;
        }
    }

    @Command(name = "acknowledge_damage", description = "The operator has seen the journal damage: health goes ok.")
    static final class AcknowledgeDamage extends Ctl.Verb {
        @Override
        int run(ManagementClient client) throws CtlException {
            JsonNode health = client.post("/api/health/acknowledge");
            out().println(describeHealth(health));
            return 0;
        }
    }

    static String describeHealth(JsonNode health) {
        String status = health.path("status").asText();
        int damage = health.path("damage").size();
        long unreadable = health.path("unreadable_messages_dropped").asLong();
        StringBuilder s = new StringBuilder(status);
        if (damage > 0 || unreadable > 0) {
            s.append(" (").append(damage).append(" journal damage entries, ").append(unreadable)
                    .append(" unreadable messages dropped, acknowledged: ")
                    .append(health.path("acknowledged").asBoolean(false)).append(')');
        }
        return s.toString();
    }
}
