package io.holdfast.server.amqp;

import io.holdfast.protocol.BadProtocolHeader;
import io.holdfast.protocol.ContentHeader;
import io.holdfast.protocol.DecodeError;
import io.holdfast.protocol.Frame;
import io.holdfast.protocol.FrameDecoder;
import io.holdfast.protocol.FrameType;
import io.holdfast.protocol.FrameWriter;
import io.holdfast.protocol.Method.*;
import io.holdfast.protocol.Method;
import io.holdfast.protocol.ProtocolException;
import io.holdfast.protocol.ProtocolHeader;
import io.holdfast.protocol.ReplyCode;
import io.holdfast.server.alarms.ResourceAlarms;
import io.holdfast.server.auth.Authenticator;
import io.holdfast.server.config.ServerConfig;
import io.holdfast.server.config.Version;
import io.holdfast.server.engine.Engine;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.timeout.IdleState;
import io.netty.handler.timeout.IdleStateEvent;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client connection on its Netty event loop: the handshake (start, tune, open; negotiated by
 * {@link Handshake}), heartbeats ({@link Heartbeats}), update-secret, connection-level errors and
 * closing, channel open/close bookkeeping and content assembly. Channel methods and complete publishes
 * go to the broker thread as tasks; this class never touches broker state. Every method runs on the
 * connection's event loop unless it says otherwise.
 */
final class AmqpConnection extends ChannelInboundHandlerAdapter implements ResourceAlarms.Listener {
    private static final Logger log = LoggerFactory.getLogger(AmqpConnection.class);
    /** Publishes waiting on the broker thread above which we stop reading from this client. */
    private static final int PUBLISH_HIGH_WATER = 2000;
    private static final int PUBLISH_LOW_WATER = 500;
    private static final long CLOSE_OK_TIMEOUT_MILLIS = 3000;

    private enum State { AWAIT_HEADER, AWAIT_START_OK, AWAIT_LOGIN_VERDICT, AWAIT_TUNE_OK, AWAIT_OPEN, OPEN, CLOSING, CLOSED }

    private final Engine engine;
    private final java.util.Set<AmqpConnection> registry;
    private final ResourceAlarms alarms;
    private final ServerConfig config;
    private final FrameDecoder decoder;
    private final Handshake handshake;
    private final long id;
    private final Map<Integer, InboundChannel> channels = new HashMap<>();
    private final AtomicInteger publishesInFlight = new AtomicInteger();
    private ChannelHandlerContext ctx;
    private State state = State.AWAIT_HEADER;
    private Session session;
    private ScheduledFuture<?> handshakeTimeout;
    /** Closes the socket if the client does not answer our connection.close; cancelled if it goes first. */
    private ScheduledFuture<?> forcedClose;
    private volatile boolean readingPaused;
    /** This connection has published, so a resource alarm blocks it (RabbitMQ blocks publishers only). */
    private boolean hasPublished;
    private boolean blockedByAlarm;
    private final ConnectionLimits limits;
    /** Counted in {@link ConnectionLimits#tryOpen}: to be uncounted when the socket goes. */
    private boolean countedOpen;

