package io.holdfast.server;

import io.holdfast.protocol.FrameDecoder;
import io.holdfast.protocol.FrameType;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The AMQP 0-9-1 listener: Netty event loops do I/O only (framing, handshake, content assembly);
 * the {@link Engine}'s broker thread changes state. {@link #close()} tells every client the broker
 * is shutting down (320 CONNECTION_FORCED), then stops the engine so nothing is left half-written.
 * It also runs the management HTTP listener (health, metrics: {@link ManagementHttp}) and stops it first.
 */
public final class AmqpServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(AmqpServer.class);

    private final Engine engine;
    private final EventLoopGroup bossGroup;
    private final EventLoopGroup workerGroup;
    private final Channel serverChannel;
    private final Set<AmqpConnection> connections = ConcurrentHashMap.newKeySet();
    private final ResourceAlarms alarms = new ResourceAlarms(connections);
    private final DiskMonitor diskMonitor;
    private final MemoryMonitor memoryMonitor;
    private final ManagementHttp management; // null when management.enabled = false

    private AmqpServer(Engine engine) throws IOException {
        this.engine = engine;
        ServerConfig config = engine.config();
        bossGroup = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        diskMonitor = new DiskMonitor(config.dataDir(), config.diskFreeLimitBytes(), alarms);
        diskMonitor.check();
        bossGroup.next().scheduleAtFixedRate(diskMonitor::check, 1, 1, TimeUnit.SECONDS);
        memoryMonitor = new MemoryMonitor(config.memoryHighWatermarkBytes(), alarms);
        memoryMonitor.start();
        bossGroup.next().scheduleAtFixedRate(memoryMonitor::tick, 1, 1, TimeUnit.SECONDS);
        workerGroup = new MultiThreadIoEventLoopGroup(Math.max(1, Runtime.getRuntime().availableProcessors() / 2),
                NioIoHandler.newFactory());
        ServerBootstrap b = new ServerBootstrap()
                .group(bossGroup, workerGroup)
                .channel(NioServerSocketChannel.class)
                .option(ChannelOption.SO_BACKLOG, 1024)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(512 * 1024, 2 * 1024 * 1024))
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        FrameDecoder decoder = new FrameDecoder(FrameType.FRAME_MIN_SIZE);
                        ch.pipeline().addLast("decoder", decoder);
                        ch.pipeline().addLast("amqp", new AmqpConnection(engine, decoder, connections, alarms));
                    }
                });
        try {
            serverChannel = b.bind(new InetSocketAddress(config.bindAddress(), config.port())).sync().channel();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while binding", e);
        } catch (Exception e) {
            memoryMonitor.close();
            bossGroup.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
            workerGroup.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
            throw new IOException("cannot listen on " + config.bindAddress() + ":" + config.port() + ": " + e.getMessage(), e);
        }
        HealthState health = HealthState.load(config.dataDir(), engine.recoveryReport(),
                engine::messageReadFailures);
        try {
            management = ManagementHttp.startIfEnabled(config, engine, health, connections::size, diskMonitor::alarmed,
                    memoryMonitor);
        } catch (IOException e) {
            memoryMonitor.close();
            serverChannel.close().awaitUninterruptibly();
            bossGroup.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
            workerGroup.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
            throw e;
        }
    }

    /** Recovers the data directory and starts listening. */
    public static AmqpServer start(ServerConfig config) throws IOException {
        Engine engine = Engine.start(config);
        try {
            AmqpServer server = new AmqpServer(engine);
            log.info("Holdfast {} listening for AMQP 0-9-1 on {}, data in {}", Version.VERSION,
                    server.serverChannel.localAddress(), config.dataDir().toAbsolutePath());
            return server;
        } catch (IOException | RuntimeException e) {
            engine.close();
            throw e;
        }
    }

    public int port() {
        return ((InetSocketAddress) serverChannel.localAddress()).getPort();
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
        return alarms;
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
        return connections.size();
    }

    @Override
    public void close() throws IOException {
        if (management != null) {
            management.close();
        }
        memoryMonitor.close();
        serverChannel.close().awaitUninterruptibly();
        for (AmqpConnection c : connections) {
            c.forceClose("broker forced connection closure with reason 'shutdown'");
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
        while (!connections.isEmpty() && System.nanoTime() < deadline) {
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        workerGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
        bossGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
        engine.close();
        log.info("Holdfast stopped cleanly");
    }
}
