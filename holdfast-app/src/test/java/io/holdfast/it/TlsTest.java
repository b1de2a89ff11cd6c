package io.holdfast.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.GetResponse;
import com.rabbitmq.client.MessageProperties;
import io.holdfast.server.config.TlsConfig;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The AMQPS listener ({@code listeners.ssl.default}, {@code ssl_options.*}): TLS clients publish and consume,
 * anything that is not a good TLS handshake costs only its own connection and is logged once. Each test runs
 * with {@code ssl_options.provider = auto} (the default: OpenSSL, which loads on Linux x86-64) and {@code jdk}.
 */
@ParameterizedClass(name = "ssl_options.provider = {0}")
@EnumSource(value = TlsConfig.Provider.class, names = {"AUTO", "JDK"})
class TlsTest {
    @Parameter
    TlsConfig.Provider provider;
    @TempDir
    Path dir;
    @TempDir
    static Path certDir;

    private static TestCertificates certs;
    @RegisterExtension
    final LogLines tlsLog = LogLines.of("io.holdfast.server.tls.TlsErrors");
    @RegisterExtension
    final LogLines providerLog = LogLines.of("io.holdfast.server.tls.Tls");

    @BeforeAll
    static void makeCertificates() throws Exception {
        certs = TestCertificates.create(certDir);
        certs.signed("client", "/CN=guest", null, "ca");
        certs.signed("stranger", "/CN=guest", null, null);
        certs.expired("expired", "/CN=guest");
    }

    private RunningBroker start(boolean verifyPeer) throws Exception {
        return RunningBroker.start(dir.resolve("data"), c -> c.toBuilder()
                .tls(certs.serverTls(verifyPeer).withProvider(provider)).build());
    }

    private ConnectionFactory tlsFactory(RunningBroker b, String protocol, String clientCert) throws Exception {
        ConnectionFactory f = b.factory();
        f.setPort(b.server().tlsPort());
        f.useSslProtocol(certs.clientContext(protocol, clientCert));
        f.enableHostnameVerification();
        return f;
    }

    private static void roundTrip(Connection c) throws Exception {
        try (Channel ch = c.createChannel()) {
            ch.queueDeclare("secure", true, false, false, null);
            ch.confirmSelect();
            ch.basicPublish("", "secure", MessageProperties.PERSISTENT_BASIC, "over TLS".getBytes());
            ch.waitForConfirmsOrDie(5000);
            GetResponse r = ch.basicGet("secure", true);
            assertThat(new String(r.getBody(), StandardCharsets.UTF_8)).isEqualTo("over TLS");
        }
    }

    @Test
    void javaClientsPublishAndConsumeOverTls12And13() throws Exception {
        try (RunningBroker b = start(false)) {
            assertThat(providerLog.count(m -> m.startsWith("AMQPS TLS provider: "
                    + TestCertificates.engineInLog(provider)))).isOne();
            for (String protocol : new String[] {"TLSv1.3", "TLSv1.2"}) {
                try (Connection c = tlsFactory(b, protocol, null).newConnection()) {
                    roundTrip(c);
                }
            }
        }
    }

