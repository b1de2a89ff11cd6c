package io.holdfast.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.ShutdownSignalException;
import io.holdfast.app.Main;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Three broker JVMs on this machine forming a cluster from their holdfast.conf: users, vhosts, permissions and
 * durable exchanges made on one node are there on the others; a node killed with SIGKILL catches up when it comes
 * back; a node without a majority refuses writes with a clear error instead of hanging or half-applying them; and
 * a misconfigured node refuses to start. One shared cluster, the tests in order (each builds on the one before).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClusterTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int NODES = BrokerCluster.NODES;
    /** The nodes' logs outlive the test's directory, for reading after a failure. */
    private static final Path LOGS = Path.of("target", "cluster-test");

    @TempDir
    static Path dir;
    private static BrokerCluster cluster;

    @BeforeAll
    static void startThreeNodes() throws Exception {
        cluster = new BrokerCluster(dir, LOGS, "raft.commit_timeout = 3000\n");
        cluster.startAll(); // formed once some node's first users and vhosts are committed
        assertThat(http(0, "PUT", "/api/vhosts/orders", "{}").statusCode()).isIn(201, 204);
    }

    @AfterAll
    static void stopAll() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    @Order(1)
    void aUserVhostAndExchangeMadeOnOneNodeAreUsableFromTheOthers() throws Exception {
        assertThat(http(0, "PUT", "/api/users/alice", "{\"password\":\"s3cret\",\"tags\":\"\"}").statusCode())
                .isEqualTo(201);
        assertThat(http(0, "PUT", "/api/permissions/orders/alice",
                "{\"configure\":\".*\",\"write\":\".*\",\"read\":\".*\"}").statusCode()).isEqualTo(201);
        try (Connection c = connect(0, "alice", "s3cret", "orders"); Channel ch = c.createChannel()) {
            ch.exchangeDeclare("placed", "topic", true);
        }
        for (int i = 1; i < NODES; i++) {
            int node = i;
            await().atMost(Duration.ofSeconds(30)).ignoreExceptions().untilAsserted(() -> {
                try (Connection c = connect(node, "alice", "s3cret", "orders"); Channel ch = c.createChannel()) {
                    ch.exchangeDeclarePassive("placed");
                }
            });
            try (Connection c = connect(node, "alice", "s3cret", "orders"); Channel ch = c.createChannel()) {
                String q = ch.queueDeclare().getQueue();
                ch.queueBind(q, "placed", "eu.#");
                ch.basicPublish("placed", "eu.de", null, ("via node " + (node + 1)).getBytes(StandardCharsets.UTF_8));
                await().atMost(Duration.ofSeconds(10)).until(() -> ch.basicGet(q, true) != null);
            }
        }
    }

    @Test
    @Order(2)
    void everyNodeShowsTheMembersTheLeaderAndTheRaftSeries() throws Exception {
        JsonNode apiNodes = JSON.readTree(http(1, "GET", "/api/nodes", null).body());
        assertThat(apiNodes).hasSize(NODES);
        apiNodes.forEach(n -> assertThat(n.path("running").asBoolean()).as("%s", n).isTrue());
        JsonNode cluster = JSON.readTree(http(2, "GET", "/api/health", null).body()).path("cluster");
        assertThat(cluster.path("leader").asText()).startsWith("holdfast");
        assertThat(cluster.path("commit_index").asLong()).isPositive();

        int leader = Integer.parseInt(cluster.path("leader").asText().substring("holdfast".length())) - 1;
        String metrics = http(leader, "GET", "/metrics", null).body();
        assertThat(Management.sample(metrics, "holdfast_raft_term{group=\"metadata\"}")).isPositive();
        assertThat(Management.sample(metrics, "holdfast_raft_commit_index{group=\"metadata\"}")).isPositive();
        assertThat(metrics).contains("holdfast_raft_follower_lag{group=\"metadata\",peer=\"holdfast");

        String out = ctl(2, "cluster_status");
        assertThat(out).contains("Running Nodes: holdfast1, holdfast2, holdfast3")
                .contains("leader holdfast" + (leader + 1));
    }

    @Test
    @Order(3)
    void aNodeKilledWhileTheOthersChangeThingsCatchesUpWhenItComesBack() throws Exception {
        cluster.kill(2);
        // If it led the group, writes are refused (503) until the other two have elected a new leader: retry.
        await().atMost(Duration.ofSeconds(60)).ignoreExceptions().untilAsserted(() -> assertThat(http(0, "PUT",
                "/api/users/bob",
                "{\"password\":\"b0b\",\"tags\":\"\"}").statusCode()).isIn(201, 204));
        // Node 1 answered once it applied bob; node 2 applies him a moment later and until then does not know him
        // (404): a change that names him waits for that, as a client of two nodes must.
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(http(1, "PUT",
                "/api/permissions/orders/bob",
                "{\"configure\":\".*\",\"write\":\".*\",\"read\":\".*\"}").statusCode()).isIn(201, 204));
        try (Connection c = connect(1, "bob", "b0b", "orders"); Channel ch = c.createChannel()) {
            ch.exchangeDeclare("shipped", "fanout", true);
            ch.exchangeDelete("placed");
        }
        cluster.start(2);
        // Until it has caught up, bob is unknown there (a refused login), or the exchange is (404).
        await().atMost(Duration.ofSeconds(60)).ignoreExceptions().untilAsserted(() -> {
            try (Connection c = connect(2, "bob", "b0b", "orders"); Channel ch = c.createChannel()) {
                ch.exchangeDeclarePassive("shipped");
            }
        });
        try (Connection c = connect(2, "bob", "b0b", "orders")) {
            Channel ch = c.createChannel();
            assertThatThrownBy(() -> ch.exchangeDeclarePassive("placed")).as("deleted while the node was down")
                    .hasStackTraceContaining("NOT_FOUND");
        }
    }

    @Test
    @Order(4)
    void aMisconfiguredNodeRefusesToStartWithOneClearLine() throws Exception {
        Path taken = dir.resolve("taken");
        Files.createDirectories(taken);
        // A fourth node's config naming node 1's peer address as its own: that port is in use.
        try (ChildBroker clash = ChildBroker.spawn(taken, cluster.config(taken, 0), LOGS.resolve("taken.log"))) {
            assertThat(clash.awaitExitCode(120)).isEqualTo(1);
            assertThat(clash.log()).contains("cannot listen for cluster peers on 127.0.0.1:" + cluster.peerPort(0));
        }

        Path stranger = dir.resolve("stranger");
        Files.createDirectories(stranger);
        Path conf = cluster.config(stranger, 0);
        Files.writeString(conf, Files.readString(conf).replace("nodename = holdfast1", "nodename = holdfast9"));
        try (ChildBroker outsider = ChildBroker.spawn(stranger, conf, LOGS.resolve("stranger.log"))) {
            assertThat(outsider.awaitExitCode(120)).isEqualTo(2);
            assertThat(outsider.log()).contains(
                    "nodename 'holdfast9' is not one of cluster_formation.classic_config.nodes");
        }
    }

    @Test
    @Order(5)
    void aNodeWithoutAMajorityRefusesWritesAndAppliesNone() throws Exception {
        cluster.kill(1);
        cluster.kill(2);
        HttpResponse<String> refused = http(0, "PUT", "/api/users/carol", "{\"password\":\"c\",\"tags\":\"\"}");
        assertThat(refused.statusCode()).isEqualTo(503);
        assertThat(refused.body()).contains("did not commit").contains("a majority (2 of 3 nodes) must be up");
        assertThat(http(0, "GET", "/api/users/carol", null).statusCode()).isEqualTo(404);

        Connection refusing = connect(0, "bob", "b0b", "orders");
        try {
            Channel ch = refusing.createChannel();
            assertThatThrownBy(() -> ch.exchangeDeclare("lonely", "direct", true))
                    .hasStackTraceContaining("INTERNAL_ERROR - the cluster did not commit exchange.declare of 'lonely'");
        } finally {
            refusing.abort(); // closed by the broker with 541
        }
        try (Connection c = connect(0, "bob", "b0b", "orders")) {
            Channel ch = c.createChannel();
            assertThatThrownBy(() -> ch.exchangeDeclarePassive("lonely")).as("undone on this node")
                    .isInstanceOf(IOException.class).cause().isInstanceOf(ShutdownSignalException.class)
                    .hasMessageContaining("NOT_FOUND");
        }
    }

    // ---- the cluster ----

    private static Connection connect(int node, String user, String password, String vhost) throws Exception {
        ConnectionFactory f = cluster.factory(node);
        f.setUsername(user);
        f.setPassword(password);
        f.setVirtualHost(vhost);
        return f.newConnection();
    }

    private static HttpResponse<String> http(int node, String method, String path, String body) throws Exception {
        return cluster.http(node, method, path, body);
    }

    private static String ctl(int node, String... verb) {
        StringWriter out = new StringWriter();
        List<String> args = new ArrayList<>(List.of("ctl", "--management-port",
                String.valueOf(cluster.node(node).managementPort()), "-t", "10"));
        args.addAll(List.of(verb));
        int code = new CommandLine(new Main()).setOut(new PrintWriter(out)).setErr(new PrintWriter(new StringWriter()))
                .execute(args.toArray(String[]::new));
        assertThat(code).as("ctl %s: %s", List.of(verb), out).isZero();
        return out.toString();
    }
}
