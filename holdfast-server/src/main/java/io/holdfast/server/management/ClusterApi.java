package io.holdfast.server.management;

import io.holdfast.server.cluster.ClusterStatus;
import io.holdfast.server.cluster.MetadataGroup;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The cluster on the management listener: RabbitMQ's {@code GET /api/nodes} and {@code /api/nodes/{name}} (every
 * member with {@code running}; on a single node, that node), and the {@code cluster} part of {@code /api/health}
 * (members, the metadata group's leader, term, commit index and followers' lag). Management threads.
 */
final class ClusterApi {
    private final MetadataGroup cluster; // null on a single node

    ClusterApi(MetadataGroup cluster) {
        this.cluster = cluster;
    }

    void addTo(Routes routes) {
        routes.add("GET", "/api/nodes", Routes.Access.MONITOR, r -> ManagementHttp.json(200, nodes()))
                .add("GET", "/api/nodes/{name}", Routes.Access.MONITOR, r -> {
                    for (Map<String, Object> n : nodes()) {
                        if (n.get("name").equals(r.variable(0))) {
                            return ManagementHttp.json(200, n);
                        }
                    }
                    return ManagementApi.notFound();
                });
    }

    private List<Map<String, Object>> nodes() throws IOException {
        List<Map<String, Object>> out = new ArrayList<>();
        if (cluster == null) {
            out.add(node(ApiViews.NODE, true));
            return out;
        }
        for (ClusterStatus.Member m : cluster.status().members()) {
            Map<String, Object> n = node(m.name(), m.running());
            n.put("cluster_address", m.address());
            out.add(n);
        }
        return out;
    }

    private static Map<String, Object> node(String name, boolean running) {
        Map<String, Object> n = new LinkedHashMap<>();
        n.put("name", name);
        n.put("type", "disc");
        n.put("running", running);
        return n;
    }

    /** The {@code cluster} object of {@code /api/health}, or null on a single node. */
    Map<String, Object> health() throws IOException {
        if (cluster == null) {
            return null;
        }
        ClusterStatus s = cluster.status();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("node", s.nodeName());
        List<Map<String, Object>> members = new ArrayList<>();
        for (ClusterStatus.Member n : s.members()) {
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("name", n.name());
            e.put("address", n.address());
            e.put("running", n.running());
            members.add(e);
        }
        m.put("nodes", members);
        m.put("group", s.group());
        m.put("leader", s.leader());
        m.put("term", s.term());
        m.put("commit_index", s.commitIndex());
        m.put("applied_index", s.appliedIndex());
        m.put("followers", followers(s.followerLag()));
        List<Map<String, Object>> queues = new ArrayList<>();
        for (ClusterStatus.QueueGroup q : s.quorumQueues()) {
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("vhost", q.vhost());
            e.put("name", q.name());
            e.put("leader", q.raft().leaderId());
            e.put("term", q.raft().term());
            e.put("commit_index", q.raft().commitIndex());
            e.put("applied_index", q.raft().appliedIndex());
            e.put("followers", followers(q.raft().followerLag()));
            queues.add(e);
        }
        m.put("quorum_queues", queues);
        return m;
    }

    private static List<Map<String, Object>> followers(Map<String, Long> lag) {
        List<Map<String, Object>> out = new ArrayList<>();
        new java.util.TreeMap<>(lag).forEach((peer, behind) -> {
            Map<String, Object> f = new LinkedHashMap<>();
            f.put("peer", peer);
            f.put("lag", behind);
            out.add(f);
        });
        return out;
    }
}