    @Test
    void theServerChoosesAes128GcmThoughJavaClientsListAes256First() throws Exception {
        // BoringSSL's TLS 1.3 suites are fixed, and among its AES-GCM ones it takes the client's order.
        String tls13 = provider == TlsConfig.Provider.JDK ? "TLS_AES_128_GCM_SHA256" : "TLS_AES_256_GCM_SHA384";
        try (RunningBroker b = start(false)) {
            for (String[] p : new String[][] {{"TLSv1.3", tls13},
                    {"TLSv1.2", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"}}) {
                try (SSLSocket s = (SSLSocket) certs.clientContext(p[0], null).getSocketFactory()
                        .createSocket("127.0.0.1", b.server().tlsPort())) {
                    assertThat(s.getEnabledCipherSuites()[0]).as("the JDK client's first choice")
                            .contains("AES_256_GCM");
                    s.startHandshake();
                    assertThat(s.getSession().getCipherSuite()).isEqualTo(p[1]);
                }
            }
        }
    }

    @Test
    void tlsOlderThan12IsRefusedWithAProtocolVersionAlertAndTheReasonLogged() throws Exception {
        // openssl's client, because the JDK's will not even send a TLS 1.1 hello
        try (RunningBroker b = start(false)) {
            Process client = new ProcessBuilder("openssl", "s_client", "-connect", "127.0.0.1:" + b.server().tlsPort(),
                    "-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0").redirectErrorStream(true).start();
            client.getOutputStream().close();
            String output = new String(client.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(client.waitFor(30, TimeUnit.SECONDS)).isTrue();
            assertThat(output).contains("alert protocol version");
            await().atMost(Duration.ofSeconds(5)).until(() -> tlsLog.count(
                    m -> m.contains("TLS handshake failed") && m.contains("protocol")) == 1);
        }
    }

    @Test
    void aPlainClientOnTheTlsPortIsRefusedWithOneClearLogLineAndOthersGoOn() throws Exception {
        try (RunningBroker b = start(false)) {
            ConnectionFactory plain = b.factory();
            plain.setPort(b.server().tlsPort());
            plain.setConnectionTimeout(5000);
            assertThatThrownBy(plain::newConnection).isInstanceOf(Exception.class);
            await().atMost(Duration.ofSeconds(5)).until(() -> tlsLog.anyContains(
                    "not a TLS handshake (a plain AMQP client on the AMQPS port?)"));
            try (Socket garbage = new Socket("127.0.0.1", b.server().tlsPort())) {
                OutputStream out = garbage.getOutputStream();
                out.write(new byte[] {0x16, 0x03, 0x01, 0x00, 0x05, 1, 2, 3, 4, 5}); // a handshake record of nonsense
                out.flush();
                garbage.setSoTimeout(5000);
                assertThat(garbage.getInputStream().read(new byte[64])).isNotZero(); // an alert or the close
            }
            try (Connection tls = tlsFactory(b, "TLSv1.3", null).newConnection(); Connection c = b.connect()) {
                roundTrip(tls);
                assertThat(c.isOpen()).isTrue();
            }
        }
    }

    @Test
    void withVerifyPeerOnlyClientsWithACertificateFromTheCaGetIn() throws Exception {
        try (RunningBroker b = start(true)) {
            try (Connection c = tlsFactory(b, "TLSv1.3", "client").newConnection()) {
                roundTrip(c);
            }
            ConnectionFactory noCert = tlsFactory(b, "TLSv1.3", null);
            noCert.setConnectionTimeout(5000);
            assertThatThrownBy(noCert::newConnection).isInstanceOf(Exception.class);
            ConnectionFactory untrusted = tlsFactory(b, "TLSv1.2", "stranger");
            untrusted.setConnectionTimeout(5000);
            assertThatThrownBy(untrusted::newConnection).isInstanceOf(Exception.class);
            await().atMost(Duration.ofSeconds(5)).until(() -> tlsLog.count(
                    m -> m.contains("TLS handshake failed")) >= 2);
        }
    }

    @Test
    void anExpiredClientCertificateIsRefusedWithTheReasonLoggedAndOthersGoOn() throws Exception {
        try (RunningBroker b = start(true); Connection good = tlsFactory(b, "TLSv1.3", "client").newConnection()) {
            for (String protocol : new String[] {"TLSv1.3", "TLSv1.2"}) {
                ConnectionFactory expired = tlsFactory(b, protocol, "expired");
                expired.setConnectionTimeout(5000);
                assertThatThrownBy(expired::newConnection).isInstanceOf(Exception.class);
            }
            await().atMost(Duration.ofSeconds(5)).until(() -> tlsLog.count(
                    m -> m.contains("TLS handshake failed") && m.contains("validity check failed")) >= 2);
            roundTrip(good);
            assertThat(good.isOpen()).isTrue();
        }
    }

    @Test
    void pikaPublishesAndConsumesOverTls() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/python3")));
        try (RunningBroker b = start(false)) {
            String script = String.join("\n",
                    "import ssl, sys, pika",
                    "ctx = ssl.create_default_context(cafile=sys.argv[2])",
                    "params = pika.ConnectionParameters(host='localhost', port=int(sys.argv[1]),",
                    "    ssl_options=pika.SSLOptions(ctx, 'localhost'))",
                    "conn = pika.BlockingConnection(params)",
                    "ch = conn.channel()",
                    "ch.queue_declare('pika-tls', durable=True)",
                    "ch.confirm_delivery()",
                    "ch.basic_publish('', 'pika-tls', b'hello over TLS', pika.BasicProperties(delivery_mode=2))",
                    "method, props, body = ch.basic_get('pika-tls', auto_ack=True)",
                    "assert body == b'hello over TLS', body",
                    "print(conn._impl._transport._sock.version())",
                    "conn.close()");
            Path py = Files.writeString(dir.resolve("tls_client.py"), script);
            Process p = new ProcessBuilder("/usr/bin/python3", py.toString(), String.valueOf(b.server().tlsPort()),
                    certs.caCert.toString()).redirectErrorStream(true).start();
            assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
            String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (output.contains("No module named 'pika'")) {
                org.junit.jupiter.api.Assumptions.abort("python3-pika is not installed");
            }
            assertThat(p.exitValue()).as(output).isZero();
            assertThat(output).containsPattern("TLSv1\\.[23]");
        }
    }
}
