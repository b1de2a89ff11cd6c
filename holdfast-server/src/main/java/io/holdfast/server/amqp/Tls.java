package io.holdfast.server.amqp;

import io.holdfast.server.config.TlsConfig;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The AMQPS listener's TLS context, from rabbitmq.conf's {@code ssl_options}: TLS 1.2 and 1.3 only, the JDK's engine. */
final class Tls {
    static final String[] PROTOCOLS = {"TLSv1.3", "TLSv1.2"};

    private Tls() {}

    static SslContext serverContext(TlsConfig c) throws IOException {
        readable("ssl_options.certfile", c.certFile());
        readable("ssl_options.keyfile", c.keyFile());
        if (c.caCertFile() != null) {
            readable("ssl_options.cacertfile", c.caCertFile());
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
                    + " (ssl_options.certfile and ssl_options.cacertfile are PEM certificates, ssl_options.keyfile a PEM"
                    + " PKCS#8 key)", e);
        }
    }

    private static void readable(String key, Path file) throws IOException {
        if (!Files.isReadable(file)) {
            throw new IOException(key + " = " + file + ": no such readable file");
        }
    }
}
