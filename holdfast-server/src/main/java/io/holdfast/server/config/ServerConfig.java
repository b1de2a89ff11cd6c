package io.holdfast.server.config;

import io.holdfast.core.Broker;
import io.holdfast.core.ConsumerTimeoutAction;
import io.holdfast.store.FsyncPolicy;
import java.nio.file.Path;

/**
 * Everything the server needs to run, validated once by the caller (the app's config loader).
 *
 * @param bindAddress        address to listen on ({@code listeners.tcp.default})
 * @param port               TCP port, 0 for any free one (tests)
 * @param dataDir            where the journal and metadata live
 * @param frameMax           the frame_max proposed in connection.tune
 * @param channelMax         the channel_max proposed in connection.tune
 * @param heartbeatSeconds   the heartbeat proposed in connection.tune
 * @param maxMessageBytes    publishes with larger bodies are refused (406), as RabbitMQ's max_message_size
 * @param defaultUser        the user created at first start ({@code default_user})
 * @param defaultPass        its password ({@code default_pass})
 * @param guestLoopbackOnly  {@code loopback_users.guest}: the guest user may only connect from loopback
 * @param fsync              journal fsync policy
 * @param fsyncIntervalMillis the interval for {@link FsyncPolicy#INTERVAL}
 * @param segmentBytesMax    journal segment size
 * @param handshakeTimeoutMillis a client that has not opened its connection by then is disconnected
 * @param diskFreeLimitBytes {@code disk_free_limit.absolute}: below this much free space in the data
 *                           directory, publishers are blocked (connection.blocked)
 * @param managementEnabled  {@code management.enabled}: whether the management HTTP listener (health,
 *                           metrics) runs
 * @param managementBindAddress {@code management.tcp.ip}: address the management listener binds
 * @param managementPort     {@code management.tcp.port}: its port, 0 for any free one (tests)
 * @param consumerTimeoutMillis {@code consumer_timeout}: how long a manual-ack delivery may stay unacked
 *                           before its consumer (or channel) is timed out; negative for no limit
 * @param consumerTimeoutAction {@code consumer_timeout.action}: cancel the consumer, or close the channel
 * @param residentMessageBytesMax {@code message_memory_limit.absolute}: body bytes of stored (persistent,
 *                           durable-queue) messages kept in memory; beyond it bodies stay on disk and are
 *                           read back when delivered. Default: an eighth of the maximum heap
 * @param memoryHighWatermarkBytes {@code vm_memory_high_watermark}: above this much heap in use after
 *                           garbage collection, publishers are blocked (connection.blocked). Default: 0.9
 *                           of the maximum heap
 * @param managementHealthOpen {@code management.unauthenticated_health_and_metrics}: {@code GET /api/health}
 *                           and {@code GET /metrics} answer without credentials (for probes and scrapers);
 *                           everything else on the management listener always needs them
 * @param tls                the AMQPS listener ({@code listeners.ssl.default}, {@code ssl_options.*}), or null
 * @param security           login mechanisms and broker-wide connection limits
 * @param managementTls      the management HTTPS listener ({@code management.ssl.*}), or null; the HTTP one
 *                           stays as configured
 * @param loadDefinitions    {@code load_definitions}: a definitions file (RabbitMQ's JSON) imported at every
 *                           start, before the listeners open; null for none
 * @param cluster            the cluster this node belongs to ({@code cluster_formation.*}), or null for a
 *                           single node (no Raft, nothing replicated)
 * @param managementBodyBytesMax {@code management.http.max_body_size}: the largest request body the management
 *                           listener takes (a definitions import is the big one); above it, 413
 * @param queueIndexPaging   {@code queue_index.paging}: durable plain queues keep only the head and tail of a long
 *                           backlog's index in memory and page the middle out to {@code <data>/index-pages}
 *                           (default true); false keeps every index entry on the heap
 * @param prometheusPerObject {@code prometheus.return_per_object_metrics}: {@code GET /metrics} serves a series per
 *                           queue, as {@code /metrics/per-object} always does, instead of totals (RabbitMQ's key;
 *                           its default, false, keeps a scrape cheap with many queues)
 */
