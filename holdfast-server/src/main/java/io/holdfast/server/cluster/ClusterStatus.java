package io.holdfast.server.cluster;

import java.util.List;
import java.util.Map;

/**
 * The cluster as this node sees it at one moment: its members, and the metadata group's Raft state. A value; any
 * thread.
 *
 * @param nodeName this node
 * @param members every node of {@code cluster_formation.classic_config.nodes}, in that order
 * @param group the Raft group this describes ({@value MetadataGroup#GROUP_NAME})
 * @param leader the group's leader as this node knows it, or null (an election, or no majority)
 * @param term this node's current term
 * @param commitIndex the highest log index this node knows to be committed
 * @param appliedIndex the highest index applied here
 * @param followerLag known on the leader only: entries each follower is behind the commit index, by node name
 * @param quorumQueues the groups of the quorum queues this node hosts, by vhost and name
 */
public record ClusterStatus(String nodeName, List<Member> members, String group, String leader, long term,
                            long commitIndex, long appliedIndex, Map<String, Long> followerLag,
                            List<QueueGroup> quorumQueues) {
    /** A quorum queue's Raft group as this node sees it (lag on its leader only). */
    public record QueueGroup(String vhost, String name, io.holdfast.cluster.GroupStatus raft) {}

    /**
     * One node.
     *
     * @param running this node, or one whose Raft listener accepts a connection now
     */
    public record Member(String name, String address, boolean running) {}
}
