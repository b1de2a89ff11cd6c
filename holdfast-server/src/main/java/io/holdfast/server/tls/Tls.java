package io.holdfast.server.tls;

import io.holdfast.server.config.TlsConfig;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.channel.Channel;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProvider;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;

/**
 * A TLS listener's context (the AMQPS and the management HTTPS listener): TLS 1.2 and 1.3 only, the JDK's
 * engine. The JDK's default cipher suites, in the server's order, which puts AES-128-GCM first: the JDK
 * client (and so the Java AMQP client and PerfTest) lists AES-256 first, which costs more rounds for no
 * practical gain, and the server's order decides ({@link #handler}). Any thread.
 */
public final class Tls {
    public static final String[] PROTOCOLS = {"TLSv1.3", "TLSv1.2"};

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
     * @param keys the config keys' prefix, for error messages: {@code ssl_options} or {@code management.ssl}
     * @throws IOException naming the key, if a file is missing or not PEM
     */
    public static SslContext serverContext(TlsConfig c, String keys) throws IOException {
        readable(keys + ".certfile", c.certFile());
        readable(keys + ".keyfile", c.keyFile());
        if (c.caCertFile() != null) {
            readable(keys + ".cacertfile", c.caCertFile());
        }
        try {
            SslContextBuilder b = SslContextBuilder.forServer(c.certFile().toFile(), c.keyFile().toFile(), c.keyPassword())
                    .sslProvider(SslProvider.JDK)
                    .protocols(PROTOCOLS)
                    .ciphers(cipherOrder())
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

    private static void readable(String key, Path file) throws IOException {
        if (!Files.isReadable(file)) {
            throw new IOException(key + " = " + file + ": no such readable file");
        }
    }
}
