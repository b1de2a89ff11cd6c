package io.holdfast.server.config;

import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * This node's place in a cluster ({@code cluster_formation.classic_config.nodes.N}, {@code nodename},
 * {@code raft.*}); absent (null in {@link ServerConfig}) for a single node. Immutable.
 *
 * @param nodeName this node's name, one of {@code nodes}
 * @param nodes every member of the cluster, this node included, in the order the config lists them
 * @param electionTimeout {@code raft.election_timeout}: how long a follower waits for its leader before it stands
 *     for election (the longest wait is twice this)
 * @param commitTimeout {@code raft.commit_timeout}: how long a metadata change may wait for a majority before it is
 *     refused as not committed
 */
public record ClusterSettings(String nodeName, List<Node> nodes, Duration electionTimeout, Duration commitTimeout) {
    public static final Duration DEFAULT_ELECTION_TIMEOUT = Duration.ofSeconds(1);
    public static final Duration DEFAULT_COMMIT_TIMEOUT = Duration.ofSeconds(10);

    /** One member: {@code name@host:port}, the port being its Raft (peer) listener. */
    public record Node(String name, String host, int port) {
        public Node {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(host, "host");
        }

        public String address() {
            return host + ":" + port;
        }

        /** As written in holdfast.conf: {@code name@host:port}. */
        @Override
        public String toString() {
            return name + "@" + address();
        }
    }

    /** @throws IllegalArgumentException naming what to fix, if the members do not form a cluster with this node */
    public ClusterSettings {
        nodes = List.copyOf(nodes);
        Set<String> names = new HashSet<>();
        Set<String> addresses = new HashSet<>();
        for (Node n : nodes) {
            if (!names.add(n.name())) {
                throw new IllegalArgumentException("cluster_formation.classic_config.nodes names node '" + n.name()
                        + "' twice: every node needs its own name");
            }
            if (!addresses.add(n.address())) {
                throw new IllegalArgumentException("cluster_formation.classic_config.nodes gives two nodes the "
                        + "peer address " + n.address() + ": every node needs its own port");
            }
        }
        if (!names.contains(nodeName)) {
            throw new IllegalArgumentException("nodename '" + nodeName + "' is not one of "
                    + "cluster_formation.classic_config.nodes " + nodes + ": list this node there, or fix its name");
        }
    }

    public Node self() {
        return nodes.stream().filter(n -> n.name().equals(nodeName)).findFirst().orElseThrow();
    }
}
