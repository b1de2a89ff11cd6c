package io.holdfast.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.holdfast.core.ConsumerTimeoutAction;
import io.holdfast.server.config.SecurityConfig;
import io.holdfast.server.config.ServerConfig;
import io.holdfast.server.config.TlsConfig;
import io.holdfast.store.FsyncPolicy;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigFileTest {
    @TempDir
    Path dir;

    private ServerConfig load(String text) throws Exception {
        Path f = dir.resolve("holdfast.conf");
        Files.writeString(f, text);
        return ConfigFile.apply(f, ServerConfig.defaults(dir));
    }

    @Test
    void readsRabbitMqStyleKeys() throws Exception {
        ServerConfig c = load("""
                # comment
                listeners.tcp.default = 0.0.0.0:5999
                default_user = alice
                default_pass = secret
                heartbeat = 30
                disk_free_limit.absolute = 2GB
                journal.fsync = interval
                """);
        assertThat(c.bindAddress()).isEqualTo("0.0.0.0");
        assertThat(c.port()).isEqualTo(5999);
        assertThat(c.defaultUser()).isEqualTo("alice");
        assertThat(c.heartbeatSeconds()).isEqualTo(30);
        assertThat(c.diskFreeLimitBytes()).isEqualTo(2_000_000_000L);
        assertThat(c.fsync()).isEqualTo(FsyncPolicy.INTERVAL);
    }

    @Test
    void tlsListenerKeysAsRabbitMqNamesThem() throws Exception {
        ServerConfig c = load("""
                listeners.ssl.default = 5671
                ssl_options.cacertfile = /etc/holdfast/ca.pem
                ssl_options.certfile = /etc/holdfast/server.pem
                ssl_options.keyfile = /etc/holdfast/server.key
                ssl_options.verify = verify_peer
                ssl_options.fail_if_no_peer_cert = true
                management.unauthenticated_health_and_metrics = true
                management.http.max_body_size = 104857600
                prometheus.return_per_object_metrics = true
                """);
        assertThat(c.managementBodyBytesMax()).isEqualTo(100 * 1024 * 1024);
        assertThat(c.prometheusPerObject()).isTrue();
        assertThat(load("heartbeat = 10\n").prometheusPerObject()).as("RabbitMQ's default: totals").isFalse();
        assertThat(load("heartbeat = 10\n").managementBodyBytesMax()).as("RabbitMQ's default").isEqualTo(20 << 20);
        assertThat(c.tls().port()).isEqualTo(5671);
        assertThat(c.tls().certFile()).isEqualTo(Path.of("/etc/holdfast/server.pem"));
        assertThat(c.tls().verifyPeer()).isTrue();
        assertThat(c.tls().failIfNoPeerCert()).isTrue();
        assertThat(c.managementHealthOpen()).isTrue();
        assertThat(load("heartbeat = 10\n").tls()).as("no TLS listener by default").isNull();
    }

    @Test
    void theTlsProviderIsAutoUnlessSetForEachListener() throws Exception {
        String files = """
                listeners.ssl.default = 5671
                ssl_options.certfile = /etc/holdfast/server.pem
                ssl_options.keyfile = /etc/holdfast/server.key
                management.ssl.port = 15671
                management.ssl.certfile = /etc/holdfast/server.pem
                management.ssl.keyfile = /etc/holdfast/server.key
                """;
        ServerConfig defaults = load(files);
        assertThat(defaults.tls().provider()).isEqualTo(TlsConfig.Provider.AUTO);
        assertThat(defaults.managementTls().provider()).isEqualTo(TlsConfig.Provider.AUTO);
        ServerConfig set = load(files + "ssl_options.provider = openssl\nmanagement.ssl.provider = jdk\n");
        assertThat(set.tls().provider()).isEqualTo(TlsConfig.Provider.OPENSSL);
        assertThat(set.managementTls().provider()).isEqualTo(TlsConfig.Provider.JDK);
        assertThatThrownBy(() -> load("ssl_options.provider = boringssl\n"))
                .hasMessageContaining("ssl_options.provider must be one of auto, openssl, jdk, got 'boringssl'");
        assertThatThrownBy(() -> load("management.ssl.provider = OpenSSL\n"))
                .hasMessageContaining("management.ssl.provider must be one of auto, openssl, jdk");
    }

    @Test
    void aTlsListenerWithoutItsFilesSaysWhichKeysAreMissing() {
        assertThatThrownBy(() -> load("listeners.ssl.default = 5671\n"))
                .isInstanceOf(ConfigFile.ConfigException.class)
                .hasMessageContaining("needs ssl_options.certfile and ssl_options.keyfile");
        assertThatThrownBy(() -> load("""
                listeners.ssl.default = 5671
                ssl_options.certfile = a.pem
                ssl_options.keyfile = a.key
                ssl_options.verify = verify_peer
                """)).hasMessageContaining("verify_peer needs ssl_options.cacertfile");
        assertThatThrownBy(() -> load("ssl_options.verify = maybe\n")).hasMessageContaining("verify_peer, verify_none");
    }

    @Test
    void managementTlsLoginAndConnectionLimitKeysAsRabbitMqNamesThem() throws Exception {
        ServerConfig c = load("""
                management.ssl.port = 15671
                management.ssl.cacertfile = /etc/holdfast/ca.pem
                management.ssl.certfile = /etc/holdfast/server.pem
                management.ssl.keyfile = /etc/holdfast/server.key
                management.ssl.verify = verify_peer
                management.ssl.fail_if_no_peer_cert = true
                auth_mechanisms.1 = EXTERNAL
                auth_mechanisms.2 = PLAIN
                ssl_cert_login_from = common_name
                connection_max = 500
                connection_rate_max = 50
                """);
        assertThat(c.managementTls().port()).isEqualTo(15671);
        assertThat(c.managementTls().verifyPeer()).isTrue();
        assertThat(c.managementTls().failIfNoPeerCert()).isTrue();
        assertThat(c.security().authMechanisms()).containsExactly("EXTERNAL", "PLAIN");
        assertThat(c.security().certLoginFrom()).isEqualTo(SecurityConfig.CertLoginFrom.COMMON_NAME);
        assertThat(c.security().connectionMax()).isEqualTo(500);
        assertThat(c.security().connectionRateMax()).isEqualTo(50);
        ServerConfig d = load("heartbeat = 10\n");
        assertThat(d.managementTls()).as("no HTTPS listener by default").isNull();
        assertThat(d.security()).isEqualTo(SecurityConfig.defaults());
        assertThatThrownBy(() -> load("management.ssl.port = 15671\n"))
                .hasMessageContaining("needs management.ssl.certfile and management.ssl.keyfile");
        assertThatThrownBy(() -> load("auth_mechanisms.1 = CRAM-MD5\n")).hasMessageContaining("unknown mechanism");
        assertThatThrownBy(() -> load("ssl_cert_login_from = email\n")).hasMessageContaining("common_name");
        assertThatThrownBy(() -> load("ssl_cert_login_san_type = x400\n")).hasMessageContaining("other_name");
        assertThatThrownBy(() -> load("ssl_cert_login_san_index = -1\n")).hasMessageContaining("ssl_cert_login_san_index");
    }

    @Test
    void certificateLoginBySubjectAlternativeName() throws Exception {
        ServerConfig c = load("ssl_cert_login_from = subject_alternative_name\nssl_cert_login_san_type = email\n"
                + "ssl_cert_login_san_index = 1\n");
        assertThat(c.security().certLoginFrom()).isEqualTo(SecurityConfig.CertLoginFrom.SUBJECT_ALTERNATIVE_NAME);
        assertThat(c.security().certLoginSanType()).isEqualTo(SecurityConfig.SanType.EMAIL);
        assertThat(c.security().certLoginSanIndex()).isEqualTo(1);
        ServerConfig defaults = load("ssl_cert_login_from = subject_alt_name\n");
        assertThat(defaults.security().certLoginSanType()).as("RabbitMQ's default").isEqualTo(SecurityConfig.SanType.DNS);
        assertThat(defaults.security().certLoginSanIndex()).isZero();
    }

    @Test
    void unknownKeyNamesTheFileAndLine() {
        assertThatThrownBy(() -> load("heartbeat = 10\nhartbeat = 10\n"))
                .isInstanceOf(ConfigFile.ConfigException.class)
                .hasMessageContaining("line 2").hasMessageContaining("unknown key 'hartbeat'");
    }

    @Test
    void badValuesSayWhatIsExpected() {
        assertThatThrownBy(() -> load("heartbeat = soon")).hasMessageContaining("heartbeat must be a whole number");
        assertThatThrownBy(() -> load("journal.fsync = sometimes")).hasMessageContaining("always, interval or never");
        assertThatThrownBy(() -> load("disk_free_limit.absolute = 2 parsecs")).hasMessageContaining("unknown unit");
        assertThatThrownBy(() -> load("frame_max = 100")).hasMessageContaining("between 4096");
        assertThatThrownBy(() -> load("no equals sign")).hasMessageContaining("expected 'key = value'");
    }

    @Test
    void memoryHighWatermarkKeys() throws Exception {
        long maxHeap = Runtime.getRuntime().maxMemory();
        assertThat(ServerConfig.defaults(dir).memoryHighWatermarkBytes()).isEqualTo((long) (maxHeap * 0.9));
        assertThat(load("vm_memory_high_watermark.relative = 0.5").memoryHighWatermarkBytes())
                .isEqualTo((long) (maxHeap * 0.5));
        assertThat(load("vm_memory_high_watermark.relative = 0").memoryHighWatermarkBytes()).isZero();
        assertThat(load("vm_memory_high_watermark.absolute = 200MiB").memoryHighWatermarkBytes())
                .isEqualTo(200L * 1024 * 1024);
        assertThat(load("vm_memory_high_watermark.absolute = 100MB").memoryHighWatermarkBytes())
                .isEqualTo(100_000_000L);
    }

    @Test
    void badMemoryHighWatermarksSayWhatToFix() {
        assertThatThrownBy(() -> load("vm_memory_high_watermark.relative = 1.5"))
                .isInstanceOf(ConfigFile.ConfigException.class).hasMessageContaining("line 1")
                .hasMessageContaining("vm_memory_high_watermark.relative must be a fraction of the maximum heap "
                        + "between 0 and 1, such as 0.9, got '1.5'");
        assertThatThrownBy(() -> load("vm_memory_high_watermark.relative = lots"))
                .hasMessageContaining("between 0 and 1, such as 0.9, got 'lots'");
        assertThatThrownBy(() -> load("vm_memory_high_watermark.relative = NaN")).hasMessageContaining("got 'NaN'");
        assertThatThrownBy(() -> load("vm_memory_high_watermark.relative = -0.1")).hasMessageContaining("got '-0.1'");
        assertThatThrownBy(() -> load("vm_memory_high_watermark.absolute = 2 parsecs"))
                .hasMessageContaining("vm_memory_high_watermark.absolute: unknown unit 'parsecs'");
        assertThatThrownBy(() -> load("vm_memory_high_watermark.absolute = 0.5"))
                .hasMessageContaining("vm_memory_high_watermark.absolute must be a size such as 2GB or 500MiB");
        assertThatThrownBy(() -> load("vm_memory_high_watermark.absolute = 1000000GiB"))
                .hasMessageContaining("is above the JVM's maximum heap").hasMessageContaining("raise -Xmx");
        assertThatThrownBy(() -> load("vm_memory_high_watermark.relative = 0.8\nvm_memory_high_watermark.absolute = 100MiB\n"))
                .hasMessageContaining("line 2").hasMessageContaining("not both");
    }

    @Test
    void managementListenerKeys() throws Exception {
        ServerConfig defaults = load("");
        assertThat(defaults.managementEnabled()).isTrue();
        assertThat(defaults.managementBindAddress()).isEqualTo("127.0.0.1");
        assertThat(defaults.managementPort()).isEqualTo(15672);
        ServerConfig c = load("management.tcp.ip = 0.0.0.0\nmanagement.tcp.port = 0\nmanagement.enabled = false\n");
        assertThat(c.managementBindAddress()).isEqualTo("0.0.0.0");
        assertThat(c.managementPort()).isZero();
        assertThat(c.managementEnabled()).isFalse();
        assertThat(load("management.tcp.ip = ::1").managementBindAddress()).isEqualTo("::1");
        assertThatThrownBy(() -> load("management.tcp.port = -1")).hasMessageContaining("between 0 and 65535");
        assertThatThrownBy(() -> load("management.tcp.ip = broker.example")).hasMessageContaining("IP address");
        assertThatThrownBy(() -> load("management.tcp.ip = 300.1.1.1")).hasMessageContaining("IP address");
        assertThatThrownBy(() -> load("management.enabled = no")).hasMessageContaining("true or false");
    }

    @Test
    void consumerTimeoutKeys() throws Exception {
        ServerConfig defaults = load("");
        assertThat(defaults.consumerTimeoutMillis()).isEqualTo(1_800_000);
        assertThat(defaults.consumerTimeoutAction()).isEqualTo(ConsumerTimeoutAction.CANCEL_CONSUMER);
        ServerConfig c = load("consumer_timeout = 60000\nconsumer_timeout.action = close_channel\n");
        assertThat(c.consumerTimeoutMillis()).isEqualTo(60_000);
        assertThat(c.consumerTimeoutAction()).isEqualTo(ConsumerTimeoutAction.CLOSE_CHANNEL);
        assertThat(load("consumer_timeout = false").consumerTimeoutMillis()).isNegative();
        assertThatThrownBy(() -> load("consumer_timeout = 0")).hasMessageContaining("between 1 and");
        assertThatThrownBy(() -> load("consumer_timeout = soon")).hasMessageContaining("whole number");
        assertThatThrownBy(() -> load("consumer_timeout.action = kill"))
                .hasMessageContaining("cancel_consumer or close_channel");
    }
}
