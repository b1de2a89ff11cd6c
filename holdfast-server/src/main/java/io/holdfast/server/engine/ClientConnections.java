package io.holdfast.server.engine;

import io.holdfast.core.ChannelState;
import java.util.List;

/**
 * The open AMQP client connections as operators see and end them (the management API's
 * {@code /api/connections}). Implemented by the AMQP listener; broker thread only, where each connection's
 * session lives.
 */
public interface ClientConnections {
    /**
     * One open connection, with RabbitMQ's name for it, {@code "peer_host:peer_port -> host:port"}.
     *
     * @param channels its open channels
     */
    record Info(String name, String user, String vhost, String peerHost, int peerPort, int channels) {}

    /**
     * One open channel of an open connection, with RabbitMQ's name for it, {@code "<connection name> (<number>)"}.
     *
     * @param confirm       in confirm mode
     * @param transactional in tx mode
     * @param unconfirmed   publishes still awaiting their confirm
     * @param uncommitted   publishes in the open transaction, waiting for tx.commit (0 outside tx mode)
     * @param state         the core's side of it: prefetch, unacked deliveries, consumers (broker thread only)
     */
    record ChannelInfo(Info connection, int number, boolean confirm, boolean transactional, int unconfirmed,
                       int uncommitted, ChannelState state) {
        public String name() {
            return connection.name() + " (" + number + ")";
        }
    }

    /** The connections that finished their handshake, in no particular order. */
    List<Info> list();

    /** The open channels of those connections, in no particular order. */
    List<ChannelInfo> channels();

    /**
     * Closes the connection named {@code name} with 320 {@code CONNECTION_FORCED - reason} (its unacked
     * deliveries go back to their queues first); false if there is none.
     */
    boolean close(String name, String reason);
}
