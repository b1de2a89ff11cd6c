package io.holdfast.server;

import io.holdfast.server.alarms.DiskMonitor;
import io.holdfast.server.alarms.MemoryMonitor;
import io.holdfast.server.alarms.ResourceAlarms;
import io.holdfast.server.amqp.AmqpListener;
import io.holdfast.server.cluster.MetadataGroup;
import io.holdfast.server.config.ServerConfig;
import io.holdfast.server.config.Version;
import io.holdfast.server.engine.Engine;
import io.holdfast.server.management.Definitions;
import io.holdfast.server.management.HealthState;
import io.holdfast.server.management.ManagementHttp;
import java.io.IOException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A whole Holdfast broker, assembled: the {@link Engine} (broker thread, journal, topology), the AMQP
 * listener, the resource alarms that block its publishers, the management HTTP listener (health,
 * metrics) and, on a cluster node, the {@link MetadataGroup} that replicates users, vhosts and exchanges. {@link #close()} stops management, then the AMQP clients (320 CONNECTION_FORCED), then the
 * engine, so nothing is left half-written.
 */
public final class HoldfastServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(HoldfastServer.class);

    private final Engine engine;
    private final AmqpListener amqp;
    private final ScheduledExecutorService monitors = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "holdfast-monitors");
        t.setDaemon(true);
        return t;
    });
    private final DiskMonitor diskMonitor;
    private final MemoryMonitor memoryMonitor;
    private final ManagementHttp management; // null when management.enabled = false
    private final MetadataGroup cluster; // null on a single node

    private HoldfastServer(Engine engine) throws IOException {
        this.engine = engine;
        ServerConfig config = engine.config();
        amqp = new AmqpListener(engine);
        diskMonitor = new DiskMonitor(config.dataDir(), config.diskFreeLimitBytes(), amqp.alarms());
        diskMonitor.check();
        monitors.scheduleAtFixedRate(diskMonitor::check, 1, 1, TimeUnit.SECONDS);
        memoryMonitor = new MemoryMonitor(config.memoryHighWatermarkBytes(), amqp.alarms());
        memoryMonitor.start();
        monitors.scheduleAtFixedRate(memoryMonitor::tick, 1, 1, TimeUnit.SECONDS);
        try {
            cluster = config.cluster() == null ? null : MetadataGroup.start(config, engine, amqp::closeVirtualHost);
        } catch (IOException | RuntimeException e) {
            stopListeners();
            throw e;
        }
        try {
            if (config.loadDefinitions() != null) { // as RabbitMQ: before any client can connect
                Definitions.load(engine, config.loadDefinitions());
            }
            amqp.bind();
            HealthState health = HealthState.load(config.dataDir(), engine.recoveryReport(),
                    engine::messageReadFailures);
            management = ManagementHttp.startIfEnabled(config, engine, health, amqp::connectionCount,
                    diskMonitor::alarmed, memoryMonitor, amqp::closeVirtualHost, amqp, cluster);
        } catch (IOException | RuntimeException e) {
            stopListeners();
            if (cluster != null) {
                cluster.close();
            }
            throw e;
        }
    }

    /** Recovers the data directory and starts listening. */
    public static HoldfastServer start(ServerConfig config) throws IOException {
        Engine engine = Engine.start(config);
        try {
            HoldfastServer server = new HoldfastServer(engine);
            log.info("Holdfast {} listening for AMQP 0-9-1 on {}{}, data in {}", Version.VERSION,
                    server.amqp.localAddress(), server.amqp.tlsAddress() == null ? ""
                            : " and for AMQPS (TLS 1.2/1.3) on " + server.amqp.tlsAddress(),
                    config.dataDir().toAbsolutePath());
            return server;
        } catch (IOException | RuntimeException e) {
            engine.close();
            throw e;
        }
    }

    public int port() {
        return amqp.localAddress().getPort();
    }

    /** The AMQPS port, or -1 without a TLS listener. */
    public int tlsPort() {
        return amqp.tlsAddress() == null ? -1 : amqp.tlsAddress().getPort();
    }

    /** The disk alarm, e.g. to change its limit at run time. */
    public DiskMonitor diskMonitor() {
        return diskMonitor;
    }

    /** The memory alarm, e.g. to change its watermark at run time. */
    public MemoryMonitor memoryMonitor() {
        return memoryMonitor;
    }

    /** All resource alarms combined: publishers are blocked while any is raised. */
    public ResourceAlarms resourceAlarms() {
        return amqp.alarms();
    }

    /** The management HTTPS port ({@code management.ssl.port}), or -1 without one. */
    public int managementTlsPort() {
        return management == null ? -1 : management.tlsPort();
    }

    /** The management HTTP port (useful with {@code management.tcp.port = 0}), or -1 if it is off. */
    public int managementPort() {
        return management == null ? -1 : management.port();
    }

    public Engine engine() {
        return engine;
    }

    /** Client connections whose socket is open, handshaking or not. Any thread. */
    public int connectionCount() {
        return amqp.connectionCount();
    }

    private void stopListeners() {
        if (management != null) {
            management.close();
        }
        monitors.shutdownNow();
        memoryMonitor.close();
        amqp.close();
    }

    @Override
    public void close() throws IOException {
        stopListeners();
        if (cluster != null) {
            cluster.close(); // after the clients, before the engine its effects run on
        }
        engine.close();
        log.info("Holdfast stopped cleanly");
    }
}
