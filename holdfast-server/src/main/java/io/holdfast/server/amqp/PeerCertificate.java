package io.holdfast.server.amqp;

import io.holdfast.server.config.SecurityConfig;
import io.netty.handler.ssl.SslHandler;
import java.nio.charset.StandardCharsets;
import java.security.cert.Certificate;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.Collection;
import java.util.List;
import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.security.auth.x500.X500Principal;

/**
 * The user name a verified TLS client certificate stands for, as RabbitMQ's {@code ssl_cert_login_from}: the
 * subject's distinguished name in RFC 4514 (RFC 2253) form, most specific part first, like
 * {@code openssl x509 -subject -nameopt RFC2253} prints it ({@code CN=alice,O=Example,C=US}), its common
 * name, or one of its subject alternative names ({@code ssl_cert_login_san_type}, {@code ssl_cert_login_san_index}:
 * the index-th name of that type, counting from 0): a DNS name, an IP address as text ({@code 10.0.0.7}), an
 * email address, a URI, or an otherName's string value (such as a Windows UPN, {@code alice@corp.example}). On
 * the connection's event loop, after the TLS handshake.
 */
final class PeerCertificate {
    private PeerCertificate() {}

    /**
     * @return the user name, or null if the connection is not TLS, or the client sent no certificate, or the
     *     listener does not check certificates ({@code ssl_options.verify} is not verify_peer), or it has not
     *     the part asked for
     */
    static String userName(SslHandler tls, boolean verifyPeer, SecurityConfig security) {
        if (tls == null || !verifyPeer) {
            return null;
        }
        Certificate[] chain;
        try {
            chain = tls.engine().getSession().getPeerCertificates();
        } catch (SSLPeerUnverifiedException e) {
            return null;
        }
        if (chain.length == 0 || !(chain[0] instanceof X509Certificate cert)) {
            return null;
        }
        String dn = cert.getSubjectX500Principal().getName(X500Principal.RFC2253);
        return switch (security.certLoginFrom()) {
            case DISTINGUISHED_NAME -> dn;
            case COMMON_NAME -> commonName(dn);
            case SUBJECT_ALTERNATIVE_NAME -> alternativeName(cert, security.certLoginSanType(),
                    security.certLoginSanIndex());
        };
    }

    /** The {@code index}-th subject alternative name of {@code type}, or null. */
    private static String alternativeName(X509Certificate cert, SecurityConfig.SanType type, int index) {
        Collection<List<?>> names;
        try {
            names = cert.getSubjectAlternativeNames();
        } catch (CertificateParsingException e) {
            return null;
        }
        if (names == null) {
            return null;
        }
        int seen = 0;
        for (List<?> name : names) {
            if (name.size() == 2 && name.get(0) instanceof Integer tag && tag == type.tag && seen++ == index) {
                return name.get(1) instanceof String text ? text
                        : name.get(1) instanceof byte[] der ? otherNameValue(der) : null;
            }
        }
        return null;
    }

    /**
     * The value of a DER otherName ({@code SEQUENCE {type-id OID, [0] EXPLICIT value}}, as the JDK hands it over) when
     * the value is a string (UTF8String, IA5String, PrintableString...); else null.
     */
    private static String otherNameValue(byte[] der) {
        Der d = new Der(der);
        if (!d.enter(0xA0) && !d.enter(0x30)) { // the GeneralName's [0], or the bare OtherName SEQUENCE
            return null;
        }
        if (!d.skip(0x06) || !d.enter(0xA0)) {
            return null;
        }
        while (d.enter(0xA0)) { // the JDK keeps the value's own [0] inside the one it adds
            continue;
        }
        int tag = d.tag();
        byte[] value = d.contents();
        return value != null && (tag == 0x0C || tag == 0x16 || tag == 0x13 || tag == 0x14 || tag == 0x1A)
                ? new String(value, tag == 0x0C ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1) : null;
    }

    /** Just enough DER to step into an otherName: definite lengths, one element after another. */
    private static final class Der {
        private final byte[] b;
        private int at;

        Der(byte[] b) {
            this.b = b;
        }

        int tag() {
            return at < b.length ? b[at] & 0xFF : -1;
        }

        /** The length of the element at {@code at}, leaving {@code at} on its contents; -1 if malformed. */
        private int header() {
            if (at + 2 > b.length) {
                return -1;
            }
            at++;
            int first = b[at++] & 0xFF;
            if (first < 0x80) {
                return first;
            }
            int bytes = first & 0x7F;
            if (bytes == 0 || bytes > 3 || at + bytes > b.length) {
                return -1;
            }
            int length = 0;
            for (int i = 0; i < bytes; i++) {
                length = length << 8 | (b[at++] & 0xFF);
            }
            return at + length <= b.length ? length : -1;
        }

        /** Steps into the element here if its tag is {@code tag}. */
        boolean enter(int tag) {
            int start = at;
            if (tag() != tag || header() < 0) {
                at = start;
                return false;
            }
            return true;
        }

        /** Steps over the element here if its tag is {@code tag}. */
        boolean skip(int tag) {
            int length = tag() == tag ? header() : -1;
            if (length < 0) {
                return false;
            }
            at += length;
            return true;
        }

        /** The contents of the element here, or null. */
        byte[] contents() {
            int length = header();
            return length < 0 ? null : java.util.Arrays.copyOfRange(b, at, at + length);
        }
    }

    /** The most specific CN of {@code dn}, or null. */
    private static String commonName(String dn) {
        try {
            List<Rdn> rdns = new LdapName(dn).getRdns(); // least specific first
            for (int i = rdns.size() - 1; i >= 0; i--) {
                if (rdns.get(i).getType().equalsIgnoreCase("CN")) {
                    return rdns.get(i).getValue().toString();
                }
            }
            return null;
        } catch (InvalidNameException e) {
            return null;
        }
    }
}
