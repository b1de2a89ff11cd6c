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
 * @param certLoginFrom    {@code ssl_cert_login_from}: which part of a client certificate's subject is the user
 *                         name for EXTERNAL
 * @param connectionMax    {@code connection_max}: client connections the broker keeps open at once (counting
 *                         those still handshaking); a connection beyond it is closed at once. 0 or less: no limit
 * @param connectionRateMax {@code connection_rate_max}: new client connections accepted per second, broker-wide;
 *                         beyond it they are closed at once. 0 or less: no limit
 */
public record SecurityConfig(List<String> authMechanisms, CertLoginFrom certLoginFrom, int connectionMax,
                             int connectionRateMax) {
    /** RabbitMQ's default mechanisms. */
    public static final List<String> DEFAULT_MECHANISMS = List.of("PLAIN", "AMQPLAIN");
    private static final Set<String> KNOWN = Set.of("PLAIN", "AMQPLAIN", "EXTERNAL");

    /** {@code ssl_cert_login_from}'s values. */
    public enum CertLoginFrom {
        /** The whole subject DN in RFC 4514 form, most specific part first: RabbitMQ's default. */
        DISTINGUISHED_NAME,
        /** The subject's (first) CN. */
        COMMON_NAME
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
            throw new IllegalArgumentException("ssl_cert_login_from must be distinguished_name or common_name");
        }
    }

    public static SecurityConfig defaults() {
        return new SecurityConfig(DEFAULT_MECHANISMS, CertLoginFrom.DISTINGUISHED_NAME, 0, 0);
    }

    public SecurityConfig withAuthMechanisms(List<String> mechanisms) {
        return new SecurityConfig(mechanisms, certLoginFrom, connectionMax, connectionRateMax);
    }

    public SecurityConfig withCertLoginFrom(CertLoginFrom from) {
        return new SecurityConfig(authMechanisms, from, connectionMax, connectionRateMax);
    }

    public SecurityConfig withConnectionMax(int max) {
        return new SecurityConfig(authMechanisms, certLoginFrom, max, connectionRateMax);
    }

    public SecurityConfig withConnectionRateMax(int perSecond) {
        return new SecurityConfig(authMechanisms, certLoginFrom, connectionMax, perSecond);
    }
}
