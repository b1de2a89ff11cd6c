package io.holdfast.server.tls;

import io.holdfast.server.config.TlsConfig;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A TLS listener's context (the AMQPS and the management HTTPS listener): TLS 1.2 and 1.3 only, the JDK's
 * engine. Any thread.
 */
public final class Tls {
    public static final String[] PROTOCOLS = {"TLSv1.3", "TLSv1.2"};

    private Tls() {}

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