public record ServerConfig(String bindAddress, int port, Path dataDir, int frameMax, int channelMax,
                           int heartbeatSeconds, long maxMessageBytes, String defaultUser, String defaultPass,
                           boolean guestLoopbackOnly, FsyncPolicy fsync, long fsyncIntervalMillis,
                           long segmentBytesMax, long handshakeTimeoutMillis, long diskFreeLimitBytes,
                           boolean managementEnabled, String managementBindAddress, int managementPort,
                           long consumerTimeoutMillis, ConsumerTimeoutAction consumerTimeoutAction,
                           long residentMessageBytesMax, long memoryHighWatermarkBytes,
                           boolean managementHealthOpen, TlsConfig tls, SecurityConfig security,
                           TlsConfig managementTls, Path loadDefinitions, ClusterSettings cluster,
                           int managementBodyBytesMax, boolean queueIndexPaging,
                           boolean prometheusPerObject) {

    public static final int DEFAULT_PORT = 5672;
    /** RabbitMQ's management port. */
    public static final int DEFAULT_MANAGEMENT_PORT = 15672;
    /**
     * {@code vm_memory_high_watermark.relative} by default: a fraction of the maximum heap. Higher than
     * RabbitMQ's 0.6 because the heap is meant to hold the message index (a 10M-message backlog in
     * -Xmx1g sits at about 0.81 after GC) and only the after-GC occupancy is compared.
     */
    public static final double DEFAULT_MEMORY_HIGH_WATERMARK = 0.9;
    /** RabbitMQ's default {@code management.http.max_body_size}: 20 MiB, a definitions file of ~200k queues. */
    public static final int DEFAULT_MANAGEMENT_BODY_BYTES_MAX = 20 * 1024 * 1024;

    /**
     * RabbitMQ's defaults where the concept is the same. The disk free limit is well above
     * RabbitMQ's 50 MB: the journal's in-flight batches (up to 64 MiB), a new segment and the space a
     * compaction needs must still fit when publishers are blocked.
     */
    public static ServerConfig defaults(Path dataDir) {
        return new ServerConfig("127.0.0.1", DEFAULT_PORT, dataDir, 131072, 2047, 60, 128L * 1024 * 1024,
                "guest", "guest", true, FsyncPolicy.ALWAYS, 200, 64L * 1024 * 1024, 10_000, 512L * 1024 * 1024,
                true, "127.0.0.1", DEFAULT_MANAGEMENT_PORT, Broker.DEFAULT_CONSUMER_TIMEOUT_MILLIS,
                ConsumerTimeoutAction.CANCEL_CONSUMER, Runtime.getRuntime().maxMemory() / 8,
                (long) (Runtime.getRuntime().maxMemory() * DEFAULT_MEMORY_HIGH_WATERMARK), false, null,
                SecurityConfig.defaults(), null, null, null, DEFAULT_MANAGEMENT_BODY_BYTES_MAX, true, false);
    }

    public Builder toBuilder() {
        return new Builder(this);
    }

    public ServerConfig withPort(int newPort) {
        return toBuilder().port(newPort).build();
    }

    public ServerConfig withHeartbeat(int seconds) {
        return toBuilder().heartbeatSeconds(seconds).build();
    }

    public ServerConfig withMaxMessageBytes(long bytes) {
        return toBuilder().maxMessageBytes(bytes).build();
    }

    /** A mutable copy, for the config loader and tests; {@link #build()} makes the record again. */
    public static final class Builder {
        private String bindAddress;
        private int port;
        private Path dataDir;
        private int frameMax;
        private int channelMax;
        private int heartbeatSeconds;
        private long maxMessageBytes;
        private String defaultUser;
        private String defaultPass;
        private boolean guestLoopbackOnly;
        private FsyncPolicy fsync;
        private long fsyncIntervalMillis;
        private long segmentBytesMax;
        private long handshakeTimeoutMillis;
        private long diskFreeLimitBytes;
        private boolean managementEnabled;
        private String managementBindAddress;
        private int managementPort;
        private long consumerTimeoutMillis;
        private ConsumerTimeoutAction consumerTimeoutAction;
        private long residentMessageBytesMax;
        private long memoryHighWatermarkBytes;
        private boolean managementHealthOpen;
        private TlsConfig tls;
        private SecurityConfig security;
        private TlsConfig managementTls;
        private Path loadDefinitions;
        private ClusterSettings cluster;
        private int managementBodyBytesMax;
        private boolean queueIndexPaging;
        private boolean prometheusPerObject;

        private Builder(ServerConfig c) {
            bindAddress = c.bindAddress;
            port = c.port;
            dataDir = c.dataDir;
            frameMax = c.frameMax;
            channelMax = c.channelMax;
            heartbeatSeconds = c.heartbeatSeconds;
            maxMessageBytes = c.maxMessageBytes;
            defaultUser = c.defaultUser;
            defaultPass = c.defaultPass;
            guestLoopbackOnly = c.guestLoopbackOnly;
            fsync = c.fsync;
            fsyncIntervalMillis = c.fsyncIntervalMillis;
            segmentBytesMax = c.segmentBytesMax;
            handshakeTimeoutMillis = c.handshakeTimeoutMillis;
            diskFreeLimitBytes = c.diskFreeLimitBytes;
            managementEnabled = c.managementEnabled;
            managementBindAddress = c.managementBindAddress;
            managementPort = c.managementPort;
            consumerTimeoutMillis = c.consumerTimeoutMillis;
            consumerTimeoutAction = c.consumerTimeoutAction;
            residentMessageBytesMax = c.residentMessageBytesMax;
            memoryHighWatermarkBytes = c.memoryHighWatermarkBytes;
            managementHealthOpen = c.managementHealthOpen;
            tls = c.tls;
            security = c.security;
            managementTls = c.managementTls;
            loadDefinitions = c.loadDefinitions;
            cluster = c.cluster;
            managementBodyBytesMax = c.managementBodyBytesMax;
            queueIndexPaging = c.queueIndexPaging;
            prometheusPerObject = c.prometheusPerObject;
        }

        public Builder bindAddress(String v) { bindAddress = v; return this; }

        public Builder port(int v) { port = v; return this; }

        public Builder dataDir(Path v) { dataDir = v; return this; }

        public Builder frameMax(int v) { frameMax = v; return this; }

        public Builder channelMax(int v) { channelMax = v; return this; }

        public Builder heartbeatSeconds(int v) { heartbeatSeconds = v; return this; }

        public Builder maxMessageBytes(long v) { maxMessageBytes = v; return this; }

        public Builder defaultUser(String v) { defaultUser = v; return this; }

        public Builder defaultPass(String v) { defaultPass = v; return this; }

        public Builder guestLoopbackOnly(boolean v) { guestLoopbackOnly = v; return this; }

        public Builder fsync(FsyncPolicy v) { fsync = v; return this; }

        public Builder fsyncIntervalMillis(long v) { fsyncIntervalMillis = v; return this; }

        public Builder segmentBytesMax(long v) { segmentBytesMax = v; return this; }

        public Builder handshakeTimeoutMillis(long v) { handshakeTimeoutMillis = v; return this; }

        public Builder diskFreeLimitBytes(long v) { diskFreeLimitBytes = v; return this; }

        public Builder managementEnabled(boolean v) { managementEnabled = v; return this; }

        public Builder managementBindAddress(String v) { managementBindAddress = v; return this; }

        public Builder managementPort(int v) { managementPort = v; return this; }

        public Builder consumerTimeoutMillis(long v) { consumerTimeoutMillis = v; return this; }

        public Builder consumerTimeoutAction(ConsumerTimeoutAction v) { consumerTimeoutAction = v; return this; }

        public Builder residentMessageBytesMax(long v) { residentMessageBytesMax = v; return this; }

        public Builder memoryHighWatermarkBytes(long v) { memoryHighWatermarkBytes = v; return this; }

        public Builder managementHealthOpen(boolean v) { managementHealthOpen = v; return this; }

        public Builder tls(TlsConfig v) { tls = v; return this; }

        public Builder security(SecurityConfig v) { security = v; return this; }

        public Builder managementTls(TlsConfig v) { managementTls = v; return this; }
        public Builder loadDefinitions(Path v) { loadDefinitions = v; return this; }

        public Builder cluster(ClusterSettings v) { cluster = v; return this; }
        public Builder managementBodyBytesMax(int v) { managementBodyBytesMax = v; return this; }
        public Builder queueIndexPaging(boolean v) { queueIndexPaging = v; return this; }

        public Builder prometheusPerObject(boolean v) { prometheusPerObject = v; return this; }

        public ServerConfig build() {
            return new ServerConfig(bindAddress, port, dataDir, frameMax, channelMax, heartbeatSeconds,
                    maxMessageBytes, defaultUser, defaultPass, guestLoopbackOnly, fsync, fsyncIntervalMillis,
                    segmentBytesMax, handshakeTimeoutMillis, diskFreeLimitBytes, managementEnabled,
                    managementBindAddress, managementPort, consumerTimeoutMillis, consumerTimeoutAction,
                    residentMessageBytesMax, memoryHighWatermarkBytes, managementHealthOpen, tls, security,
                    managementTls, loadDefinitions, cluster, managementBodyBytesMax, queueIndexPaging,
                    prometheusPerObject);
        }
    }
}
