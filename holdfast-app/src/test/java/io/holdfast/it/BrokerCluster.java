package io.holdfast.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * Three broker JVMs on this machine, each with its own data directory and a holdfast.conf naming the same three
 * nodes (peer ports chosen free at construction); each node's log goes to {@code logs/node<N>.log} and outlives the
 * test, for reading after a failure. Nodes are numbered from 0 here, named {@code holdfast1..3}. Test thread only.
 */
final class BrokerCluster implements AutoCloseable {
    static final int NODES = 3;

    private final Path dir;
    private final Path logs;
    private final String extraConfig;
    private final int[] peerPorts = new int[NODES];
    private final ChildBroker[] nodes = new ChildBroker[NODES];

    /** @param extraConfig holdfast.conf lines every node gets besides the cluster list */
    BrokerCluster(Path dir, Path logs, String extraConfig) throws IOException {
        this.dir = dir;
        this.logs = logs;
        this.extraConfig = extraConfig;
        Files.createDirectories(logs);
        try (var old = Files.list(logs)) {
            for (Path p : old.toList()) {
                Files.delete(p);
            }
        }
        for (int i = 0; i < NODES; i++) {
            peerPorts[i] = freePort();
        }
    }

    /** Starts every node and waits until they listen and a write on node 0 is committed (the cluster formed). */
    void startAll() throws Exception {
        for (int i = 0; i < NODES; i++) {
            nodes[i] = spawn(i);
        }
        for (ChildBroker n : nodes) {
            n.awaitListening(180); // this machine's CPUs are shared: a JVM start has taken a minute
        }
        await().atMost(Duration.ofSeconds(90)).ignoreExceptions().untilAsserted(() -> assertThat(
                http(0, "PUT", "/api/vhosts/formed", "{}").statusCode()).isIn(201, 204));
    }

    /** (Re)starts node {@code i} on its data directory and waits until it listens. */
    void start(int i) throws IOException {
        nodes[i] = spawn(i);
        nodes[i].awaitListening(180);
    }

    ChildBroker node(int i) {
        return nodes[i];
    }

    int peerPort(int i) {
        return peerPorts[i];
    }

    void kill(int i) {
        nodes[i].kill();
        nodes[i] = null;
    }

    /** The config of node {@code i}, written under {@code where}: the same three-node list everywhere, its own name. */
    Path config(Path where, int i) throws IOException {
        StringBuilder conf = new StringBuilder("journal.segment_size = 1048576\n");
        for (int n = 0; n < NODES; n++) {
            conf.append("cluster_formation.classic_config.nodes.").append(n + 1).append(" = holdfast").append(n + 1)
                    .append("@127.0.0.1:").append(peerPorts[n]).append('\n');
        }
        conf.append("nodename = holdfast").append(i + 1).append('\n').append(extraConfig);
        Path file = where.resolve("holdfast.conf");
        Files.writeString(file, conf.toString());
        return file;
    }

    /** Deletes everything node {@code i} stored, as a replaced disk; the node must be down. */
    void wipe(int i) throws IOException {
        Path data = dir.resolve("node" + (i + 1));
        try (var files = Files.walk(data)) {
            for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    ConnectionFactory factory(int node) {
        return nodes[node].factory();
    }

    Connection connect(int node) throws Exception {
        return nodes[node].factory().newConnection();
    }

    HttpResponse<String> http(int node, String method, String path, String body) throws Exception {
        return Management.request(nodes[node].managementPort(), method, path, "guest", "guest", body);
    }

    Path logs() {
        return logs;
    }

    @Override
    public void close() {
        for (ChildBroker n : nodes) {
            if (n != null) {
                n.close();
            }
        }
    }

    private ChildBroker spawn(int i) throws IOException {
        Path data = dir.resolve("node" + (i + 1));
        Files.createDirectories(data);
        return ChildBroker.spawn(data, config(data, i), logs.resolve("node" + (i + 1) + ".log"));
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
