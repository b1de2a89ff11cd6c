package io.holdfast.cluster;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Objects;
import java.util.UUID;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;

/**
 * The replicas of one replicated state (later: one replicated queue): a name unique in the cluster and the nodes
 * that hold it. Every member must be given the same group. The Raft group id is derived from the name, so the
 * same name always means the same group and its storage directory on every node. Immutable, so any thread may
 * share it.
 *
 * @param name unique in the cluster, e.g. {@code vhost/queue}
 * @param peers the nodes holding a replica; a majority of them must be up to commit
 */
public record ReplicaGroup(String name, List<Peer> peers) {

    /** A node as a group member: its {@link ClusterConfig#nodeId()} and {@code host:port}. */
    public record Peer(String id, String address) {
        public Peer {
            Objects.requireNonNull(id, "id");
            Objects.requireNonNull(address, "address");
        }
    }

    public ReplicaGroup {
        Objects.requireNonNull(name, "name");
        peers = List.copyOf(peers);
        if (peers.isEmpty()) {
            throw new IllegalArgumentException("group " + name + " has no peers");
        }
        if (peers.stream().map(Peer::id).distinct().count() != peers.size()) {
            throw new IllegalArgumentException("group " + name + " names a peer twice: " + peers);
        }
    }

    /** The Raft group id: a name-based UUID, the name of the group's directory under each node's storage. */
    public RaftGroupId groupId() {
        return RaftGroupId.valueOf(UUID.nameUUIDFromBytes(("holdfast/" + name).getBytes(StandardCharsets.UTF_8)));
    }

    boolean hasMember(String nodeId) {
        return peers.stream().anyMatch(p -> p.id().equals(nodeId));
    }

    RaftGroup toRaftGroup() {
        return RaftGroup.valueOf(groupId(), peers.stream()
                .map(p -> RaftPeer.newBuilder().setId(p.id()).setAddress(p.address()).build())
                .toList());
    }
}
