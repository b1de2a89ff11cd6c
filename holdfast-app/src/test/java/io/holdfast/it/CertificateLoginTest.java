package io.holdfast.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.rabbitmq.client.AuthenticationFailureException;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.DefaultSaslConfig;
import com.rabbitmq.client.GetResponse;
import com.rabbitmq.client.LongString;
import com.rabbitmq.client.SaslMechanism;
import com.rabbitmq.client.impl.LongStringHelper;
import io.holdfast.server.config.SecurityConfig;
import io.holdfast.server.config.SecurityConfig.CertLoginFrom;
import io.holdfast.server.config.TlsConfig;
import java.io.IOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * SASL EXTERNAL (RabbitMQ's rabbitmq_auth_mechanism_ssl): a client with a verified TLS certificate logs in as
 * the user its certificate names ({@code ssl_cert_login_from}), without a password; that user must exist and
 * the vhost permissions apply. Offered only on a TLS connection with a verified certificate. Each test runs with
 * {@code ssl_options.provider = auto} (the default: OpenSSL, which loads on Linux x86-64) and {@code jdk}, whose
 * engines hand over the peer certificate differently.
 */
@ParameterizedClass(name = "ssl_options.provider = {0}")
@EnumSource(value = TlsConfig.Provider.class, names = {"AUTO", "JDK"})
class CertificateLoginTest {
    @Parameter
    TlsConfig.Provider provider;
    @TempDir
    Path dir;
    @TempDir
    static Path certDir;

    private static TestCertificates certs;

    @BeforeAll
    static void makeCertificates() throws Exception {
        certs = TestCertificates.create(certDir);
        certs.signed("alice", "/O=Holdfast/OU=Orders/CN=alice", null, "ca");
        certs.signed("bob", "/CN=bob", null, "ca");
        certs.signed("carol", "/CN=carol", null, "ca");
        certs.signed("sans", "/CN=not-this-one", "subjectAltName=DNS:first.example,DNS:second.example,IP:10.0.0.7,"
                + "email:dora@example.com,URI:urn:holdfast:dora,otherName:1.3.6.1.4.1.311.20.2.3;UTF8:dora@corp.example",
                "ca");
    }

    private RunningBroker start(CertLoginFrom from) throws Exception {
        return start(SecurityConfig.defaults().withCertLoginFrom(from));
    }

    private RunningBroker start(SecurityConfig login) throws Exception {
        TlsConfig tls = new TlsConfig(null, 0, certs.serverCert, certs.serverKey, null, certs.caCert, true, false,
                provider);
        SecurityConfig security = login.withAuthMechanisms(List.of("PLAIN", "AMQPLAIN", "EXTERNAL"));
        return RunningBroker.start(dir.resolve("data"), c -> c.toBuilder().tls(tls).security(security).build());
    }

    private static void addUser(RunningBroker b, String name, boolean permissions) throws Exception {
        String path = URLEncoder.encode(name, StandardCharsets.UTF_8).replace("+", "%20");
        assertThat(Management.request(b, "PUT", "/api/users/" + path, "guest", "guest",
                "{\"password\":\"unused-by-external\",\"tags\":\"\"}").statusCode()).isEqualTo(201);
        if (permissions) {
            assertThat(Management.request(b, "PUT", "/api/permissions/%2F/" + path, "guest", "guest",
                    "{\"configure\":\".*\",\"write\":\".*\",\"read\":\".*\"}").statusCode()).isEqualTo(201);
        }
    }

    private static ConnectionFactory external(RunningBroker b, String clientCert) throws Exception {
        ConnectionFactory f = b.factory();
        f.setPort(b.server().tlsPort());
        f.useSslProtocol(certs.clientContext("TLSv1.3", clientCert));
        f.setSaslConfig(DefaultSaslConfig.EXTERNAL);
        return f;
    }

    /** Sends EXTERNAL whatever the server offers, to see the broker's own refusal. */
    private static SaslMechanism forcedExternal() {
        return new SaslMechanism() {
            @Override
            public String getName() {
                return "EXTERNAL";
            }

            @Override
            public LongString handleChallenge(LongString challenge, String username, String password) {
                return LongStringHelper.asLongString("");
            }
        };
    }

    private static void roundTrip(Connection c, String queue) throws Exception {
        try (Channel ch = c.createChannel()) {
            ch.queueDeclare(queue, false, false, true, null);
            ch.basicPublish("", queue, null, "by certificate".getBytes());
            GetResponse r = ch.basicGet(queue, true);
            assertThat(new String(r.getBody(), StandardCharsets.UTF_8)).isEqualTo("by certificate");
        }
    }

    @Test
    void externalLogsInAsTheCertificatesDistinguishedNameByDefault() throws Exception {
        try (RunningBroker b = start(CertLoginFrom.DISTINGUISHED_NAME)) {
            addUser(b, "CN=alice,OU=Orders,O=Holdfast", true);
            try (Connection c = external(b, "alice").newConnection()) {
                roundTrip(c, "dn-login");
            }
            assertThat(Management.request(b, "GET", "/api/audit", "guest", "guest", null).body())
                    .doesNotContain("login_failed");
        }
    }

    @Test
    void withCommonNameTheUserIsTheCertificatesCn() throws Exception {
        try (RunningBroker b = start(CertLoginFrom.COMMON_NAME)) {
            addUser(b, "alice", true);
            try (Connection c = external(b, "alice").newConnection()) {
                roundTrip(c, "cn-login");
            }
        }
    }

    @Test
    void withSubjectAlternativeNameTheUserIsTheNameOfTheTypeAndIndexConfigured() throws Exception {
        String[][] cases = {{"DNS", "1", "second.example"}, {"IP", "0", "10.0.0.7"}, {"EMAIL", "0", "dora@example.com"},
                {"URI", "0", "urn:holdfast:dora"}, {"OTHER_NAME", "0", "dora@corp.example"}};
        for (String[] c : cases) {
            SecurityConfig san = SecurityConfig.defaults().withCertLoginFrom(CertLoginFrom.SUBJECT_ALTERNATIVE_NAME)
                    .withCertLoginSan(SecurityConfig.SanType.valueOf(c[0]), Integer.parseInt(c[1]));
            try (RunningBroker b = start(san)) {
                addUser(b, "first.example", true); // the default (dns, 0) would pick this one
                addUser(b, c[2], true);
                try (Connection conn = external(b, "sans").newConnection()) {
                    assertThat(Management.request(b, "GET", "/api/connections", "guest", "guest", null).body())
                            .as("%s %s", c[0], c[1]).contains("\"user\":\"" + c[2] + "\"");
                    roundTrip(conn, "san-login");
                }
            }
            java.nio.file.Files.walk(dir.resolve("data")).sorted(java.util.Comparator.reverseOrder())
                    .forEach(p -> p.toFile().delete());
        }
    }

    @Test
    void aSubjectAlternativeNameThatIsNotThereIsARefusedLogin() throws Exception {
        SecurityConfig san = SecurityConfig.defaults().withCertLoginFrom(CertLoginFrom.SUBJECT_ALTERNATIVE_NAME)
                .withCertLoginSan(SecurityConfig.SanType.DNS, 2);
        try (RunningBroker b = start(san)) {
            addUser(b, "first.example", true);
            addUser(b, "not-this-one", true);
            assertThatThrownBy(() -> external(b, "sans").newConnection())
                    .hasMessageContaining("server offered [PLAIN AMQPLAIN]");
        }
    }

    @Test
    void anUnknownCertificateUserIsRefusedAndVhostPermissionsApply() throws Exception {
        try (RunningBroker b = start(CertLoginFrom.COMMON_NAME)) {
            assertThatThrownBy(() -> external(b, "bob").newConnection())
                    .isInstanceOf(AuthenticationFailureException.class)
                    .hasMessageContaining("ACCESS_REFUSED - Login was refused using authentication mechanism EXTERNAL");
            addUser(b, "carol", false);
            assertThatThrownBy(() -> external(b, "carol").newConnection())
                    .isInstanceOf(IOException.class).rootCause().hasMessageContaining("NOT_ALLOWED")
                    .hasMessageContaining("access to vhost '/' refused for user 'carol'");
        }
    }

    @Test
    void externalIsRefusedOnAPlainConnectionAndOnTlsWithoutACertificate() throws Exception {
        try (RunningBroker b = start(CertLoginFrom.COMMON_NAME)) {
            addUser(b, "alice", true);
            ConnectionFactory plain = b.factory();
            plain.setSaslConfig(mechanisms -> forcedExternal());
            assertThatThrownBy(plain::newConnection).isInstanceOf(AuthenticationFailureException.class)
                    .hasMessageContaining("ACCESS_REFUSED - unsupported authentication mechanism 'EXTERNAL', "
                            + "supported: PLAIN AMQPLAIN (EXTERNAL needs a TLS connection with a verified client "
                            + "certificate)");
            ConnectionFactory noCertificate = external(b, null);
            noCertificate.setSaslConfig(mechanisms -> forcedExternal());
            assertThatThrownBy(noCertificate::newConnection).isInstanceOf(AuthenticationFailureException.class)
                    .hasMessageContaining("unsupported authentication mechanism 'EXTERNAL'");
            ConnectionFactory javaDefault = external(b, null);
            assertThatThrownBy(javaDefault::newConnection).as("the Java client sees EXTERNAL is not offered")
                    .hasMessageContaining("server offered [PLAIN AMQPLAIN]");
            try (Connection c = external(b, "alice").newConnection()) {
                assertThat(c.isOpen()).isTrue();
            }
        }
    }

    @Test
    void aUserWithoutAPasswordLogsInOnlyByCertificate() throws Exception {
        try (RunningBroker b = start(CertLoginFrom.COMMON_NAME)) {
            // RabbitMQ's API: a PUT with neither password nor password_hash makes a user without a password.
            assertThat(Management.request(b, "PUT", "/api/users/alice", "guest", "guest", "{\"tags\":\"management\"}")
                    .statusCode()).isEqualTo(201);
            assertThat(Management.request(b, "PUT", "/api/permissions/%2F/alice", "guest", "guest",
                    "{\"configure\":\".*\",\"write\":\".*\",\"read\":\".*\"}").statusCode()).isEqualTo(201);
            assertThat(Management.request(b, "GET", "/api/users/alice", "guest", "guest", null).body())
                    .contains("\"password_hash\":\"\"");
            for (String password : new String[] {"", "anything"}) {
                ConnectionFactory plain = b.factory();
                plain.setUsername("alice");
                plain.setPassword(password);
                assertThatThrownBy(plain::newConnection).isInstanceOf(AuthenticationFailureException.class)
                        .hasMessageContaining("ACCESS_REFUSED - Login was refused using authentication mechanism PLAIN");
                assertThat(Management.request(b, "GET", "/api/whoami", "alice", password, null).statusCode())
                        .isEqualTo(401);
            }
            try (Connection c = external(b, "alice").newConnection()) {
                roundTrip(c, "no-password");
            }
            // Given a password it logs in with it; "password_hash": "" takes it away again.
            assertThat(Management.request(b, "PUT", "/api/users/alice", "guest", "guest",
                    "{\"password\":\"s3cret\",\"tags\":\"management\"}").statusCode()).isEqualTo(204);
            assertThat(Management.request(b, "GET", "/api/whoami", "alice", "s3cret", null).statusCode()).isEqualTo(200);
            assertThat(Management.request(b, "PUT", "/api/users/alice", "guest", "guest",
                    "{\"password_hash\":\"\",\"tags\":\"management\"}").statusCode()).isEqualTo(204);
            assertThat(Management.request(b, "GET", "/api/whoami", "alice", "s3cret", null).statusCode()).isEqualTo(401);
            try (Connection c = external(b, "alice").newConnection()) {
                assertThat(c.isOpen()).isTrue();
            }
        }
    }

    @Test
    void externalIsNotOfferedUnlessConfigured() throws Exception {
        TlsConfig tls = new TlsConfig(null, 0, certs.serverCert, certs.serverKey, null, certs.caCert, true, false,
                provider);
        try (RunningBroker b = RunningBroker.start(dir.resolve("data"), c -> c.toBuilder().tls(tls).build())) {
            addUser(b, "CN=alice,OU=Orders,O=Holdfast", true);
            ConnectionFactory f = external(b, "alice");
            f.setSaslConfig(mechanisms -> forcedExternal());
            assertThatThrownBy(f::newConnection).isInstanceOf(AuthenticationFailureException.class)
                    .hasMessageContaining("(EXTERNAL is not in auth_mechanisms)");
        }
    }
}
