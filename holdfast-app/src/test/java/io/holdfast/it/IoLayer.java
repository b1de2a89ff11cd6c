package io.holdfast.it;

import com.rabbitmq.client.ConnectionFactory;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.util.concurrent.DefaultThreadFactory;

/**
 * The Java client's two IO layers, for transport tests that must pass under both: the classic
 * blocking socket one (the default) and the Netty one ({@code ConnectionFactory.netty()}, amqp-client
 * 5.27 and later), which reads with a timeout of one heartbeat interval.
 */
enum IoLayer {
    SOCKET,
    NETTY;

    /**
     * One event loop group for every Netty-IO connection of the test JVM: without it the client makes
     * and tears down a group per connection, which is slow. Daemon threads, so it needs no shutdown.
     */
    private static final EventLoopGroup NETTY_CLIENT_LOOPS = new MultiThreadIoEventLoopGroup(2,
            new DefaultThreadFactory("netty-io-client", true), NioIoHandler.newFactory());

    /** {@code f} set to use this IO layer. */
    ConnectionFactory use(ConnectionFactory f) {
        if (this == NETTY) {
            f.netty().eventLoopGroup(NETTY_CLIENT_LOOPS);
        }
        return f;
    }
}
