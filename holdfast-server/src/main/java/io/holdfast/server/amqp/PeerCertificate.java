package io.holdfast.server.amqp;

import io.holdfast.server.config.SecurityConfig.CertLoginFrom;
import io.netty.handler.ssl.SslHandler;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.security.auth.x500.X500Principal;

/**
 * The user name a verified TLS client certificate stands for, as RabbitMQ's {@code ssl_cert_login_from}: the
 * subject's distinguished name in RFC 4514 (RFC 2253) form, most specific part first, like
 * {@code openssl x509 -subject -nameopt RFC2253} prints it ({@code CN=alice,O=Example,C=US}), or its common
 * name. On the connection's event loop, after the TLS handshake.
 */
final class PeerCertificate {
    private PeerCertificate() {}

    /**
     * @return the user name, or null if the connection is not TLS, or the client sent no certificate, or the
     *     listener does not check certificates ({@code ssl_options.verify} is not verify_peer), or it has no
     *     common name when that is asked for
     */
    static String userName(SslHandler tls, boolean verifyPeer, CertLoginFrom from) {
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
        return from == CertLoginFrom.DISTINGUISHED_NAME ? dn : commonName(dn);
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
