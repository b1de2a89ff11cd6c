package io.holdfast.app;

import io.holdfast.core.ConsumerTimeoutAction;
import io.holdfast.server.config.ClusterSettings;
import io.holdfast.server.config.ServerConfig;
import io.holdfast.server.config.SecurityConfig;
import io.holdfast.server.config.TlsConfig;
import io.holdfast.store.FsyncPolicy;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * Reads {@code holdfast.conf}: {@code key = value} lines in the style of rabbitmq.conf, with the same
 * key names where the concept is the same. Every key is checked once, at start; an unknown key or a
 * bad value stops the broker with a message naming the file, the line and what to fix.
 */
final class ConfigFile {
    /** A configuration mistake the operator has to fix. */
    static final class ConfigException extends Exception {
        private static final long serialVersionUID = 1L;

        ConfigException(String message) {
            super(message);
        }
    }

    private ConfigFile() {}

    static ServerConfig apply(Path file, ServerConfig base) throws ConfigException {
        List<String> lines;
        try {
            lines = Files.readAllLines(file);
        } catch (IOException e) {
            throw new ConfigException("cannot read config file " + file + ": " + e.getMessage());
        }
        Builder b = new Builder(base);
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            int eq = line.indexOf('=');
            String where = file + " line " + (i + 1);
            if (eq < 0) {
                throw new ConfigException(where + ": expected 'key = value', got '" + line + "'");
            }
            String key = line.substring(0, eq).strip();
            String value = line.substring(eq + 1).strip();
            try {
                b.set(key, value);
            } catch (IllegalArgumentException e) {
                throw new ConfigException(where + ": " + e.getMessage());
            }
        }
        try {
            return b.build();
        } catch (IllegalArgumentException e) {
            throw new ConfigException(file + ": " + e.getMessage());
        }
    }

    /** Applies {@code holdfast.conf} keys, one at a time, to a config being built. */
    static final class Builder {
        private static final String WATERMARK_RELATIVE = "vm_memory_high_watermark.relative";
        private static final String WATERMARK_ABSOLUTE = "vm_memory_high_watermark.absolute";
        private static final String CLUSTER_NODES = "cluster_formation.classic_config.nodes.";

        private final ServerConfig.Builder b;
        /** ssl_options.* as given; made into a TlsConfig at build, when listeners.ssl.default is set. */
        private final java.util.Map<String, String> tls = new java.util.HashMap<>();
        private String tlsAddress;
        private int tlsPort = -1;
        /** management.ssl.* as given; a TlsConfig at build, when management.ssl.port is set. */
        private final java.util.Map<String, String> managementTls = new java.util.HashMap<>();
        private int managementTlsPort = -1;
        /** auth_mechanisms.N as given, by N; replaces the default list at build when any is set. */
        private final java.util.TreeMap<String, String> mechanisms = new java.util.TreeMap<>();
        private SecurityConfig security;
        /** cluster_formation.classic_config.nodes.N as given, by N; with nodename they make the cluster at build. */
        private final java.util.TreeMap<Integer, ClusterSettings.Node> clusterNodes = new java.util.TreeMap<>();
        private String nodeName;
        private final ClusterSettings baseCluster;
        private java.time.Duration electionTimeout = ClusterSettings.DEFAULT_ELECTION_TIMEOUT;
        private java.time.Duration commitTimeout = ClusterSettings.DEFAULT_COMMIT_TIMEOUT;
        /** Which of the two vm_memory_high_watermark keys has been set, if any: only one may be. */
        private String watermarkKey;

        Builder(ServerConfig c) {
            b = c.toBuilder();
            security = c.security();
            baseCluster = c.cluster();
        }

        void set(String key, String value) {
            switch (key) {
                case "listeners.tcp.default" -> listener(value);
                case "listeners.ssl.default" -> tlsListener(value);
                case "ssl_options.certfile" -> tls.put("certfile", value);
                case "ssl_options.keyfile" -> tls.put("keyfile", value);
                case "ssl_options.password" -> tls.put("password", value);
                case "ssl_options.cacertfile" -> tls.put("cacertfile", value);
                case "ssl_options.verify" -> tls.put("verify", oneOf(key, value, "verify_peer", "verify_none"));
                case "ssl_options.fail_if_no_peer_cert" -> tls.put("fail_if_no_peer_cert",
                        String.valueOf(bool(key, value)));
                case "ssl_options.provider" -> tls.put("provider", oneOf(key, value, "auto", "openssl", "jdk"));
                case "ssl_cert_login_from" -> security = security.withCertLoginFrom(switch (oneOf(key, value,
                        "distinguished_name", "common_name", "subject_alternative_name", "subject_alt_name")) {
                    case "common_name" -> SecurityConfig.CertLoginFrom.COMMON_NAME;
                    case "distinguished_name" -> SecurityConfig.CertLoginFrom.DISTINGUISHED_NAME;
                    default -> SecurityConfig.CertLoginFrom.SUBJECT_ALTERNATIVE_NAME;
                });
                case "ssl_cert_login_san_type" -> security = security.withCertLoginSan(SecurityConfig.SanType.valueOf(
                        oneOf(key, value, "dns", "ip", "email", "uri", "other_name").toUpperCase(java.util.Locale.ROOT)),
                        security.certLoginSanIndex());
                case "ssl_cert_login_san_index" -> security = security.withCertLoginSan(security.certLoginSanType(),
                        (int) number(key, value, 0, Integer.MAX_VALUE));
                case "connection_max" -> security = security.withConnectionMax(value.equals("infinity") ? 0
                        : (int) number(key, value, 1, Integer.MAX_VALUE));
                case "connection_rate_max" -> security = security.withConnectionRateMax(value.equals("infinity") ? 0
                        : (int) number(key, value, 1, Integer.MAX_VALUE));
                case "management.ssl.port" -> managementTlsPort = (int) number(key, value, 0, 65535);
                case "management.ssl.ip" -> managementTls.put("ip", address(key, value));
                case "management.ssl.certfile" -> managementTls.put("certfile", value);
                case "management.ssl.keyfile" -> managementTls.put("keyfile", value);
                case "management.ssl.password" -> managementTls.put("password", value);
                case "management.ssl.cacertfile" -> managementTls.put("cacertfile", value);
                case "management.ssl.verify" -> managementTls.put("verify",
                        oneOf(key, value, "verify_peer", "verify_none"));
                case "management.ssl.fail_if_no_peer_cert" -> managementTls.put("fail_if_no_peer_cert",
                        String.valueOf(bool(key, value)));
                case "management.ssl.provider" -> managementTls.put("provider",
                        oneOf(key, value, "auto", "openssl", "jdk"));
                case "data_dir" -> b.dataDir(Path.of(value));
                case "frame_max" -> b.frameMax((int) number(key, value, 4096, Integer.MAX_VALUE));
                case "channel_max" -> b.channelMax((int) number(key, value, 1, 65535));
                case "heartbeat" -> b.heartbeatSeconds((int) number(key, value, 0, 65535));
                case "max_message_size" -> b.maxMessageBytes(number(key, value, 1, 512L * 1024 * 1024));
                case "default_user" -> b.defaultUser(nonEmpty(key, value));
                case "default_pass" -> b.defaultPass(value);
                case "loopback_users.guest" -> b.guestLoopbackOnly(bool(key, value));
                case "handshake_timeout" -> b.handshakeTimeoutMillis(number(key, value, 100, 3_600_000));
                case "disk_free_limit.absolute" -> b.diskFreeLimitBytes(bytes(key, value));
                case "journal.fsync" -> b.fsync(fsync(value));
                case "journal.fsync_interval" -> b.fsyncIntervalMillis(number(key, value, 1, 60_000));
                case "journal.segment_size" -> b.segmentBytesMax(number(key, value, 1024 * 1024, 1L << 30));
                case "management.enabled" -> b.managementEnabled(bool(key, value));
                case "management.tcp.ip" -> b.managementBindAddress(address(key, value));
                case "management.tcp.port" -> b.managementPort((int) number(key, value, 0, 65535));
                case "management.unauthenticated_health_and_metrics" -> b.managementHealthOpen(bool(key, value));
                case "management.http.max_body_size" -> b.managementBodyBytesMax((int) number(key, value, 1024,
                        1L << 30));
                case "prometheus.return_per_object_metrics" -> b.prometheusPerObject(bool(key, value));
                // As RabbitMQ: milliseconds, or false for no timeout.
                case "consumer_timeout" -> b.consumerTimeoutMillis(value.equals("false") ? -1
                        : number(key, value, 1, Long.MAX_VALUE));
                case "consumer_timeout.action" -> b.consumerTimeoutAction(timeoutAction(value));
                case "message_memory_limit.absolute" -> b.residentMessageBytesMax(bytes(key, value));
                case "queue_index.paging" -> b.queueIndexPaging(bool(key, value));
                case "load_definitions" -> b.loadDefinitions(Path.of(nonEmpty(key, value)));
                case "nodename" -> nodeName = nonEmpty(key, value);
                // RabbitMQ's name for the only peer discovery Holdfast has: the list in the config file.
                case "cluster_formation.peer_discovery_backend" -> oneOf(key, value, "classic_config",
                        "rabbit_peer_discovery_classic_config");
                case "raft.election_timeout" -> electionTimeout = java.time.Duration.ofMillis(
                        number(key, value, 100, 60_000));
                case "raft.commit_timeout" -> commitTimeout = java.time.Duration.ofMillis(
                        number(key, value, 100, 600_000));
                case WATERMARK_RELATIVE -> b.memoryHighWatermarkBytes(watermark(key,
                        (long) (fraction(key, value) * Runtime.getRuntime().maxMemory())));
                case WATERMARK_ABSOLUTE -> b.memoryHighWatermarkBytes(watermark(key, heapSize(key, value)));
                default -> {
                    if (key.startsWith(CLUSTER_NODES)) {
                        clusterNode(key, value);
                        return;
                    }
                    if (!key.startsWith("auth_mechanisms.")) {
                        throw new IllegalArgumentException("unknown key '" + key + "' (known keys are listed in README.md)");
                    }
                    mechanisms.put(key, value);
                }
            }
        }

        void bind(String address) {
            b.bindAddress(address);
        }

        void dataDir(Path dir) {
            b.dataDir(dir);
        }

        /** A size as RabbitMQ writes it: bytes, or a number with kB/MB/GB (1000s) or KiB/MiB/GiB (1024s). */
        private static long bytes(String key, String value) {
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("(\\d+)\\s*([a-zA-Z]*)").matcher(value);
            if (!m.matches()) {
                throw new IllegalArgumentException(key + " must be a size such as 2GB or 500MiB, got '" + value + "'");
            }
            long unit = switch (m.group(2)) {
                case "" -> 1;
                case "kB", "KB" -> 1000L;
                case "MB" -> 1000L * 1000;
                case "GB" -> 1000L * 1000 * 1000;
                case "KiB", "k", "K" -> 1024L;
                case "MiB", "M" -> 1024L * 1024;
                case "GiB", "G" -> 1024L * 1024 * 1024;
                default -> throw new IllegalArgumentException(key + ": unknown unit '" + m.group(2)
                        + "' (use kB, MB, GB, KiB, MiB or GiB)");
            };
            return Math.multiplyExact(Long.parseLong(m.group(1)), unit);
        }

        private static TlsConfig tlsConfig(String address, int port, java.util.Map<String, String> keys) {
            return new TlsConfig(address, port, path(keys.get("certfile")), path(keys.get("keyfile")),
                    keys.get("password"), path(keys.get("cacertfile")), "verify_peer".equals(keys.get("verify")),
                    Boolean.parseBoolean(keys.get("fail_if_no_peer_cert")), TlsConfig.Provider.valueOf(
                            keys.getOrDefault("provider", "auto").toUpperCase(Locale.ROOT)));
        }

        private static Path path(String value) {
            return value == null ? null : Path.of(value);
        }

        private void tlsListener(String value) {
            int colon = value.lastIndexOf(':');
            if (colon >= 0) {
                tlsAddress = value.substring(0, colon);
                tlsPort = (int) number("listeners.ssl.default", value.substring(colon + 1), 0, 65535);
            } else {
                tlsPort = (int) number("listeners.ssl.default", value, 0, 65535);
            }
        }

        private static String oneOf(String key, String value, String... allowed) {
            for (String a : allowed) {
                if (a.equals(value)) {
                    return value;
                }
            }
            throw new IllegalArgumentException(key + " must be one of " + String.join(", ", allowed) + ", got '" + value
                    + "'");
        }

        private void listener(String value) {
            int colon = value.lastIndexOf(':');
            if (colon >= 0) {
                b.bindAddress(value.substring(0, colon));
                b.port((int) number("listeners.tcp.default", value.substring(colon + 1), 0, 65535));
            } else {
                b.port((int) number("listeners.tcp.default", value, 0, 65535));
            }
        }

        /** {@code cluster_formation.classic_config.nodes.N = name@host:port}: a member and its Raft peer port. */
        private void clusterNode(String key, String value) {
            int n = (int) number(key, key.substring(CLUSTER_NODES.length()), 1, 1000);
            int at = value.indexOf('@');
            int colon = value.lastIndexOf(':');
            if (at < 1 || colon < at + 2 || colon == value.length() - 1) {
                throw new IllegalArgumentException(key + " must be name@host:port (the port peers reach this node's "
                        + "Raft listener on), such as holdfast1@127.0.0.1:7001, got '" + value + "'");
            }
            ClusterSettings.Node node = new ClusterSettings.Node(value.substring(0, at),
                    value.substring(at + 1, colon), (int) number(key, value.substring(colon + 1), 1, 65535));
            if (clusterNodes.containsKey(n)) {
                throw new IllegalArgumentException(key + " is set twice");
            }
            for (ClusterSettings.Node other : clusterNodes.values()) {
                if (other.name().equals(node.name())) {
                    throw new IllegalArgumentException(key + " names node '" + node.name() + "', as an entry above "
                            + "does (" + other + "): every node needs its own name");
                }
                if (other.address().equals(node.address())) {
                    throw new IllegalArgumentException(key + " gives " + node.address() + ", as an entry above does ("
                            + other + "): every node needs its own peer port");
                }
            }
            clusterNodes.put(n, node);
        }

        private ClusterSettings cluster() {
            if (clusterNodes.isEmpty() && nodeName == null) {
                return baseCluster;
            }
            if (nodeName == null) {
                throw new IllegalArgumentException("cluster_formation.classic_config.nodes is set but nodename is not: "
                        + "name this node (nodename = one of the names listed)");
            }
            if (clusterNodes.isEmpty()) {
                throw new IllegalArgumentException("nodename is set but cluster_formation.classic_config.nodes is not: "
                        + "list every node of the cluster, this one included");
            }
            return new ClusterSettings(nodeName, java.util.List.copyOf(clusterNodes.values()), electionTimeout,
                    commitTimeout);
        }

        private long watermark(String key, long bytes) {
            if (watermarkKey != null) {
                throw new IllegalArgumentException("set " + WATERMARK_RELATIVE + " or " + WATERMARK_ABSOLUTE
                        + ", not both (" + watermarkKey + " is set above)");
            }
            watermarkKey = key;
            return bytes;
        }

        /** A fraction of the maximum heap, as {@code vm_memory_high_watermark.relative}: 0 blocks all publishing. */
        private static double fraction(String key, String value) {
            double f;
            try {
                f = Double.parseDouble(value);
            } catch (NumberFormatException e) {
                f = Double.NaN;
            }
            if (!(f >= 0 && f <= 1)) {
                throw new IllegalArgumentException(key + " must be a fraction of the maximum heap between 0 and 1, "
                        + "such as 0.9, got '" + value + "'");
            }
            return f;
        }

        /** A size no larger than the JVM's maximum heap, which a larger watermark could never reach. */
        private static long heapSize(String key, String value) {
            long bytes = bytes(key, value);
            long max = Runtime.getRuntime().maxMemory();
            if (bytes > max) {
                throw new IllegalArgumentException(key + " " + value + " is above the JVM's maximum heap ("
                        + max / (1024 * 1024) + " MiB, set with -Xmx), so the alarm could never go off: "
                        + "lower it or raise -Xmx");
            }
            return bytes;
        }

        private static long number(String key, String value, long min, long max) {
            long n;
            try {
                n = Long.parseLong(value);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(key + " must be a whole number, got '" + value + "'");
            }
            if (n < min || n > max) {
                throw new IllegalArgumentException(key + " must be between " + min + " and " + max + ", got " + n);
            }
            return n;
        }

        private static boolean bool(String key, String value) {
            return switch (value) {
                case "true" -> true;
                case "false" -> false;
                default -> throw new IllegalArgumentException(key + " must be true or false, got '" + value + "'");
            };
        }

        /** An IP address literal, as RabbitMQ's {@code management.tcp.ip} takes (no host names: no DNS at start). */
        private static String address(String key, String value) {
            boolean ipv4 = value.matches("\\d{1,3}(\\.\\d{1,3}){3}")
                    && java.util.Arrays.stream(value.split("\\.")).allMatch(p -> Integer.parseInt(p) <= 255);
            boolean ipv6 = value.matches("[0-9A-Fa-f:.]+") && value.contains(":");
            if (!ipv4 && !ipv6) {
                throw new IllegalArgumentException(key + " must be an IP address such as 127.0.0.1, 0.0.0.0 or ::1, "
                        + "got '" + value + "'");
            }
            return value;
        }

        private static String nonEmpty(String key, String value) {
            if (value.isEmpty()) {
                throw new IllegalArgumentException(key + " must not be empty");
            }
            return value;
        }

        private static ConsumerTimeoutAction timeoutAction(String value) {
            return switch (value) {
                case "cancel_consumer" -> ConsumerTimeoutAction.CANCEL_CONSUMER;
                case "close_channel" -> ConsumerTimeoutAction.CLOSE_CHANNEL;
                default -> throw new IllegalArgumentException("consumer_timeout.action must be cancel_consumer or "
                        + "close_channel, got '" + value + "'");
            };
        }

        private static FsyncPolicy fsync(String value) {
            try {
                return FsyncPolicy.valueOf(value.toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("journal.fsync must be always, interval or never, got '" + value + "'");
            }
        }

        /** @throws IllegalArgumentException if the keys do not fit together (a TLS listener without its files) */
        ServerConfig build() {
            if (tlsPort >= 0) {
                b.tls(tlsConfig(tlsAddress, tlsPort, tls));
            }
            if (managementTlsPort >= 0) {
                try {
                    b.managementTls(tlsConfig(managementTls.get("ip"), managementTlsPort, managementTls));
                } catch (IllegalArgumentException e) { // TlsConfig names rabbitmq.conf's AMQPS keys
                    throw new IllegalArgumentException(e.getMessage().replace("ssl_options.", "management.ssl."), e);
                }
            }
            if (!mechanisms.isEmpty()) {
                security = security.withAuthMechanisms(java.util.List.copyOf(mechanisms.values()));
            }
            return b.security(security).cluster(cluster()).build();
        }
    }
}
