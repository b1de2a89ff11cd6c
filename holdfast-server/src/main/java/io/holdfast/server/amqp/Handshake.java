package io.holdfast.server.amqp;

import io.holdfast.protocol.FieldTable;
import io.holdfast.protocol.FrameType;
import io.holdfast.protocol.LongString;
import io.holdfast.protocol.Method.ConnectionStart;
import io.holdfast.protocol.Method.ConnectionStartOk;
import io.holdfast.protocol.Method.ConnectionTune;
import io.holdfast.protocol.Method.ConnectionTuneOk;
import io.holdfast.protocol.ProtocolException;
import io.holdfast.protocol.ReplyCode;
import io.holdfast.server.auth.Authenticator;
import io.holdfast.server.config.ServerConfig;
import io.holdfast.server.config.Version;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The server's side of connection negotiation, from connection.start to tune-ok: what the server
 * offers, the login, and the limits both sides agreed on. It sends nothing itself: {@link
 * AmqpConnection} sends what it returns and keeps the connection's state. Only that connection's
 * event loop may call it.
 */
final class Handshake {
    private static final String[] CAPABILITIES = {"publisher_confirms", "exchange_exchange_bindings",
            "basic.nack", "consumer_cancel_notify", "connection.blocked", "authentication_failure_close",
            "per_consumer_qos", "direct_reply_to"};

    private final ServerConfig config;
    private final Authenticator authenticator;
    private String user;
    private String clientId;
    private String certificateUser;
    private boolean clientUnderstandsLoginFailureClose;
    private int channelMax;
    private int frameMax;
    private int heartbeatSeconds;

    Handshake(ServerConfig config, Authenticator authenticator) {
        this.config = config;
        this.authenticator = authenticator;
    }

    /**
     * The connection.start that answers a good protocol header.
     *
     * @param certificateUser the user name from the client's verified TLS certificate, or null: EXTERNAL is
     *     offered only with one
     */
    ConnectionStart start(String certificateUser) {
        this.certificateUser = certificateUser;
        return new ConnectionStart(0, 9, serverProperties(),
                authenticator.offeredMechanisms(certificateUser != null).getBytes(StandardCharsets.UTF_8),
                "en_US".getBytes(StandardCharsets.UTF_8));
    }

    /**
     * Checks the login that start-ok carries. On refusal the caller closes the connection: with
     * connection.close if {@link #clientUnderstandsLoginFailureClose()}, else by closing the socket.
     */
    Authenticator.Result login(ConnectionStartOk ok, InetAddress peer) {
        clientUnderstandsLoginFailureClose = hasCapability(ok.clientProperties(), "authentication_failure_close");
        clientId = FieldTable.getString(ok.clientProperties(), "client_id");
        Authenticator.Result result = authenticator.authenticate(ok.mechanism(), ok.response(), peer,
                certificateUser);
        user = result.user();
        return result;
    }

    /**
     * Whether the client advertised {@code authentication_failure_close}. One that did not cannot tell a
     * refused login from any other connection.close during the handshake; as RabbitMQ does, it only
     * sees its socket closed.
     */
    boolean clientUnderstandsLoginFailureClose() {
        return clientUnderstandsLoginFailureClose;
    }

    /** The limits the server proposes, sent after a successful login. */
    ConnectionTune tune() {
        return new ConnectionTune(config.channelMax(), config.frameMax(), config.heartbeatSeconds());
    }

    /**
     * tune-ok: takes the client's choice, 0 meaning the server's value for channel_max and frame_max and
     * no heartbeats for heartbeat.
     *
     * @throws ProtocolException 530 for a frame_max below the minimum or a value above the server's
     */
    void tuned(ConnectionTuneOk tune) {
        int clientFrameMax = (int) Math.min(Integer.MAX_VALUE, tune.frameMax());
        if (clientFrameMax != 0 && clientFrameMax < FrameType.FRAME_MIN_SIZE) {
            throw new ProtocolException(ReplyCode.NOT_ALLOWED, "frame_max=" + clientFrameMax
                    + " < " + FrameType.FRAME_MIN_SIZE + " min size", tune.classId(), tune.methodId());
        }
        if (clientFrameMax > config.frameMax()) {
            throw new ProtocolException(ReplyCode.NOT_ALLOWED, "frame_max=" + clientFrameMax
                    + " > " + config.frameMax() + " max size", tune.classId(), tune.methodId());
        }
        if (tune.channelMax() > config.channelMax()) {
            throw new ProtocolException(ReplyCode.NOT_ALLOWED, "channel_max=" + tune.channelMax()
                    + " > " + config.channelMax() + " max", tune.classId(), tune.methodId());
        }
        frameMax = clientFrameMax == 0 ? config.frameMax() : clientFrameMax;
        channelMax = tune.channelMax() == 0 ? config.channelMax() : tune.channelMax();
        heartbeatSeconds = tune.heartbeat();
    }

    /** The {@code client_id} client property, if the client sent one (topic permissions' {@code {client_id}}). */
    String clientId() {
        return clientId;
    }

    /** The logged-in user; null before a successful {@link #login}. */
    String user() {
        return user;
    }

    int channelMax() {
        return channelMax;
    }

    int frameMax() {
        return frameMax;
    }

    /** The heartbeat interval from tune-ok; 0 for none. */
    int heartbeatSeconds() {
        return heartbeatSeconds;
    }

    private static boolean hasCapability(Map<String, Object> clientProperties, String capability) {
        return clientProperties.get("capabilities") instanceof Map<?, ?> caps
                && Boolean.TRUE.equals(caps.get(capability));
    }

    private static Map<String, Object> serverProperties() {
        Map<String, Object> caps = new LinkedHashMap<>();
        for (String c : CAPABILITIES) {
            caps.put(c, Boolean.TRUE);
        }
        Map<String, Object> props = new LinkedHashMap<>();
        props.put("capabilities", caps);
        props.put("product", LongString.of("Holdfast"));
        props.put("version", LongString.of(Version.VERSION));
        props.put("platform", LongString.of("Java " + System.getProperty("java.version")));
        props.put("cluster_name", LongString.of("holdfast"));
        props.put("copyright", LongString.of("Holdfast developers"));
        props.put("information", LongString.of("An AMQP 0-9-1 broker built for failure recovery"));
        return props;
    }
}
