package io.holdfast.server.config;

import java.nio.file.Path;

/**
 * The AMQPS listener, with rabbitmq.conf's names: {@code listeners.ssl.default} and {@code ssl_options.*}.
 * TLS 1.2 and 1.3 only. Validated by the caller; the files are read when the listener starts.
 *
 * @param bindAddress      address to listen on (null: the AMQP listener's)
 * @param port             TCP port ({@code listeners.ssl.default}), 0 for any free one (tests)
 * @param certFile         the server's certificate chain, PEM ({@code ssl_options.certfile})
 * @param keyFile          its private key, PEM PKCS#8 ({@code ssl_options.keyfile})
 * @param keyPassword      the key's password, or null ({@code ssl_options.password})
 * @param caCertFile       CA certificates that client certificates are checked against, PEM, or null
 *                         ({@code ssl_options.cacertfile})
 * @param verifyPeer       {@code ssl_options.verify = verify_peer}: ask clients for a certificate and check it
 * @param failIfNoPeerCert {@code ssl_options.fail_if_no_peer_cert}: refuse a client without one
 * @param provider         {@code ssl_options.provider}, Holdfast's own key: which TLS engine
 */
public record TlsConfig(String bindAddress, int port, Path certFile, Path keyFile, String keyPassword,
                        Path caCertFile, boolean verifyPeer, boolean failIfNoPeerCert, Provider provider) {
    /** RabbitMQ's AMQPS port. */
    public static final int DEFAULT_PORT = 5671;

    /** The TLS engine of a listener ({@code ssl_options.provider}, {@code management.ssl.provider}). */
    public enum Provider {
        /** OpenSSL where netty-tcnative loads (the bundled BoringSSL is for Linux x86-64), else the JDK's. */
        AUTO,
        /** OpenSSL (BoringSSL through netty-tcnative), or the listener does not start. */
        OPENSSL,
        /** The JDK's own engine. */
        JDK
    }

    public TlsConfig {
        if (provider == null) {
            throw new IllegalArgumentException("a TLS listener needs a provider (auto, openssl or jdk)");
        }
        if (certFile == null || keyFile == null) {
            throw new IllegalArgumentException("a TLS listener needs ssl_options.certfile and ssl_options.keyfile");
        }
        if (verifyPeer && caCertFile == null) {
            throw new IllegalArgumentException("ssl_options.verify = verify_peer needs ssl_options.cacertfile, the CA "
                    + "that client certificates are checked against");
        }
        if (failIfNoPeerCert && !verifyPeer) {
            throw new IllegalArgumentException("ssl_options.fail_if_no_peer_cert = true needs ssl_options.verify = "
                    + "verify_peer");
        }
    }

    public TlsConfig withPort(int newPort) {
        return new TlsConfig(bindAddress, newPort, certFile, keyFile, keyPassword, caCertFile, verifyPeer,
                failIfNoPeerCert, provider);
    }

    public TlsConfig withProvider(Provider newProvider) {
        return new TlsConfig(bindAddress, port, certFile, keyFile, keyPassword, caCertFile, verifyPeer,
                failIfNoPeerCert, newProvider);
    }
}
