package io.holdfast.server.config;

import java.util.List;
import java.util.Set;

/**
 * Login mechanisms and broker-wide connection limits, with rabbitmq.conf's names. Validated here; immutable.
 *
 * @param authMechanisms   {@code auth_mechanisms.N}: the SASL mechanisms accepted, in the order offered. PLAIN
 *                         and AMQPLAIN by default, as RabbitMQ; EXTERNAL (a verified TLS client certificate)
 *                         only when listed, and then offered only on TLS connections with a verified client
 *                         certificate
 * @param certLoginFrom    {@code ssl_cert_login_from}: which part of a client certificate is the user name for
 *                         EXTERNAL
 * @param certLoginSanType {@code ssl_cert_login_san_type}: with {@code subject_alternative_name}, which kind of
 *                         subject alternative name (default {@code dns}, as RabbitMQ)
 * @param certLoginSanIndex {@code ssl_cert_login_san_index}: with {@code subject_alternative_name}, which of the
 *                         names of that kind, counting from 0 in the certificate's order (default 0)
 * @param connectionMax    {@code connection_max}: client connections the broker keeps open at once (counting
 *                         those still handshaking); a connection beyond it is closed at once. 0 or less: no limit
 * @param connectionRateMax {@code connection_rate_max}: new client connections accepted per second, broker-wide;
 *                         beyond it they are closed at once. 0 or less: no limit
 */
public record SecurityConfig(List<String> authMechanisms, CertLoginFrom certLoginFrom, SanType certLoginSanType,
                             int certLoginSanIndex, int connectionMax, int connectionRateMax) {
    /** RabbitMQ's default mechanisms. */
    public static final List<String> DEFAULT_MECHANISMS = List.of("PLAIN", "AMQPLAIN");
    private static final Set<String> KNOWN = Set.of("PLAIN", "AMQPLAIN", "EXTERNAL");

    /** {@code ssl_cert_login_from}'s values. */
    public enum CertLoginFrom {
        /** The whole subject DN in RFC 4514 form, most specific part first: RabbitMQ's default. */
        DISTINGUISHED_NAME,
        /** The subject's (first) CN. */
        COMMON_NAME,
        /** A subject alternative name: {@code certLoginSanType}'s, the {@code certLoginSanIndex}-th. */
        SUBJECT_ALTERNATIVE_NAME
    }

    /** {@code ssl_cert_login_san_type}'s values, with the number X.509 gives each kind of GeneralName. */
    public enum SanType {
        OTHER_NAME(0), EMAIL(1), DNS(2), URI(6), IP(7);

        /** The GeneralName tag, as {@code X509Certificate.getSubjectAlternativeNames()} gives it. */
        public final int tag;

        SanType(int tag) {
            this.tag = tag;
        }
    }

    public SecurityConfig {
        authMechanisms = List.copyOf(authMechanisms);
        if (authMechanisms.isEmpty()) {
            throw new IllegalArgumentException("auth_mechanisms must list at least one of PLAIN, AMQPLAIN, EXTERNAL");
        }
        for (String m : authMechanisms) {
            if (!KNOWN.contains(m)) {
                throw new IllegalArgumentException("auth_mechanisms: unknown mechanism '" + m
                        + "' (supported: PLAIN, AMQPLAIN, EXTERNAL)");
            }
        }
        if (certLoginFrom == null) {
            throw new IllegalArgumentException("ssl_cert_login_from must be distinguished_name, common_name or "
                    + "subject_alternative_name");
        }
        if (certLoginSanType == null) {
            throw new IllegalArgumentException("ssl_cert_login_san_type must be dns, ip, email, uri or other_name");
        }
        if (certLoginSanIndex < 0) {
            throw new IllegalArgumentException("ssl_cert_login_san_index must be 0 or more, not " + certLoginSanIndex);
        }
    }

    public static SecurityConfig defaults() {
        return new SecurityConfig(DEFAULT_MECHANISMS, CertLoginFrom.DISTINGUISHED_NAME, SanType.DNS, 0, 0, 0);
    }

    public SecurityConfig withAuthMechanisms(List<String> mechanisms) {
        return new SecurityConfig(mechanisms, certLoginFrom, certLoginSanType, certLoginSanIndex, connectionMax,
                connectionRateMax);
    }

    public SecurityConfig withCertLoginFrom(CertLoginFrom from) {
        return new SecurityConfig(authMechanisms, from, certLoginSanType, certLoginSanIndex, connectionMax,
                connectionRateMax);
    }

    public SecurityConfig withCertLoginSan(SanType type, int index) {
        return new SecurityConfig(authMechanisms, certLoginFrom, type, index, connectionMax, connectionRateMax);
    }

    public SecurityConfig withConnectionMax(int max) {
        return new SecurityConfig(authMechanisms, certLoginFrom, certLoginSanType, certLoginSanIndex, max,
                connectionRateMax);
    }

    public SecurityConfig withConnectionRateMax(int perSecond) {
        return new SecurityConfig(authMechanisms, certLoginFrom, certLoginSanType, certLoginSanIndex, connectionMax,
                perSecond);
    }
}
