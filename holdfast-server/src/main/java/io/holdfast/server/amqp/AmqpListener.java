package io.holdfast.server.amqp;

import io.holdfast.protocol.FrameDecoder;
import io.holdfast.protocol.FrameType;
import io.holdfast.server.alarms.ResourceAlarms;
import io.holdfast.server.config.TlsConfig;
import io.holdfast.server.engine.ClientConnections;
import io.holdfast.server.engine.Engine;
import io.holdfast.server.tls.Tls;
import io.holdfast.server.tls.TlsErrors;
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
import io.netty.handler.ssl.SslContext;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The AMQP 0-9-1 listener: Netty event loops do I/O only (framing, handshake, content assembly); the
 * {@link Engine}'s broker thread changes state. Its connections are the ones the {@link #alarms()} block
 * and unblock. Created, then {@link #bind}; {@link #close()} tells every client the broker is shutting
 * down (320 CONNECTION_FORCED) and waits briefly for them to go.
 */
public final class AmqpListener implements AutoCloseable, ClientConnections {
    private final Engine engine;
    private final Set<AmqpConnection> connections = ConcurrentHashMap.newKeySet();
    private final ResourceAlarms alarms = new ResourceAlarms(connections);
    private final EventLoopGroup bossGroup = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final EventLoopGroup workerGroup = new MultiThreadIoEventLoopGroup(
            Math.max(1, Runtime.getRuntime().availableProcessors() / 2), NioIoHandler.newFactory());
    private final ConnectionLimits limits;
    private Channel serverChannel;
    private Channel tlsChannel; // null without listeners.ssl.default

    public AmqpListener(Engine engine) {
        this.engine = engine;
        this.limits = new ConnectionLimits(engine.config().security(), () -> System.nanoTime() / 1_000_000);
    }

    /** All resource alarms combined: this listener's publishers are blocked while any is raised. */
    public ResourceAlarms alarms() {
        return alarms;
    }

    /** Starts listening on the configured address and port, and on the AMQPS one if there is one. */
    public void bind() throws IOException {
        var config = engine.config();
        serverChannel = bind(config.bindAddress(), config.port(), null);
        if (config.tls() != null) {
            TlsConfig tls = config.tls();
            SslContext context = Tls.serverContext(tls, "ssl_options", "AMQPS");
            tlsChannel = bind(tls.bindAddress() != null ? tls.bindAddress() : config.bindAddress(), tls.port(), context);
        }
    }

    private Channel bind(String address, int port, SslContext tls) throws IOException {
        ServerBootstrap b = new ServerBootstrap()
                .group(bossGroup, workerGroup)
                .channel(NioServerSocketChannel.class)
                .option(ChannelOption.SO_BACKLOG, 1024)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(512 * 1024, 2 * 1024 * 1024))
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        if (tls != null) {
                            ch.pipeline().addLast("tls", Tls.handler(tls, ch));
                            ch.pipeline().addLast("tls-errors", new TlsErrors("AMQPS", "a plain AMQP client"));
                        }
                        FrameDecoder decoder = new FrameDecoder(FrameType.FRAME_MIN_SIZE);
                        ch.pipeline().addLast("decoder", decoder);
                        ch.pipeline().addLast("amqp", new AmqpConnection(engine, decoder, connections, alarms, limits));
                    }
                });
        try {
            return b.bind(new InetSocketAddress(address, port)).sync().channel();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while binding", e);
        } catch (Exception e) {
            throw new IOException("cannot listen" + (tls != null ? " for AMQPS" : "") + " on " + address + ":" + port
                    + ": " + e.getMessage(), e);
        }
    }

    public InetSocketAddress localAddress() {
        return (InetSocketAddress) serverChannel.localAddress();
    }

    /** The AMQPS listener's address, or null without one. */
    public InetSocketAddress tlsAddress() {
        return tlsChannel == null ? null : (InetSocketAddress) tlsChannel.localAddress();
    }

    /** Client connections whose socket is open, handshaking or not. Any thread. */
    public int connectionCount() {
        return connections.size();
    }

    /**
     * Ends every connection on {@code vhost} (320 CONNECTION_FORCED, its unacked deliveries returned first),
     * then runs {@code then} on the broker thread, where nothing of the vhost is in use any more: for vhost
     * deletion. A connection still opening finds the vhost gone (530). Any thread.
     */
    public void closeVirtualHost(String vhost, Runnable then) {
        engine.loop().execute(() -> {
            for (AmqpConnection c : connections) {
                Session s = c.sessionForBrokerThread();
                if (s != null && vhost.equals(s.vhost) && !s.closed()) {
                    s.close();
                    c.forceClose("vhost '" + vhost + "' is deleted");
                }
            }
            then.run();
        });
    }

    @Override
    public List<ClientConnections.Info> list() {
        List<ClientConnections.Info> out = new ArrayList<>();
        for (AmqpConnection c : connections) {
            Session s = c.sessionForBrokerThread();
            if (s != null && s.vhost != null && !s.closed()) {
                out.add(info(c, s));
            }
        }
        return out;
    }

    private static ClientConnections.Info info(AmqpConnection c, Session s) {
        InetSocketAddress peer = c.peerAddress();
        return new ClientConnections.Info(c.name(), s.user, s.vhost, peer.getAddress().getHostAddress(),
                peer.getPort(), s.channelCount());
    }

    @Override
    public List<ClientConnections.ChannelInfo> channels() {
        List<ClientConnections.ChannelInfo> out = new ArrayList<>();
        for (AmqpConnection c : connections) {
            Session s = c.sessionForBrokerThread();
            if (s != null && s.vhost != null && !s.closed()) {
                ClientConnections.Info connection = info(c, s);
                s.forEachChannel(ch -> {
                    if (ch.state() != null) {
                        out.add(new ClientConnections.ChannelInfo(connection, ch.number(), ch.confirmMode(),
                                ch.transactional(), ch.unconfirmed(), ch.uncommitted(), ch.state()));
                    }
                });
            }
        }
        return out;
    }

    @Override
    public boolean close(String name, String reason) {
        for (AmqpConnection c : connections) {
            Session s = c.sessionForBrokerThread();
            if (s != null && s.vhost != null && !s.closed() && c.name().equals(name)) {
                s.close();
                c.forceClose(reason);
                return true;
            }
        }
        return false;
    }

    /** Stops accepting, closes every connection with 320 (up to 3 s for them to go), stops the event loops. */
    @Override
    public void close() {
        if (serverChannel != null) {
            serverChannel.close().awaitUninterruptibly();
        }
        if (tlsChannel != null) {
            tlsChannel.close().awaitUninterruptibly();
        }
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
    }
}
