package io.holdfast.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.holdfast.server.config.TlsConfig;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The management HTTPS listener ({@code management.ssl.*}, as RabbitMQ's management plugin names them): the
 * same API over TLS 1.2/1.3, client certificates checked with {@code verify_peer}, and a plain HTTP client on
 * the HTTPS port costs only its own connection. Each test runs with {@code management.ssl.provider = auto} (the
 * default: OpenSSL, which loads on Linux x86-64) and {@code jdk}.
 */
@ParameterizedClass(name = "management.ssl.provider = {0}")
@EnumSource(value = TlsConfig.Provider.class, names = {"AUTO", "JDK"})
class ManagementTlsTest {
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
    }

    private RunningBroker start(boolean verifyPeer) throws Exception {
        return RunningBroker.start(dir.resolve("data"), c -> c.toBuilder()
                .managementTls(certs.serverTls(verifyPeer).withProvider(provider)).build());
    }

    private static HttpResponse<String> overview(RunningBroker b, String clientCert) throws Exception {
        HttpClient https = HttpClient.newBuilder().sslContext(certs.clientContext("TLSv1.3", clientCert))
                .connectTimeout(Duration.ofSeconds(5)).build();
        HttpRequest request = HttpRequest.newBuilder(URI.create("https://localhost:" + b.server().managementTlsPort()
                        + "/api/overview"))
                .header("Authorization", "Basic " + Base64.getEncoder().encodeToString(
                        "guest:guest".getBytes(StandardCharsets.UTF_8)))
                .timeout(Duration.ofSeconds(10)).build();
        return https.send(request, HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void theManagementApiAnswersOverHttpsAndPlainHttpStaysAsConfigured() throws Exception {
        try (RunningBroker b = start(false)) {
            assertThat(providerLog.count(m -> m.startsWith("management HTTPS TLS provider: "
                    + TestCertificates.engineInLog(provider)))).isOne();
            HttpResponse<String> r = overview(b, null);
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).contains("\"product_name\"");
            assertThat(r.sslSession()).hasValueSatisfying(s -> assertThat(s.getProtocol()).isIn("TLSv1.3", "TLSv1.2"));
            assertThat(Management.request(b, "GET", "/api/overview", "guest", "guest", null).statusCode())
                    .isEqualTo(200);
        }
    }

    @Test
    void withVerifyPeerOnlyClientsWithACertificateFromTheCaGetIn() throws Exception {
        try (RunningBroker b = start(true)) {
            assertThat(overview(b, "client").statusCode()).isEqualTo(200);
            assertThatThrownBy(() -> overview(b, null)).isInstanceOf(IOException.class);
            await().atMost(Duration.ofSeconds(5)).until(() -> tlsLog.anyContains(
                    "on the management HTTPS listener: TLS handshake failed"));
        }
    }

    @Test
    void aPlainHttpClientOnTheHttpsPortIsRefusedWithOneClearLogLine() throws Exception {
        try (RunningBroker b = start(false)) {
            HttpClient plain = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
            HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                    + b.server().managementTlsPort() + "/api/overview")).timeout(Duration.ofSeconds(10)).build();
            assertThatThrownBy(() -> plain.send(request, HttpResponse.BodyHandlers.ofString()))
                    .isInstanceOf(IOException.class);
            await().atMost(Duration.ofSeconds(5)).until(() -> tlsLog.anyContains(
                    "not a TLS handshake (a plain HTTP client on the management HTTPS port?)"));
            assertThat(overview(b, null).statusCode()).as("the HTTPS listener goes on").isEqualTo(200);
        }
    }
}
