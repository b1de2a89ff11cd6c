package io.holdfast.cluster;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.function.IntFunction;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;

/**
 * Three Holdfast nodes in this JVM on free loopback ports, each with its own data directory, hosting one group
 * whose state is a {@link CommandLog} (or what the given factory makes). Nodes can be stopped, wiped and restarted
 * (with a fresh, empty state, as after a process restart). Test thread only.
 */
final class ThreeNodes implements AutoCloseable {
    static final Duration LEADER_WAIT = Duration.ofSeconds(30);

    final ReplicaGroup group;
    private final ClusterConfig[] configs = new ClusterConfig[3];
    private final ClusterNode[] nodes = new ClusterNode[3];
    private final ReplicatedState[] states = new ReplicatedState[3];
    private final IntFunction<ReplicatedState> newState;

    ThreeNodes(Path root, UnaryOperator<ClusterConfig> tune) throws IOException {
        this(root, tune, i -> new CommandLog());
    }

    /** @param newState a fresh state for node {@code i} (called at every start) */
    ThreeNodes(Path root, UnaryOperator<ClusterConfig> tune, IntFunction<ReplicatedState> newState) throws IOException {
        this.newState = newState;
        List<ReplicaGroup.Peer> peers = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            configs[i] = tune.apply(ClusterConfig.of("n" + i, "127.0.0.1", freePort(), root.resolve("n" + i)));
            peers.add(new ReplicaGroup.Peer(configs[i].nodeId(), configs[i].address()));
        }
        group = new ReplicaGroup("vhost/queue", peers);
        for (int i = 0; i < 3; i++) {
            start(i);
        }
    }

    void start(int i) throws IOException {
        states[i] = newState.apply(i);
        nodes[i] = ClusterNode.start(configs[i], Map.of(group, states[i]));
    }

    /** Starts node {@code i} with nothing hosted, then has it rejoin the group with an empty state. */
    void rejoin(int i) throws IOException {
        states[i] = newState.apply(i);
        nodes[i] = ClusterNode.start(configs[i], Map.of());
        nodes[i].rejoin(group, states[i]);
    }

    /** Closes node {@code i}, as a process that stops would. */
    void stop(int i) {
        nodes[i].close();
        nodes[i] = null;
    }

    /** Deletes everything node {@code i} stored: a replaced disk. The node must be stopped. */
    void wipe(int i) throws IOException {
        try (Stream<Path> files = Files.walk(configs[i].dataDir())) {
            for (Path p : (Iterable<Path>) files.sorted(Comparator.reverseOrder())::iterator) {
                Files.delete(p);
            }
        }
    }

    ClusterNode node(int i) {
        return nodes[i];
    }

    CommandLog state(int i) {
        return (CommandLog) states[i];
    }

    ReplicatedState replica(int i) {
        return states[i];
    }

    /** Node {@code i}'s id, as its peers know it. */
    String nodeId(int i) {
        return configs[i].nodeId();
    }

    boolean running(int i) {
        return nodes[i] != null;
    }

    CommandSubmitter submitter(int i) {
        return nodes[i].submitter(group);
    }

    ReplicaStatus status(int i) {
        try {
            return nodes[i].status(group);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Waits until one running node is leader, and returns its index. */
    int awaitLeader() {
        int[] leader = {-1};
        await().atMost(LEADER_WAIT).pollInterval(Duration.ofMillis(50)).until(() -> {
            for (int i = 0; i < 3; i++) {
                if (nodes[i] != null && status(i).leader()) {
                    leader[0] = i;
                    return true;
                }
            }
            return false;
        });
        return leader[0];
    }

    int aFollower(int leader) {
        for (int i = 0; i < 3; i++) {
            if (i != leader && nodes[i] != null) {
                return i;
            }
        }
        throw new IllegalStateException("no running follower");
    }

    /** Waits until every running node's state equals node {@code reference}'s and holds at least {@code size}. */
    void awaitSameState(int reference, int size) {
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50)).until(() -> {
            List<String> expected = state(reference).commands();
            if (expected.size() < size) {
                return false;
            }
            for (int i = 0; i < 3; i++) {
                if (nodes[i] != null && !state(i).commands().equals(expected)) {
                    return false;
                }
            }
            return true;
        });
    }

    @Override
    public void close() {
        // in parallel: each Ratis server takes about a second to close
        List<Thread> closers = new ArrayList<>();
        for (ClusterNode node : nodes) {
            if (node != null) {
                Thread closer = new Thread(node::close, "close-" + node.config().nodeId());
                closer.start();
                closers.add(closer);
            }
        }
        for (Thread t : closers) {
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }
}
