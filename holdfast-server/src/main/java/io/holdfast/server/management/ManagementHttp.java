package io.holdfast.server.management;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.holdfast.server.alarms.MemoryMonitor;
import io.holdfast.server.cluster.MetadataGroup;
import io.holdfast.server.config.ServerConfig;
import io.holdfast.server.config.TlsConfig;
import io.holdfast.server.engine.ClientConnections;
import io.holdfast.server.engine.Engine;
import io.holdfast.server.tls.Tls;
import io.holdfast.server.tls.TlsErrors;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.ssl.SslContext;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiConsumer;
import java.util.function.BooleanSupplier;
import java.util.function.IntSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The management HTTP listener on {@code management.tcp.ip}:{@code management.tcp.port}, on Netty's HTTP
 * codec: health, Prometheus metrics, and the read side of RabbitMQ's management API (see
 * {@link ManagementApi} for the paths). JSON through Jackson.
 *
 * <p>Errors are JSON {@code {"error":..., "reason":...}}: 404 for an unknown path or object, 405 (with
 * {@code Allow}) for a wrong method, 413 for a body over {@code management.http.max_body_size}, 503 if the broker thread does not answer.
 * Netty's one event loop thread does the I/O; handlers run on two threads of their own, never on Netty's or
 * the broker thread; broker state is read by a task on the broker thread ({@link Engine#query}), which gives
 * up after a few seconds rather than pile up scrapes behind a stuck broker. Health needs no broker thread.
 */
public final class ManagementHttp implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ManagementHttp.class);
    static final String JSON = "application/json";
    static final ObjectMapper MAPPER = new ObjectMapper();

    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final ExecutorService handlers;
    private final java.util.concurrent.ScheduledExecutorService sampler =
            Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "holdfast-management-rates");
                t.setDaemon(true);
                return t;
            });
    private final Routes routes;
    private final HttpAuth auth;
    private final int bodyBytesMax;
    private Channel listener;
    private Channel tlsListener; // null without management.ssl.port

    private ManagementHttp(Routes routes, HttpAuth auth, int bodyBytesMax) {
        this.routes = routes;
        this.auth = auth;
        this.bodyBytesMax = bodyBytesMax;
        AtomicInteger threads = new AtomicInteger();
        this.handlers = Executors.newFixedThreadPool(2, r -> {
            Thread t = new Thread(r, "holdfast-management-" + threads.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    /** Binds and starts serving, and logs where; null (logged too) if {@code management.enabled = false}. */
    /**
     * @param closeVirtualHost ends the AMQP connections on a vhost, then runs the given task on the broker
     *     thread (vhost deletion)
     * @param clientConnections the AMQP connections, to list and close
     */
    public static ManagementHttp startIfEnabled(ServerConfig config, Engine engine, HealthState health,
                                                IntSupplier connections, BooleanSupplier diskAlarm,
                                                MemoryMonitor memory, BiConsumer<String, Runnable> closeVirtualHost,
                                                ClientConnections clientConnections, MetadataGroup cluster)
            throws IOException {
        if (!config.managementEnabled()) {
            log.info("management HTTP is off (management.enabled = false)");
            return null;
        }
        ClusterApi clusterApi = new ClusterApi(cluster);
        MessageRates rates = new MessageRates(System::currentTimeMillis, () -> ManagementApi.brokerCounts(engine),
                () -> engine.query(ApiViews::queueCounts));
        Routes routes = new ManagementApi(engine, health, diskAlarm, memory,
                new BrokerMetrics(engine, health, connections, diskAlarm, memory, cluster,
                        config.prometheusPerObject()), clusterApi, rates).routes();
        clusterApi.addTo(routes);
        new AccessApi(engine, closeVirtualHost).addTo(routes);
        CoreClient core = new CoreClient(engine);
        new TopologyApi(engine, core).addTo(routes);
        new MessageApi(engine, core).addTo(routes);
        new DefinitionsApi(new Definitions(engine, core)).addTo(routes);
        new OverviewApi(engine, connections, clientConnections, rates).addTo(routes);
        new ConnectionsApi(engine, clientConnections).addTo(routes);
        new ChannelsApi(engine, clientConnections).addTo(routes);
        new QuarantineApi(engine, core).addTo(routes);
        new DashboardFiles().addTo(routes);
        ManagementHttp http = new ManagementHttp(routes, new HttpAuth(engine, config.managementHealthOpen()),
                config.managementBodyBytesMax());
        http.sampleEvery(rates, MessageRates.INTERVAL_MILLIS);
        String where = config.managementBindAddress() + ":" + config.managementPort();
        try {
            http.listener = http.bind(new InetSocketAddress(config.managementBindAddress(), config.managementPort()),
                    null);
        } catch (IOException | RuntimeException e) {
            http.close();
            throw new IOException("cannot listen for management HTTP on " + where + ": " + e.getMessage()
                    + " (set management.tcp.ip / management.tcp.port, or management.enabled = false)", e);
        }
        log.info("management HTTP listening on http://{}:{} (the dashboard at /, GET /api/health, POST "
                + "/api/health/acknowledge, GET /metrics, GET /api/overview, /api/vhosts, /api/queues, /api/exchanges, "
                + "/api/bindings)",
                config.managementBindAddress(), http.port());
        try {
            http.bindTls(config);
        } catch (IOException | RuntimeException e) {
            http.close();
            throw e;
        }
        return http;
    }

    /** Samples the counters for {@code message_stats} rates now and every {@code intervalMillis}. */
    private void sampleEvery(MessageRates rates, long intervalMillis) {
        sampler.scheduleWithFixedDelay(() -> {
            try {
                rates.sample();
            } catch (RuntimeException e) { // the broker thread did not answer: the next sample will
                log.debug("management: message rate sample skipped: {}", e.toString());
            }
        }, 0, intervalMillis, TimeUnit.MILLISECONDS);
    }

    /** The management HTTPS listener ({@code management.ssl.*}), when configured; logs where. */
    private void bindTls(ServerConfig config) throws IOException {
        TlsConfig tls = config.managementTls();
        if (tls == null) {
            return;
        }
        SslContext context = Tls.serverContext(tls, "management.ssl", "management HTTPS");
        String address = tls.bindAddress() != null ? tls.bindAddress() : config.managementBindAddress();
        try {
            tlsListener = bind(new InetSocketAddress(address, tls.port()), context);
        } catch (IOException e) {
            throw new IOException("cannot listen for management HTTPS on " + address + ":" + tls.port() + ": "
                    + e.getMessage() + " (set management.ssl.ip / management.ssl.port)", e);
        }
        log.info("management HTTPS (TLS 1.2/1.3) listening on https://{}:{}", address, tlsPort());
    }

    private Channel bind(InetSocketAddress address, SslContext tls) throws IOException {
        ServerBootstrap b = new ServerBootstrap()
                .group(group)
                .channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        if (tls != null) {
                            ch.pipeline().addLast(Tls.handler(tls, ch),
                                    new TlsErrors("management HTTPS", "a plain HTTP client"));
                        }
                        ch.pipeline().addLast(new HttpServerCodec(), new BodyLimit(bodyBytesMax),
                                new RequestHandler());
                    }
                });
        try {
            return b.bind(address).sync().channel();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while binding", e);
        } catch (Exception e) {
            throw new IOException(e.getMessage(), e);
        }
    }

    public int port() {
        return ((InetSocketAddress) listener.localAddress()).getPort();
    }

    /** The HTTPS listener's port, or -1 without {@code management.ssl.port}. */
    public int tlsPort() {
        return tlsListener == null ? -1 : ((InetSocketAddress) tlsListener.localAddress()).getPort();
    }

    /** One connection's requests, decoded and whole; each is answered from a handler thread. */
    private final class RequestHandler extends SimpleChannelInboundHandler<FullHttpRequest> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
            boolean keepAlive = HttpUtil.isKeepAlive(request);
            if (!request.decoderResult().isSuccess()) {
                write(ctx, error(400, "bad_request", "malformed HTTP request"), false, false);
                return;
            }
            String method = request.method().name();
            QueryStringDecoder uri = new QueryStringDecoder(request.uri());
            String path = uri.rawPath();
            Map<String, List<String>> query = uri.parameters();
            byte[] body = ByteBufUtil.getBytes(request.content());
            Map<String, String> headers = new HashMap<>();
            request.headers().forEach(h -> headers.putIfAbsent(h.getKey().toLowerCase(Locale.ROOT), h.getValue()));
            String authorization = headers.get("authorization");
            InetSocketAddress peer = (InetSocketAddress) ctx.channel().remoteAddress();
            // Read before the answer counts this request's failure: the delay comes from earlier ones.
            long delay = auth.answerDelayMillis(authorization, peer);
            try {
                handlers.execute(() -> {
                    Routes.Response r = answer(method, path, query, body, headers, peer);
                    if (delay == 0) {
                        write(ctx, r, keepAlive, method.equals("HEAD"));
                    } else { // held on the event loop's timer, not on a handler thread
                        ctx.executor().schedule(() -> write(ctx, r, keepAlive, method.equals("HEAD")), delay,
                                TimeUnit.MILLISECONDS);
                    }
                });
            } catch (RejectedExecutionException e) {
                write(ctx, error(503, "unavailable", "the management listener is stopping"), false, false);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            if (cause instanceof io.netty.handler.codec.TooLongFrameException) {
                write(ctx, tooLarge(), false, false);
                return;
            }
            log.debug("management: connection from {} failed: {}", ctx.channel().remoteAddress(), cause.toString());
            ctx.close();
        }
    }

    private Routes.Response tooLarge() {
        return error(413, "request_too_large", "the request body is over management.http.max_body_size ("
                + bodyBytesMax + " bytes); raise it in holdfast.conf for a larger definitions file");
    }

    /**
     * Netty's aggregator, whose 413 for a declared {@code Content-Length} over the limit carries RabbitMQ's JSON
     * error rather than an empty body. A keep-alive connection stays open and the aggregator drops the rest of the
     * body, so a client still sending it reads the answer instead of a reset.
     */
    private final class BodyLimit extends HttpObjectAggregator {
        BodyLimit(int bytesMax) {
            super(bytesMax);
        }

        @Override
        protected void handleOversizedMessage(ChannelHandlerContext ctx, io.netty.handler.codec.http.HttpMessage oversized) {
            if (oversized instanceof io.netty.handler.codec.http.HttpRequest) {
                write(ctx, tooLarge(), HttpUtil.isKeepAlive(oversized), false);
            } else {
                ctx.close();
            }
        }
    }

    /** The response to one request; never throws. Runs on a handler thread. */
    private Routes.Response answer(String method, String path, Map<String, List<String>> query, byte[] body,
                                   Map<String, String> headers, InetSocketAddress peer) {
        String lookup = method.equals("HEAD") ? "GET" : method;
        Routes.Match match = routes.match(lookup, path);
        if (match == null) {
            Set<String> allowed = routes.methodsFor(path);
            if (allowed.isEmpty()) {
                return error(404, "not_found", "no endpoint " + method + " " + path + "; there are "
                        + String.join(", ", routes.describe()));
            }
            if (allowed.contains("GET")) {
                allowed.add("HEAD");
            }
            return error(405, "method_not_allowed", path + " takes " + String.join(" or ", allowed) + ", not " + method)
                    .withHeader("Allow", String.join(", ", allowed));
        }
        HttpAuth.Outcome who = auth.check(match.access(), match.variables().isEmpty() ? null : match.variables().get(0),
                headers.get("authorization"), peer);
        if (who.refusal() != null) {
            // A page's script (the dashboard) shows the refusal itself: no challenge, so no browser login box.
            return "XMLHttpRequest".equals(headers.get("x-requested-with")) ? who.refusal().withoutHeaders()
                    : who.refusal();
        }
        try {
            return match.handler().handle(new Routes.Request(method, path, match.variables(), body, who.user(),
                    peer.getAddress().getHostAddress(), query, headers));
        } catch (BadRequest e) {
            return error(400, "bad_request", e.getMessage());
        } catch (CompletionException e) { // from Engine.query: a timeout, or what the query threw
            Throwable cause = e.getCause() == null ? e : e.getCause();
            log.warn("management: broker state unavailable for {} {}: {}", method, path, cause.toString());
            return error(503, "unavailable", "broker state unavailable: " + cause);
        } catch (Exception | AssertionError e) {
            log.warn("management: {} {} failed", method, path, e);
            return error(500, "internal_error", e.toString());
        }
    }

    /** A request whose body is not what the path takes: 400 with the reason. */
    static final class BadRequest extends RuntimeException {
        BadRequest(String message) {
            super(message);
        }
    }

    /** The request's JSON body. */
    static JsonNode body(Routes.Request r) {
        if (r.body().length == 0) {
            throw new BadRequest("a JSON object is required as the body");
        }
        try {
            JsonNode n = MAPPER.readTree(r.body());
            if (n == null || !n.isObject()) {
                throw new BadRequest("the body must be a JSON object");
            }
            return n;
        } catch (JsonProcessingException e) {
            throw new BadRequest("malformed JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new BadRequest("unreadable body: " + e.getMessage());
        }
    }

    static Routes.Response json(int status, Object value) {
        try {
            return Routes.Response.of(status, JSON, MAPPER.writeValueAsString(value));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialise a management response", e);
        }
    }

    /** RabbitMQ's error shape. */
    static Routes.Response error(int status, String error, String reason) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("error", error);
        body.put("reason", reason);
        return json(status, body);
    }

    private static void write(ChannelHandlerContext ctx, Routes.Response r, boolean keepAlive, boolean head) {
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                HttpResponseStatus.valueOf(r.status()), head ? Unpooled.EMPTY_BUFFER : Unpooled.wrappedBuffer(r.body()));
        response.headers().set(HttpHeaderNames.CONTENT_TYPE, r.contentType());
        response.headers().set(HttpHeaderNames.CACHE_CONTROL, "no-store");
        response.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, r.body().length);
        for (String[] h : r.headers()) {
            response.headers().set(h[0], h[1]);
        }
        if (keepAlive) {
            response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
            ctx.writeAndFlush(response);
        } else {
            response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
        }
    }

    /** Stops listening at once (requests in progress are cut) and stops the handler threads. */
    @Override
    public void close() {
        if (listener != null) {
            listener.close().awaitUninterruptibly();
        }
        if (tlsListener != null) {
            tlsListener.close().awaitUninterruptibly();
        }
        handlers.shutdownNow();
        sampler.shutdownNow();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
        try {
            if (!handlers.awaitTermination(5, TimeUnit.SECONDS)) {
                log.warn("management handler threads did not stop within 5 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
