package io.holdfast.it;

import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import io.holdfast.server.HoldfastServer;
import io.holdfast.server.config.ServerConfig;
import java.io.IOException;
import java.nio.file.Path;
import java.util.function.UnaryOperator;

/** A Holdfast started in this JVM on free ports (AMQP and management), over a data directory the test owns. */
public final class RunningBroker implements AutoCloseable {
    private final ServerConfig config;
    private HoldfastServer server;

    private RunningBroker(ServerConfig config) throws IOException {
        this.config = config;
        this.server = HoldfastServer.start(config);
    }

    public static RunningBroker start(Path dataDir) throws IOException {
        return start(dataDir, c -> c);
    }

    public static RunningBroker start(Path dataDir, UnaryOperator<ServerConfig> tweak) throws IOException {
        ServerConfig freePorts = ServerConfig.defaults(dataDir).toBuilder().port(0).managementPort(0).build();
        return new RunningBroker(tweak.apply(freePorts));
    }

    public int port() {
        return server.port();
    }

    /** The management HTTP port (any free one, chosen at each start). */
    public int managementPort() {
        return server.managementPort();
    }

    public HoldfastServer server() {
        return server;
    }

    public ConnectionFactory factory() {
        ConnectionFactory f = new ConnectionFactory();
        f.setHost("127.0.0.1");
        f.setPort(port());
        f.setAutomaticRecoveryEnabled(false);
        f.setRequestedHeartbeat(0);
        return f;
    }

    public Connection connect() throws Exception {
        return factory().newConnection();
    }

    /** Stops cleanly and starts again on the same data directory and port. */
    public void restart() throws IOException {
        int port = port();
        server.close();
        server = HoldfastServer.start(config.withPort(port));
    }

    @Override
    public void close() throws IOException {
        server.close();
    }
}
