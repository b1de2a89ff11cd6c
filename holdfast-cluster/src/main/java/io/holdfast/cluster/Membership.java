package io.holdfast.cluster;

import java.io.IOException;
import java.util.List;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftPeer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Changes to who is a member of a group, through its leader. Blocking; any thread. */
final class Membership {
    private static final Logger LOG = LoggerFactory.getLogger(Membership.class);

    private Membership() {}

    /**
     * Replaces this node's membership of {@code group} by a new one: removes it, then adds it back. The leader
     * forgets what it knew of the old replica (how far its log went), so the new one is bootstrapped from scratch
     * (from the leader's snapshot, or log if it still starts at the beginning) before the new configuration
     * counts it. Between the two changes the group runs on the other members, which must all be up.
     */
    static void replace(ReplicaGroup group, ClusterConfig config) throws IOException {
        RaftGroup full = group.toRaftGroup();
        List<RaftPeer> others = full.getPeers().stream()
                .filter(p -> !p.getId().toString().equals(config.nodeId()))
                .toList();
        try (RaftClient client = RaftClient.newBuilder()
                .setRaftGroup(full)
                .setProperties(RaftSettings.client(config))
                .setRetryPolicy(RaftSettings.retryPolicy(config))
                .build()) {
            check(client.admin().setConfiguration(others), group, "remove the lost replica of " + config.nodeId());
            LOG.info("cluster: group {} dropped the lost replica of {}; adding it back", group.name(),
                    config.nodeId());
            check(client.admin().setConfiguration(List.copyOf(full.getPeers())), group,
                    "add " + config.nodeId() + " back");
        }
        LOG.info("cluster: node {} rejoined group {}", config.nodeId(), group.name());
    }

    private static void check(RaftClientReply reply, ReplicaGroup group, String what) throws IOException {
        if (!reply.isSuccess()) {
            throw new IOException("group " + group.name() + " could not " + what, reply.getException());
        }
    }
}
