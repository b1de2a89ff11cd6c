package io.holdfast.cluster;

import java.util.Map;

/**
 * What one node knows of a group's Raft state at one moment, for operators ({@code cluster_status}, health,
 * metrics); a value, safe to pass between threads.
 *
 * @param leaderId the leader this node knows of, or null while there is none (an election, no majority)
 * @param leader whether this node is the leader
 * @param term this node's current term
 * @param commitIndex the highest log index this node knows to be committed
 * @param appliedIndex the highest index applied to the state here
 * @param followerLag on the leader, entries each follower's log is behind the leader's commit index, by peer
 *     id (0 = up to date); empty on a follower, which does not know
 */
public record GroupStatus(String leaderId, boolean leader, long term, long commitIndex, long appliedIndex,
                          Map<String, Long> followerLag) {
    public GroupStatus {
        followerLag = Map.copyOf(followerLag);
    }
}
