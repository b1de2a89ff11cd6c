package io.holdfast.server.amqp;

import io.holdfast.protocol.Method;
import io.holdfast.protocol.ReplyCode;
import io.holdfast.server.engine.Engine;
import java.util.HashMap;
import java.util.Map;

/**
 * The broker thread's side of one client connection: its channels and its outbox. Every method runs
 * on the broker thread; the Netty side ({@link AmqpConnection}) reaches it through tasks.
 */
final class Session {
    final Engine engine;
    final long id;
    final Outbox outbox;
    final AmqpConnection connection;
    final String user;
    /** The client's {@code client_id} client property (for topic permissions' {@code {client_id}}), or null. */
    final String clientId;
    String vhost;
    private final Map<Integer, ServerChannel> channels = new HashMap<>();
    private boolean closed;

    Session(Engine engine, long id, Outbox outbox, AmqpConnection connection, String user, String clientId) {
        this.engine = engine;
        this.id = id;
        this.outbox = outbox;
        this.connection = connection;
        this.user = user;
        this.clientId = clientId;
    }

    /**
     * connection.open: answers open-ok, or closes the connection (530) if the vhost does not exist or the user
     * has no permissions in it, as RabbitMQ does.
     */
    void open(String requestedVhost) {
        if (engine.broker().virtualHost(requestedVhost) == null) {
            connection.hardErrorFromBroker(ReplyCode.NOT_ALLOWED, "NOT_ALLOWED - vhost '" + requestedVhost
                    + "' not found", Method.ConnectionOpen.CLASS_ID, Method.ConnectionOpen.METHOD_ID);
            return;
        }
        if (engine.access().permission(user, requestedVhost).isEmpty()) {
            connection.hardErrorFromBroker(ReplyCode.NOT_ALLOWED, "NOT_ALLOWED - access to vhost '" + requestedVhost
                    + "' refused for user '" + user + "'", Method.ConnectionOpen.CLASS_ID, Method.ConnectionOpen.METHOD_ID);
            return;
        }
        String refused = engine.limits().openConnection(user, requestedVhost);
        if (refused != null) {
            connection.hardErrorFromBroker(ReplyCode.NOT_ALLOWED, "NOT_ALLOWED - " + refused,
                    Method.ConnectionOpen.CLASS_ID, Method.ConnectionOpen.METHOD_ID);
            return;
        }
        vhost = requestedVhost;
        outbox.method(0, new Method.ConnectionOpenOk(""));
    }

    void openChannel(int number) {
        if (closed || vhost == null) {
            return;
        }
        String refused = engine.limits().openChannel(user);
        if (refused != null) {
            connection.hardErrorFromBroker(ReplyCode.NOT_ALLOWED, "NOT_ALLOWED - " + refused,
                    Method.ChannelOpen.CLASS_ID, Method.ChannelOpen.METHOD_ID);
            return;
        }
        ServerChannel ch = new ServerChannel(this, number);
        channels.put(number, ch);
        ch.open();
    }

    void method(int number, Method m) {
        ServerChannel ch = channels.get(number);
        if (ch != null && !closed) {
            ch.handle(m);
        }
    }

    void publish(int number, Method.BasicPublish m, byte[] properties, byte[] body) {
        ServerChannel ch = channels.get(number);
        if (ch != null && !closed) {
            ch.publish(m, properties, body);
        }
    }

    /** The client closed the channel: release it and answer close-ok. */
    void clientClosedChannel(int number) {
        ServerChannel ch = channels.remove(number);
        if (ch != null) {
            release(ch);
        }
        if (!closed) {
            outbox.method(number, new Method.ChannelCloseOk());
        }
    }

    /** The client acknowledged our channel.close: the channel number is free again. */
    void channelCloseOk(int number) {
        ServerChannel ch = channels.remove(number);
        if (ch != null) {
            release(ch);
        }
    }

    /** A soft error found on the Netty side (e.g. an oversized message): closes the channel. */
    void channelError(int number, int code, String text, int classId, int methodId) {
        ServerChannel ch = channels.get(number);
        if (ch != null) {
            ch.fail(code, text, classId, methodId);
        }
    }

    /** Each open channel, for the management API's channel list. */
    void forEachChannel(java.util.function.Consumer<ServerChannel> action) {
        channels.values().forEach(action);
    }

    void writable() {
        for (ServerChannel ch : channels.values()) {
            ch.writableAgain();
        }
    }

    /** The connection is over (closed by either side, or lost): requeue, cancel, drop exclusive queues. */
    void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (ServerChannel ch : channels.values()) {
            release(ch);
        }
        channels.clear();
        if (vhost != null) {
            engine.limits().connectionClosed(user, vhost);
        }
        engine.broker().closeConnection(id);
        engine.afterCommand();
    }

    private void release(ServerChannel ch) {
        ch.release();
        engine.limits().channelClosed(user);
    }

    /** Open channels. */
    int channelCount() {
        return channels.size();
    }

    boolean closed() {
        return closed;
    }
}
