package io.holdfast.it;

import io.holdfast.server.config.TlsConfig;

/** {@link CertificateLoginTest}'s tests with the JDK's TLS engine ({@code provider = jdk}) instead of OpenSSL. */
class JdkCertificateLoginTest extends CertificateLoginTest {
    @Override
    TlsConfig.Provider provider() {
        return TlsConfig.Provider.JDK;
    }
}