    AmqpConnection(Engine engine, FrameDecoder decoder, java.util.Set<AmqpConnection> registry,
                   ResourceAlarms alarms, ConnectionLimits limits) {
        this.limits = limits;
        this.engine = engine;
        this.alarms = alarms;
        this.registry = registry;
        this.config = engine.config();
        this.decoder = decoder;
        this.handshake = new Handshake(config, engine.authenticator());
        this.id = engine.nextConnectionId();
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        if (!limits.admitSocket(ctx.channel().remoteAddress())) {
            state = State.CLOSED;
            ctx.close();
            return;
        }
        registry.add(this);
        handshakeTimeout = ctx.executor().schedule(() -> {
            if (state != State.OPEN && state != State.CLOSED) {
                log.info("closing connection {} from {}: handshake not completed within {} ms", id, remote(),
                        config.handshakeTimeoutMillis());
                // Through closeSocket, so that the close is not then logged as the client's doing.
                closeSocket();
            }
        }, config.handshakeTimeoutMillis(), TimeUnit.MILLISECONDS);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof Frame f) {
            try {
                if (state != State.CLOSED) {
                    onFrame(f);
                }
            } catch (ProtocolException e) {
                protocolError(e, f.channel());
            } finally {
                f.release();
            }
        } else if (msg == ProtocolHeader.ACCEPTED) {
            state = State.AWAIT_START_OK;
            // By now the TLS handshake (if any) is done: the header came through it.
            send(0, handshake.start(PeerCertificate.userName(ctx.pipeline().get(SslHandler.class),
                    config.tls() != null && config.tls().verifyPeer(), config.security())));
        } else if (msg instanceof BadProtocolHeader) {
            state = State.CLOSED;
            ctx.writeAndFlush(Unpooled.wrappedBuffer(FrameWriter.PROTOCOL_HEADER)).addListener(ChannelFutureListener.CLOSE);
        } else if (msg instanceof DecodeError e) {
            hardError(e.replyCode(), ReplyCode.name(e.replyCode()) + " - " + e.text(), 0, 0);
        }
    }

    private void onFrame(Frame f) {
        if (state == State.CLOSING) {
            // After connection.close only close-ok (or a crossing close) matters.
            if (f.type() == FrameType.METHOD && f.channel() == 0) {
                Method m = Method.decode(f.payload());
                if (m instanceof ConnectionCloseOk || m instanceof ConnectionClose) {
                    if (m instanceof ConnectionClose) {
                        send(0, new ConnectionCloseOk());
                    }
                    closeSocket();
                }
            }
            return;
        }
        if (f.type() == FrameType.HEARTBEAT) {
            return;
        }
        if (f.channel() == 0) {
            if (f.type() != FrameType.METHOD) {
                throw new ProtocolException(ReplyCode.UNEXPECTED_FRAME, "content frame on channel 0");
            }
            onConnectionMethod(Method.decode(f.payload()));
            return;
        }
        if (state != State.OPEN) {
            throw new ProtocolException(ReplyCode.COMMAND_INVALID, "frame on channel " + f.channel()
                    + " before the connection was opened");
        }
        InboundChannel ch = channels.get(f.channel());
        switch (f.type()) {
            case FrameType.METHOD -> onChannelMethod(f.channel(), ch, Method.decode(f.payload()));
            case FrameType.HEADER -> onContentHeader(f.channel(), ch, f.payload());
            case FrameType.BODY -> onContentBody(f.channel(), ch, f.payload());
            default -> throw new ProtocolException(ReplyCode.FRAME_ERROR, "unknown frame type " + f.type());
        }
    }

    // ---- connection class ----

    private void onConnectionMethod(Method m) {
        switch (state) {
            case AWAIT_START_OK -> {
                if (!(m instanceof ConnectionStartOk ok)) {
                    throw unexpected(m, "connection.start-ok");
                }
                InetAddress peer = ((InetSocketAddress) ctx.channel().remoteAddress()).getAddress();
                // Read before this login counts: the delay comes from earlier failures from this address.
                long delay = engine.authenticator().loginDelayMillis(peer);
                Authenticator.Result login = handshake.login(ok, peer);
                if (delay == 0) {
                    answerLogin(login, ok);
                } else {
                    state = State.AWAIT_LOGIN_VERDICT;
                    ctx.executor().schedule(() -> {
                        if (state == State.AWAIT_LOGIN_VERDICT) {
                            answerLogin(login, ok);
                        }
                    }, delay, TimeUnit.MILLISECONDS);
                }
            }
            case AWAIT_TUNE_OK -> {
                if (!(m instanceof ConnectionTuneOk tune)) {
                    throw unexpected(m, "connection.tune-ok");
                }
                handshake.tuned(tune);
                decoder.setMaxFrameSize(handshake.frameMax());
                if (handshake.heartbeatSeconds() > 0) {
                    ctx.pipeline().addBefore(ctx.name(), "heartbeats", new Heartbeats(handshake.heartbeatSeconds()));
                }
                state = State.AWAIT_OPEN;
            }
            case AWAIT_OPEN -> {
                if (!(m instanceof ConnectionOpen open)) {
                    throw unexpected(m, "connection.open");
                }
                String overLimit = limits.tryOpen(remote());
                if (overLimit != null) { // as a hard error, but ConnectionLimits logs it, once per burst
                    log.debug("closing connection {} from {}: {}", id, remote(), overLimit);
                    state = State.CLOSING;
                    send(0, new ConnectionClose(ReplyCode.NOT_ALLOWED, replyText("NOT_ALLOWED - " + overLimit),
                            open.classId(), open.methodId()));
                    closeSocket();
                    return;
                }
                countedOpen = true;
                state = State.OPEN;
                handshakeTimeout.cancel(false);
                Outbox outbox = new Outbox(ctx.channel(), engine.loop(), handshake.frameMax());
                session = new Session(engine, id, outbox, this, handshake.user(), handshake.clientId());
                Session s = session;
                engine.loop().execute(() -> s.open(open.virtualHost()));
                log.info("connection {} from {} opened by user '{}' on vhost '{}'", id, remote(), handshake.user(),
                        open.virtualHost());
            }
            case OPEN -> {
                if (m instanceof ConnectionClose) {
                    state = State.CLOSING;
                    Session s = session;
                    engine.loop().execute(s::close);
                    send(0, new ConnectionCloseOk());
                    closeSocket();
                } else if (m instanceof ConnectionUpdateSecret u) {
                    updateSecret(u);
                } else {
                    throw new ProtocolException(ReplyCode.COMMAND_INVALID, "method " + m.name()
                            + " is not allowed on an open connection", m.classId(), m.methodId());
                }
            }
            default -> throw unexpected(m, "the protocol header");
        }
    }

    private void answerLogin(Authenticator.Result login, ConnectionStartOk ok) {
        if (!login.ok()) {
            refuseLogin(login, ok);
            return;
        }
        state = State.AWAIT_TUNE_OK;
        send(0, handshake.tune());
    }

    /**
     * A refused login. A client that advertised authentication_failure_close gets connection.close
     * (403) and a grace period to answer it; any other only sees its socket closed, as RabbitMQ does.
     */
    private void refuseLogin(Authenticator.Result login, ConnectionStartOk ok) {
        if (login.logged()) {
            log.debug("connection {} from {}: login refused: {}", id, remote(), login.text());
        } else {
            log.warn("connection {} from {}: login refused: {}", id, remote(), login.text());
        }
        if (!handshake.clientUnderstandsLoginFailureClose()) {
            closeSocket();
            return;
        }
        state = State.CLOSING;
        send(0, new ConnectionClose(login.replyCode(), replyText(login.text()), ok.classId(), ok.methodId()));
        scheduleForcedClose();
    }

    /**
     * connection.update-secret: a client renewing its credentials (a rotated password) without
     * reconnecting. The new secret must be the user's password now; otherwise the connection closes with
     * RabbitMQ's 530 and text.
     */
    private void updateSecret(ConnectionUpdateSecret u) {
        String user = handshake.user();
        if (!engine.authenticator().acceptsSecret(user, u.newSecret())) {
            log.warn("connection {} from {}: secret update was refused for user '{}'", id, remote(), user);
            throw new ProtocolException(ReplyCode.NOT_ALLOWED, "New secret was refused by one of the backends",
                    u.classId(), u.methodId());
        }
        send(0, new ConnectionUpdateSecretOk());
        log.info("connection {} from {}: user '{}' updated secret, reason: {}", id, remote(), user, u.reason());
    }

    // ---- channels ----

    private void onChannelMethod(int number, InboundChannel ch, Method m) {
        if (ch == null) {
            if (m instanceof ChannelOpen) {
                if (number > handshake.channelMax()) {
                    // 530 as RabbitMQ answers a channel beyond the negotiated channel_max.
                    throw new ProtocolException(ReplyCode.NOT_ALLOWED, "channel number " + number
                            + " exceeds the negotiated channel_max " + handshake.channelMax(), m.classId(),
                            m.methodId());
                }
                channels.put(number, new InboundChannel(number));
                Session s = session;
                engine.loop().execute(() -> s.openChannel(number));
                return;
            }
            if (m instanceof ChannelCloseOk) {
                return;
            }
            throw new ProtocolException(ReplyCode.CHANNEL_ERROR, "expected 'channel.open' on channel " + number
                    + ", got " + m.name(), m.classId(), m.methodId());
        }
        if (m instanceof ChannelClose || m instanceof ChannelCloseOk) {
            channels.remove(number);
            Session s = session;
            if (m instanceof ChannelClose) {
                engine.loop().execute(() -> s.clientClosedChannel(number));
            } else {
                engine.loop().execute(() -> s.channelCloseOk(number));
            }
            return;
        }
        if (ch.closing) {
            return;
        }
        if (ch.publish != null) {
            String expected = ch.expectingBody() ? "content body" : "content header";
            throw new ProtocolException(ReplyCode.UNEXPECTED_FRAME, "expected " + expected + " for class 60, got "
                    + m.name() + " on channel " + number, m.classId(), m.methodId());
        }
        if (m instanceof ChannelOpen) {
            throw new ProtocolException(ReplyCode.CHANNEL_ERROR, "second 'channel.open' seen on channel " + number,
                    m.classId(), m.methodId());
        }
        if (m instanceof BasicPublish p) {
            ch.publish = p;
            return;
        }
        if (m.hasContent() || m.classId() == ConnectionStart.CLASS_ID) {
            throw new ProtocolException(ReplyCode.COMMAND_INVALID, "method " + m.name()
                    + " is not allowed from a client on channel " + number, m.classId(), m.methodId());
        }
        Session s = session;
        engine.loop().execute(() -> s.method(number, m));
    }

    private void onContentHeader(int number, InboundChannel ch, ByteBuf payload) {
        if (ch == null) {
            throw new ProtocolException(ReplyCode.CHANNEL_ERROR, "content header on unopened channel " + number);
        }
        if (ch.closing) {
            return;
        }
        if (!ch.expectingHeader()) {
            throw new ProtocolException(ReplyCode.UNEXPECTED_FRAME, "content header frame on channel " + number
                    + " without a basic.publish before it");
        }
        ContentHeader h = ContentHeader.decode(payload);
        if (h.classId() != BasicPublish.CLASS_ID) {
            throw new ProtocolException(ReplyCode.UNEXPECTED_FRAME, "content header for class " + h.classId()
                    + " after basic.publish");
        }
        if (h.bodySize() > config.maxMessageBytes()) {
            // A soft error, as RabbitMQ: the channel closes, the connection and everyone else go on.
            ch.closing = true;
            ch.reset();
            long size = h.bodySize();
            Session s = session;
            engine.loop().execute(() -> s.channelError(number, ReplyCode.PRECONDITION_FAILED, "message size "
                    + size + " is larger than configured max size " + config.maxMessageBytes(),
                    BasicPublish.CLASS_ID, BasicPublish.METHOD_ID));
            return;
        }
        ch.startContent(h.bodySize(), h.rawProperties());
        if (ch.contentComplete()) {
            submitPublish(ch);
        }
    }

    private void onContentBody(int number, InboundChannel ch, ByteBuf payload) {
        if (ch == null) {
            throw new ProtocolException(ReplyCode.CHANNEL_ERROR, "content body on unopened channel " + number);
        }
        if (ch.closing) {
            return;
        }
        if (!ch.expectingBody()) {
            throw new ProtocolException(ReplyCode.UNEXPECTED_FRAME, "content body frame on channel " + number
                    + " without a content header before it");
        }
        if (!ch.appendBody(payload)) {
            throw new ProtocolException(ReplyCode.FRAME_ERROR, "content body on channel " + number
                    + " is longer than the " + ch.bodySize + " bytes its header declared");
        }
        if (ch.contentComplete()) {
            submitPublish(ch);
        }
    }

    private void submitPublish(InboundChannel ch) {
        BasicPublish p = ch.publish;
        byte[] props = ch.properties;
        byte[] body = ch.takeBody();
        int number = ch.number;
        Session s = session;
        hasPublished = true;
        String alarm = alarms.reason();
        if (!blockedByAlarm && alarm != null) {
            block(alarm);
        }
        if (publishesInFlight.incrementAndGet() >= PUBLISH_HIGH_WATER && !readingPaused) {
            // Backpressure: the broker thread is behind; stop reading until it catches up.
            readingPaused = true;
            updateAutoRead();
        }
        engine.loop().execute(() -> {
            try {
                s.publish(number, p, props, body);
            } finally {
                if (publishesInFlight.decrementAndGet() <= PUBLISH_LOW_WATER && readingPaused) {
                    ctx.executor().execute(this::resumeReading);
                }
            }
        });
    }

    private void resumeReading() {
        if (readingPaused && publishesInFlight.get() <= PUBLISH_LOW_WATER) {
            readingPaused = false;
            updateAutoRead();
        }
    }

    private void updateAutoRead() {
        ctx.channel().config().setAutoRead(!readingPaused && !blockedByAlarm);
    }

    /** Any thread: a resource alarm was raised with none before, or the last one cleared. */
    @Override
    public void resourceAlarmChanged(boolean alarm, String reason) {
        ctx.executor().execute(() -> {
            if (alarm && hasPublished && !blockedByAlarm) {
                block(reason);
            } else if (!alarm && blockedByAlarm) {
                blockedByAlarm = false;
                if (state == State.OPEN) {
                    send(0, new ConnectionUnblocked());
                }
                updateAutoRead();
            }
        });
    }

    /** Sends connection.blocked and stops reading: the publisher waits, its messages stay with it. */
    private void block(String reason) {
        blockedByAlarm = true;
        if (state == State.OPEN) {
            send(0, new ConnectionBlocked(reason));
        }
        updateAutoRead();
    }

    /** Broker thread: a channel is being closed by the server; drop its frames until close-ok. */
    void channelClosingFromBroker(int number) {
        ctx.executor().execute(() -> {
            InboundChannel ch = channels.get(number);
            if (ch != null) {
                ch.closing = true;
                ch.reset();
            }
        });
    }

    /** Any thread: a hard error the broker found; closes the connection. */
    void hardErrorFromBroker(int code, String text, int classId, int methodId) {
        ctx.executor().execute(() -> hardError(code, text, classId, methodId));
    }

    // ---- errors and closing ----

    private void protocolError(ProtocolException e, int channel) {
        String text = ReplyCode.name(e.replyCode()) + " - " + e.getMessage();
        if (ReplyCode.isHardError(e.replyCode()) || channel == 0 || state != State.OPEN) {
            hardError(e.replyCode(), text, e.classId(), e.methodId());
        } else {
            InboundChannel ch = channels.get(channel);
            if (ch != null) {
                ch.closing = true;
                ch.reset();
            }
            Session s = session;
            engine.loop().execute(() -> s.channelError(channel, e.replyCode(), e.getMessage(), e.classId(),
                    e.methodId()));
        }
    }

    private void hardError(int code, String text, int classId, int methodId) {
        if (state == State.CLOSING || state == State.CLOSED) {
            return;
        }
        log.warn("closing connection {} from {}: {}", id, remote(), text);
        boolean handshaking = state != State.OPEN;
        state = State.CLOSING;
        if (session != null) {
            Session s = session;
            engine.loop().execute(s::close);
        }
        send(0, new ConnectionClose(code, replyText(text), classId, methodId));
        if (handshaking && code != ReplyCode.ACCESS_REFUSED) {
            closeSocket();
        } else {
            scheduleForcedClose();
        }
    }

    /**
     * The broker thread's side of this connection once connection.open reached it, else null. For the broker
     * thread only: the field is written before the task that opens the session is queued to that thread.
     */
    Session sessionForBrokerThread() {
        return session;
    }

    /** The client's address; any thread once connected (the socket's addresses do not change). */
    InetSocketAddress peerAddress() {
        return (InetSocketAddress) ctx.channel().remoteAddress();
    }

    /** RabbitMQ's name for a connection, {@code "peer_host:peer_port -> host:port"}; any thread once connected. */
    String name() {
        InetSocketAddress local = (InetSocketAddress) ctx.channel().localAddress();
        InetSocketAddress peer = peerAddress();
        return peer.getAddress().getHostAddress() + ":" + peer.getPort() + " -> " + local.getAddress().getHostAddress()
                + ":" + local.getPort();
    }

    /** Broker shutdown: tells the client why (320) and closes. Any thread. */
    void forceClose(String reason) {
        ctx.executor().execute(() -> {
            if (state == State.OPEN) {
                hardError(ReplyCode.CONNECTION_FORCED, "CONNECTION_FORCED - " + reason, 0, 0);
            } else {
                closeSocket();
            }
        });
    }

    private void scheduleForcedClose() {
        forcedClose = ctx.executor().schedule(this::closeSocket, CLOSE_OK_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS);
    }

    private void closeSocket() {
        state = State.CLOSED;
        ctx.flush();
        ctx.close();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (state != State.CLOSED && state != State.CLOSING) {
            log.info("connection {} from {} closed by the client without connection.close", id, remote());
        }
        state = State.CLOSED;
        if (countedOpen) {
            countedOpen = false;
            limits.closed();
        }
        // A pending timer would keep this connection, and any half-assembled message, alive.
        if (handshakeTimeout != null) {
            handshakeTimeout.cancel(false);
        }
        if (forcedClose != null) {
            forcedClose.cancel(false);
        }
        channels.clear();
        if (session != null) {
            Session s = session;
            engine.loop().execute(s::close);
        }
        registry.remove(this);
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (ctx.channel().isWritable() && session != null) {
            Session s = session;
            engine.loop().execute(s::writable);
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof IdleStateEvent e && e.state() == IdleState.READER_IDLE) {
            log.warn("closing connection {} from {}: missed heartbeats from client", id, remote());
            closeSocket();
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof java.io.IOException) {
            log.debug("connection {} from {}: {}", id, remote(), cause.toString());
            closeSocket();
            return;
        }
        // Bad input arrives as a ProtocolException or DecodeError; anything else is our bug. Say so
        // loudly, and to the client (541, as RabbitMQ), and still let it cost only this connection.
        log.error("connection {} from {}: unexpected error, closing the connection", id, remote(), cause);
        if (state == State.CLOSING || state == State.CLOSED) {
            closeSocket();
        } else {
            hardError(ReplyCode.INTERNAL_ERROR, "INTERNAL_ERROR - " + cause, 0, 0);
        }
    }

    private void send(int channel, Method m) {
        ByteBuf b = ctx.alloc().buffer(128);
        FrameWriter.writeMethod(b, channel, m);
        ctx.writeAndFlush(b, ctx.voidPromise());
    }

    private static ProtocolException unexpected(Method m, String expected) {
        return new ProtocolException(ReplyCode.COMMAND_INVALID, "expected " + expected + ", got " + m.name(),
                m.classId(), m.methodId());
    }

    private String remote() {
        return String.valueOf(ctx.channel().remoteAddress());
    }

    /**
     * {@code text} as it fits a reply-text, a short string: longer than 255 bytes of UTF-8 (a name the
     * client sent can make it so), it is cut to 252 bytes and "..." as RabbitMQ does, never inside a
     * character. Any thread.
     */
    static String replyText(String text) {
        byte[] bytes = utf8(text);
        if (bytes.length <= 255) {
            return text;
        }
        int end = 252;
        while ((bytes[end] & 0xC0) == 0x80) {
            end--;
        }
        return new String(bytes, 0, end, java.nio.charset.StandardCharsets.UTF_8) + "...";
    }

    private static byte[] utf8(String s) {
        return s.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    }
}
