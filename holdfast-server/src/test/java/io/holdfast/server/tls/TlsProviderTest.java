package io.holdfast.server.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.holdfast.server.config.TlsConfig.Provider;
import io.netty.handler.ssl.SslProvider;
import java.io.IOException;
import java.nio.channels.ClosedChannelException;
import javax.net.ssl.SSLHandshakeException;
import org.junit.jupiter.api.Test;

/**
 * Which engine {@code ssl_options.provider} gives, where OpenSSL loads and where it does not, and the handshake
 * failure reasons logged, which read the same under both engines. (The brokers in holdfast-app's TLS tests run
 * both engines for real.)
 */
class TlsProviderTest {
    /** What netty-tcnative says on a platform whose native library Holdfast does not bundle. */
    private static final Throwable NOT_HERE = new UnsatisfiedLinkError(
            "could not load a native library: netty_tcnative_linux_aarch_64");

    @Test
    void jdkIsTheJdksEngineWhateverOpenSslCanDo() throws Exception {
        assertThat(Tls.provider(Provider.JDK, null, "ssl_options", "AMQPS")).isEqualTo(SslProvider.JDK);
        assertThat(Tls.provider(Provider.JDK, NOT_HERE, "ssl_options", "AMQPS")).isEqualTo(SslProvider.JDK);
    }

    @Test
    void autoIsOpenSslWhereItLoadsAndTheJdksElsewhere() throws Exception {
        assertThat(Tls.provider(Provider.AUTO, null, "ssl_options", "AMQPS")).isEqualTo(SslProvider.OPENSSL);
        assertThat(Tls.provider(Provider.AUTO, NOT_HERE, "ssl_options", "AMQPS")).isEqualTo(SslProvider.JDK);
    }

    @Test
    void opensslWhereItDoesNotLoadIsAStartErrorThatSaysWhyAndWhatToSet() throws Exception {
        assertThat(Tls.provider(Provider.OPENSSL, null, "management.ssl", "management HTTPS"))
                .isEqualTo(SslProvider.OPENSSL);
        assertThatThrownBy(() -> Tls.provider(Provider.OPENSSL, NOT_HERE, "management.ssl", "management HTTPS"))
                .isInstanceOf(IOException.class)
                .hasMessageStartingWith("management.ssl.provider = openssl, but OpenSSL (netty-tcnative) is not "
                        + "available on " + System.getProperty("os.name"))
                .hasMessageContaining(": java.lang.UnsatisfiedLinkError: could not load a native library: "
                        + "netty_tcnative_linux_aarch_64; Holdfast bundles its native library for Linux x86-64 only "
                        + "(set management.ssl.provider = auto or jdk to use the JDK's TLS)");
    }

    @Test
    void handshakeFailureReasonsAreWordsUnderBothEngines() {
        SSLHandshakeException wrapped = new SSLHandshakeException("General OpenSslEngine problem");
        wrapped.initCause(new java.security.cert.CertificateException("PKIX path validation failed: "
                + "java.security.cert.CertPathValidatorException: validity check failed"));
        assertThat(TlsErrors.reason(wrapped)).isEqualTo("PKIX path validation failed: "
                + "java.security.cert.CertPathValidatorException: validity check failed");
        assertThat(TlsErrors.reason(new SSLHandshakeException(
                "error:100000c0:SSL routines:OPENSSL_internal:PEER_DID_NOT_RETURN_A_CERTIFICATE")))
                .isEqualTo("peer did not return a certificate (OpenSSL PEER_DID_NOT_RETURN_A_CERTIFICATE)");
        assertThat(TlsErrors.reason(new SSLHandshakeException("Empty client certificate chain")))
                .isEqualTo("Empty client certificate chain");
        assertThat(TlsErrors.reason(new ClosedChannelException()))
                .isEqualTo("the connection closed before the handshake finished");
        assertThat(TlsErrors.reason(new SSLHandshakeException(null))).isEqualTo("SSLHandshakeException");
    }
}
