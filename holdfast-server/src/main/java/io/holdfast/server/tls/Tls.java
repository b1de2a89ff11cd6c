package io.holdfast.server.tls;

import io.holdfast.server.config.TlsConfig;
import io.netty.channel.Channel;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.SupportedCipherSuiteFilter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A TLS listener's context (the AMQPS and the management HTTPS listener): TLS 1.2 and 1.3 only, with OpenSSL
 * (BoringSSL through netty-tcnative) or the JDK's engine ({@link TlsConfig.Provider}). The JDK's default cipher
 * suites, in the server's order, which puts AES-128-GCM first: the JDK client (and so the Java AMQP client and
 * PerfTest) lists AES-256 first, which costs more rounds for no practical gain, and the server's order decides
 * ({@link #handler}). Under OpenSSL the same list, less the names BoringSSL lacks (the DSS suites, the
 * renegotiation SCSV), so TLS 1.2 goes by the same order; BoringSSL's TLS 1.3 suites are fixed, and among its
 * AES-GCM ones it takes the client's order (a Java client gets AES-256-GCM there). Any thread.
 */
public final class Tls {
    public static final String[] PROTOCOLS = {"TLSv1.3", "TLSv1.2"};
    private static final Logger log = LoggerFactory.getLogger(Tls.class);

    private Tls() {}

    /**
     * The JDK's default suites, AES-128-GCM first, then the other AEAD suites (AES-256-GCM, ChaCha20-Poly1305),
     * then the rest as the JDK orders them.
     */
    static List<String> cipherOrder() {
        String[] defaults;
        try {
            defaults = SSLContext.getDefault().getDefaultSSLParameters().getCipherSuites();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this JVM has no default TLS context", e);
        }
        List<String> out = new ArrayList<>(List.of(defaults));
        out.sort(Comparator.comparingInt(Tls::rank)); // stable: the JDK's order within each rank
        return out;
    }

    private static int rank(String suite) {
        return suite.contains("AES_128_GCM") ? 0 : suite.contains("_GCM_") || suite.contains("CHACHA20") ? 1 : 2;
    }

    /** A server-side handler for {@code ch} that chooses the cipher suite by the server's order, not the client's. */
    public static SslHandler handler(SslContext context, Channel ch) {
        SslHandler h = context.newHandler(ch.alloc());
        SSLParameters p = h.engine().getSSLParameters();
        p.setUseCipherSuitesOrder(true);
        h.engine().setSSLParameters(p);
        return h;
    }

    /**
     * The context for a listener; logs once which engine it uses, and why if {@code auto} could not have OpenSSL.
     *
     * @param keys     the config keys' prefix, for messages: {@code ssl_options} or {@code management.ssl}
     * @param listener for the log: "AMQPS" or "management HTTPS"
     * @throws IOException naming the key, if a file is missing or not PEM, or if {@code provider = openssl} and
     *     OpenSSL does not load here
     */
    public static SslContext serverContext(TlsConfig c, String keys, String listener) throws IOException {
        readable(keys + ".certfile", c.certFile());
        readable(keys + ".keyfile", c.keyFile());
        if (c.caCertFile() != null) {
            readable(keys + ".cacertfile", c.caCertFile());
        }
        // OpenSsl's class loads the native library: not even touched with provider = jdk.
        Throwable noOpenSsl = c.provider() == TlsConfig.Provider.JDK || OpenSsl.isAvailable() ? null
                : OpenSsl.unavailabilityCause();
        SslProvider provider = provider(c.provider(), noOpenSsl, keys, listener);
        try {
            SslContextBuilder b = SslContextBuilder.forServer(c.certFile().toFile(), c.keyFile().toFile(), c.keyPassword())
                    .sslProvider(provider)
                    .protocols(PROTOCOLS)
                    .ciphers(cipherOrder(), SupportedCipherSuiteFilter.INSTANCE)
                    .clientAuth(!c.verifyPeer() ? ClientAuth.NONE
                            : c.failIfNoPeerCert() ? ClientAuth.REQUIRE : ClientAuth.OPTIONAL);
            if (c.caCertFile() != null) {
                b.trustManager(c.caCertFile().toFile());
            }
            return b.build();
        } catch (IOException | IllegalArgumentException e) {
            throw new IOException("cannot set up TLS from " + c.certFile() + " and " + c.keyFile() + ": " + e.getMessage()
                    + " (" + keys + ".certfile and " + keys + ".cacertfile are PEM certificates, " + keys
                    + ".keyfile a PEM PKCS#8 key)", e);
        }
    }

    /**
     * The engine for {@code wanted}, logged at INFO (WARN when {@code auto} falls back to the JDK's).
     *
     * @param noOpenSsl why OpenSSL does not load here, or null if it does (or was not asked about)
     * @throws IOException for {@code openssl} when {@code noOpenSsl} is not null
     */
    static SslProvider provider(TlsConfig.Provider wanted, Throwable noOpenSsl, String keys, String listener)
            throws IOException {
        if (wanted == TlsConfig.Provider.JDK) {
            log.info("{} TLS provider: the JDK's ({}.provider = jdk)", listener, keys);
            return SslProvider.JDK;
        }
        if (noOpenSsl == null) {
            log.info("{} TLS provider: OpenSSL ({}, netty-tcnative; {}.provider = {})", listener,
                    OpenSsl.versionString(), keys, wanted.name().toLowerCase(Locale.ROOT));
            return SslProvider.OPENSSL;
        }
        String why = "OpenSSL (netty-tcnative) is not available on " + System.getProperty("os.name") + " "
                + System.getProperty("os.arch") + ": " + noOpenSsl
                + "; Holdfast bundles its native library for Linux x86-64 only";
        if (wanted == TlsConfig.Provider.OPENSSL) {
            throw new IOException(keys + ".provider = openssl, but " + why + " (set " + keys
                    + ".provider = auto or jdk to use the JDK's TLS)");
        }
        log.warn("{} TLS provider: the JDK's, as {}.provider = auto and {} (set {}.provider = jdk to choose the "
                + "JDK's without this warning)", listener, keys, why, keys);
        return SslProvider.JDK;
    }

    private static void readable(String key, Path file) throws IOException {
        if (!Files.isReadable(file)) {
            throw new IOException(key + " = " + file + ": no such readable file");
        }
    }
}
