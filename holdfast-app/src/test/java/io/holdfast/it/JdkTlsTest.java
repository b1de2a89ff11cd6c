package io.holdfast.it;

import io.holdfast.server.config.TlsConfig;

/** {@link TlsTest}'s tests with the JDK's TLS engine ({@code provider = jdk}) instead of OpenSSL. */
class JdkTlsTest extends TlsTest {
    @Override
    TlsConfig.Provider provider() {
        return TlsConfig.Provider.JDK;
    }

    @Override
    String providerInUse() {
        return "the JDK's";
    }

    @Override
    String tls13SuiteForAJavaClient() {
        return "TLS_AES_128_GCM_SHA256";
    }
}
