package io.holdfast.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.GetResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ssl_options.provider} on a machine where OpenSSL does not load (another platform than Linux x86-64),
 * played by a child broker started with Netty's {@code -Dio.netty.handler.ssl.noOpenSsl=true}: {@code auto}
 * serves with the JDK's engine and says why in one line, {@code openssl} refuses to start with one line.
 */
class TlsProviderFallbackTest {
    private static final List<String> NO_OPENSSL = List.of("-Dio.netty.handler.ssl.noOpenSsl=true");
    private static final Pattern AMQPS_PORT = Pattern.compile("AMQPS \\(TLS 1\\.2/1\\.3\\) on .*:(\\d+)");

    @TempDir
    Path dir;
    @TempDir
    static Path certDir;

    private static TestCertificates certs;

    @BeforeAll
    static void makeCertificates() throws Exception {
        certs = TestCertificates.create(certDir);
    }

    private Path config(String provider) throws Exception {
        return Files.writeString(dir.resolve("holdfast.conf"), String.join("\n",
                "management.enabled = false",
                "listeners.ssl.default = 0",
                "ssl_options.certfile = " + certs.serverCert,
                "ssl_options.keyfile = " + certs.serverKey,
                "ssl_options.provider = " + provider, ""));
    }

    @Test
    void autoFallsBackToTheJdkWithOneWarningAndServesTls() throws Exception {
        try (ChildBroker broker = ChildBroker.spawn(dir.resolve("data"), config("auto"), dir.resolve("broker.log"),
                "256m", NO_OPENSSL)) {
            var listening = broker.lineContaining("listening for AMQP 0-9-1");
            broker.awaitListening(60);
            Matcher port = AMQPS_PORT.matcher(listening.get(10, TimeUnit.SECONDS));
            assertThat(port.find()).as(broker.tail()).isTrue();
            assertThat(broker.log().lines().filter(l -> l.contains("TLS provider"))).singleElement().asString()
                    .contains("WARN", "AMQPS TLS provider: the JDK's, as ssl_options.provider = auto and OpenSSL "
                            + "(netty-tcnative) is not available on ", "-Dio.netty.handler.ssl.noOpenSsl=true",
                            "(set ssl_options.provider = jdk to choose the JDK's without this warning)");
            ConnectionFactory f = broker.factory();
            f.setPort(Integer.parseInt(port.group(1)));
            f.useSslProtocol(certs.clientContext("TLSv1.3", null));
            f.enableHostnameVerification();
            try (Connection c = f.newConnection(); Channel ch = c.createChannel()) {
                ch.queueDeclare("fallback", false, false, false, null);
                ch.basicPublish("", "fallback", null, "over the JDK's TLS".getBytes(StandardCharsets.UTF_8));
                GetResponse r = ch.basicGet("fallback", true);
                assertThat(new String(r.getBody(), StandardCharsets.UTF_8)).isEqualTo("over the JDK's TLS");
            }
        }
    }

    @Test
    void opensslWhereItDoesNotLoadRefusesToStartWithOneLine() throws Exception {
        try (ChildBroker broker = ChildBroker.spawn(dir.resolve("data"), config("openssl"), dir.resolve("broker.log"),
                "256m", NO_OPENSSL)) {
            assertThat(broker.awaitExitCode(60)).as(broker.tail()).isEqualTo(1);
            assertThat(broker.log().lines().filter(l -> l.startsWith("holdfast: "))).singleElement().asString()
                    .startsWith("holdfast: ssl_options.provider = openssl, but OpenSSL (netty-tcnative) is not "
                            + "available on ")
                    .contains("-Dio.netty.handler.ssl.noOpenSsl=true",
                            "set ssl_options.provider = auto or jdk to use the JDK's TLS");
            assertThat(broker.listening()).isFalse();
        }
    }
}
