package io.holdfast.it;

import io.holdfast.server.config.TlsConfig;

/** {@link ManagementTlsTest}'s tests with the JDK's TLS engine ({@code provider = jdk}) instead of OpenSSL. */
class JdkManagementTlsTest extends ManagementTlsTest {
    @Override
    TlsConfig.Provider provider() {
        return TlsConfig.Provider.JDK;
    }

    @Override
    String providerInUse() {
        return "the JDK's";
    }
}
