package io.holdfast.it;

import io.holdfast.server.config.TlsConfig;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * A throwaway CA, a server certificate for localhost / 127.0.0.1 and client certificates, made with openssl
 * when a test runs (no private key is committed). PEM files as rabbitmq.conf's ssl_options take them, and
 * PKCS#12 for Java clients.
 */
final class TestCertificates {
    static final char[] P12_PASSWORD = "changeit".toCharArray();

    final Path dir;
    final Path caCert;
    final Path serverCert;
    final Path serverKey;

    private TestCertificates(Path dir) {
        this.dir = dir;
        this.caCert = dir.resolve("ca.pem");
        this.serverCert = dir.resolve("server.pem");
        this.serverKey = dir.resolve("server.key");
    }

    static TestCertificates create(Path dir) throws Exception {
        TestCertificates c = new TestCertificates(dir);
        c.openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
                "-subj", "/CN=Holdfast Test CA");
        c.signed("server", "/CN=localhost", "subjectAltName=DNS:localhost,IP:127.0.0.1", "ca");
        return c;
    }

    /** The server side of a TLS listener on this CA: verify_peer and fail_if_no_peer_cert together, or neither. */
    TlsConfig serverTls(boolean verifyPeer) {
        return new TlsConfig(null, 0, serverCert, serverKey, null, caCert, verifyPeer, verifyPeer,
                TlsConfig.Provider.AUTO);
    }

    /** How a TLS listener's "TLS provider" log line names the engine that {@code p} gives here, Linux x86-64. */
    static String engineInLog(TlsConfig.Provider p) {
        return p == TlsConfig.Provider.JDK ? "the JDK's" : "OpenSSL (BoringSSL";
    }

    /** A key and a certificate for {@code subject}, signed by the CA ("ca") or by itself (null). */
    Path signed(String name, String subject, String extension, String by) throws Exception {
        return signed(name, subject, extension, by, 2);
    }

    /** A key and a CA-signed certificate for {@code subject} that expired a day ago. */
    Path expired(String name, String subject) throws Exception {
        return signed(name, subject, null, "ca", -1);
    }

    private Path signed(String name, String subject, String extension, String by, int days) throws Exception {
        if (by == null) {
            openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", name + ".key", "-out", name + ".pem",
                    "-days", "2", "-subj", subject);
        } else {
            openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", name + ".key", "-out", name + ".csr", "-subj",
                    subject);
            Files.writeString(dir.resolve(name + ".ext"), extension == null ? "basicConstraints=CA:FALSE\n"
                    : extension + "\n");
            openssl("x509", "-req", "-in", name + ".csr", "-CA", by + ".pem", "-CAkey", by + ".key", "-CAcreateserial",
                    "-out", name + ".pem", "-days", Integer.toString(days), "-extfile", name + ".ext");
        }
        openssl("pkcs12", "-export", "-in", name + ".pem", "-inkey", name + ".key", "-out", name + ".p12", "-passout",
                "pass:" + new String(P12_PASSWORD));
        return dir.resolve(name + ".pem");
    }

    /** A client TLS context trusting the CA, presenting {@code clientCert} (its name) if not null. */
    SSLContext clientContext(String protocol, String clientCert) throws Exception {
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        try (InputStream in = Files.newInputStream(caCert)) {
            trust.setCertificateEntry("ca", CertificateFactory.getInstance("X.509").generateCertificate(in));
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        KeyManagerFactory kmf = null;
        if (clientCert != null) {
            KeyStore keys = KeyStore.getInstance("PKCS12");
            try (InputStream in = Files.newInputStream(dir.resolve(clientCert + ".p12"))) {
                keys.load(in, P12_PASSWORD);
            }
            kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(keys, P12_PASSWORD);
        }
        SSLContext ctx = SSLContext.getInstance(protocol);
        ctx.init(kmf == null ? null : kmf.getKeyManagers(), tmf.getTrustManagers(), null);
        return ctx;
    }

    private void openssl(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("openssl"));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException("openssl " + String.join(" ", args) + " failed: " + output);
        }
    }
}
