package io.holdfast.server;

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
 */
public record ServerConfig(String bindAddress, int port, Path dataDir, int frameMax, int channelMax,
                           int heartbeatSeconds, long maxMessageBytes, String defaultUser, String defaultPass,
                           boolean guestLoopbackOnly, FsyncPolicy fsync, long fsyncIntervalMillis,
                           long segmentBytesMax, long handshakeTimeoutMillis) {

    public static final int DEFAULT_PORT = 5672;

    /** RabbitMQ's defaults where the concept is the same. */
    public static ServerConfig defaults(Path dataDir) {
        return new ServerConfig("127.0.0.1", DEFAULT_PORT, dataDir, 131072, 2047, 60, 128L * 1024 * 1024,
                "guest", "guest", true, FsyncPolicy.ALWAYS, 200, 64L * 1024 * 1024, 10_000);
    }

    public ServerConfig withPort(int newPort) {
        return new ServerConfig(bindAddress, newPort, dataDir, frameMax, channelMax, heartbeatSeconds, maxMessageBytes,
                defaultUser, defaultPass, guestLoopbackOnly, fsync, fsyncIntervalMillis, segmentBytesMax,
                handshakeTimeoutMillis);
    }

    public ServerConfig withHeartbeat(int seconds) {
        return new ServerConfig(bindAddress, port, dataDir, frameMax, channelMax, seconds, maxMessageBytes,
                defaultUser, defaultPass, guestLoopbackOnly, fsync, fsyncIntervalMillis, segmentBytesMax,
                handshakeTimeoutMillis);
    }

    public ServerConfig withMaxMessageBytes(long bytes) {
        return new ServerConfig(bindAddress, port, dataDir, frameMax, channelMax, heartbeatSeconds, bytes,
                defaultUser, defaultPass, guestLoopbackOnly, fsync, fsyncIntervalMillis, segmentBytesMax,
                handshakeTimeoutMillis);
    }
}
