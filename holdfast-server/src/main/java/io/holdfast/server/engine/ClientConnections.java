package io.holdfast.server.engine;

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

    /** The connections that finished their handshake, in no particular order. */
    List<Info> list();

    /**
     * Closes the connection named {@code name} with 320 {@code CONNECTION_FORCED - reason} (its unacked
     * deliveries go back to their queues first); false if there is none.
     */
    boolean close(String name, String reason);
}
