package io.holdfast.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.holdfast.server.config.ClusterSettings;
import io.holdfast.server.config.ServerConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The cluster keys of holdfast.conf: read as RabbitMQ's classic config, and every misconfiguration refused. */
class ClusterConfigFileTest {
    private static final String THREE = """
            cluster_formation.peer_discovery_backend = classic_config
            cluster_formation.classic_config.nodes.1 = holdfast1@127.0.0.1:7001
            cluster_formation.classic_config.nodes.2 = holdfast2@127.0.0.1:7002
            cluster_formation.classic_config.nodes.3 = holdfast3@127.0.0.1:7003
            """;

    @TempDir
    Path dir;

    private ServerConfig load(String text) throws Exception {
        Path f = dir.resolve("holdfast.conf");
        Files.writeString(f, text);
        return ConfigFile.apply(f, ServerConfig.defaults(dir));
    }

    @Test
    void noClusterKeysMeansASingleNode() throws Exception {
        assertThat(load("heartbeat = 10\n").cluster()).isNull();
    }

    @Test
    void readsTheNodesTheNodeNameAndTheRaftTimeouts() throws Exception {
        ClusterSettings c = load(THREE + "nodename = holdfast2\nraft.election_timeout = 1500\n"
                + "raft.commit_timeout = 3000\n").cluster();
        assertThat(c.nodes()).extracting(ClusterSettings.Node::toString).containsExactly(
                "holdfast1@127.0.0.1:7001", "holdfast2@127.0.0.1:7002", "holdfast3@127.0.0.1:7003");
        assertThat(c.self().port()).isEqualTo(7002);
        assertThat(c.electionTimeout()).isEqualTo(Duration.ofMillis(1500));
        assertThat(c.commitTimeout()).isEqualTo(Duration.ofSeconds(3));
    }

    @Test
    void aNodeMissingFromTheListIsRefused() {
        assertThatThrownBy(() -> load(THREE + "nodename = holdfast4\n"))
                .isInstanceOf(ConfigFile.ConfigException.class)
                .hasMessageContaining("nodename 'holdfast4' is not one of cluster_formation.classic_config.nodes");
    }

    @Test
    void twoEntriesWithTheSameNameAreRefusedAtTheSecondLine() {
        assertThatThrownBy(() -> load(THREE + "cluster_formation.classic_config.nodes.4 = holdfast1@127.0.0.1:7004\n"
                + "nodename = holdfast1\n"))
                .isInstanceOf(ConfigFile.ConfigException.class)
                .hasMessageContaining("line 5")
                .hasMessageContaining("names node 'holdfast1', as an entry above does");
    }

    @Test
    void twoEntriesWithTheSamePeerPortAreRefused() {
        assertThatThrownBy(() -> load(THREE + "cluster_formation.classic_config.nodes.4 = holdfast4@127.0.0.1:7001\n"
                + "nodename = holdfast1\n"))
                .isInstanceOf(ConfigFile.ConfigException.class)
                .hasMessageContaining("line 5")
                .hasMessageContaining("every node needs its own peer port");
    }

    @Test
    void aMalformedEntryNamesTheExpectedForm() {
        assertThatThrownBy(() -> load("cluster_formation.classic_config.nodes.1 = 127.0.0.1:7001\n"))
                .isInstanceOf(ConfigFile.ConfigException.class)
                .hasMessageContaining("line 1")
                .hasMessageContaining("must be name@host:port");
        assertThatThrownBy(() -> load("cluster_formation.classic_config.nodes.x = a@127.0.0.1:7001\n"))
                .isInstanceOf(ConfigFile.ConfigException.class)
                .hasMessageContaining("must be a whole number");
    }

    @Test
    void theListAndTheNameComeTogether() {
        assertThatThrownBy(() -> load(THREE))
                .isInstanceOf(ConfigFile.ConfigException.class)
                .hasMessageContaining("nodename is not");
        assertThatThrownBy(() -> load("nodename = holdfast1\n"))
                .isInstanceOf(ConfigFile.ConfigException.class)
                .hasMessageContaining("cluster_formation.classic_config.nodes is not");
    }

    @Test
    void anUnknownDiscoveryBackendIsRefused() {
        assertThatThrownBy(() -> load("cluster_formation.peer_discovery_backend = consul\n"))
                .isInstanceOf(ConfigFile.ConfigException.class)
                .hasMessageContaining("must be one of classic_config");
    }
}
