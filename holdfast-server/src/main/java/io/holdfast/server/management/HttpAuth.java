package io.holdfast.server.management;

import io.holdfast.server.auth.AccessControl;
import io.holdfast.server.engine.Engine;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * HTTP basic authentication against the broker's users, as RabbitMQ's management plugin: the same
 * passwords and {@code loopback_users} rule as AMQP logins; tags decide what a user may call
 * ({@code monitoring} or {@code administrator} read, {@code administrator} changes). A refusal is
 * RabbitMQ's 401 {@code {"error":"not_authorized","reason":...}}; failed logins are throttled, and the
 * first of a burst logged and written to the audit log, as AMQP ones. Called from management threads.
 */
final class HttpAuth {
    static final String REALM = "Basic realm=\"Holdfast Management\"";

    /** The user a request runs as (null on an open route), or the response that refuses it. */
    record Outcome(String user, Routes.Response refusal) {}

    private final Engine engine;
    private final boolean healthOpen;

    HttpAuth(Engine engine, boolean healthOpen) {
        this.engine = engine;
        this.healthOpen = healthOpen;
    }

    Outcome check(Routes.Access access, String authorization, InetSocketAddress peer) {
        if (access == Routes.Access.PUBLIC || access == Routes.Access.HEALTH && healthOpen) {
            return new Outcome(null, null);
        }
        String[] credentials = parse(authorization);
        if (credentials == null) {
            return refuse("Login failed: this endpoint needs HTTP basic authentication (user and password)");
        }
        String user = credentials[0];
        if (!engine.authenticator().passwordMatches(user, credentials[1])) {
            failedLogin(user, peer, "wrong user name or password");
            return refuse("Login failed");
        }
        if (!engine.authenticator().loopbackAllows(user, peer.getAddress())) {
            failedLogin(user, peer, "user '" + user + "' may only log in via localhost");
            return refuse("User '" + user + "' can only log in via localhost");
        }
        AccessControl.User u = engine.access().user(user).orElse(null);
        if (u == null) { // deleted between the two reads
            return refuse("Login failed");
        }
        boolean admin = u.hasTag("administrator");
        boolean monitor = admin || u.hasTag("monitoring");
        return switch (access) {
            case PUBLIC, ANY -> new Outcome(user, null);
            case HEALTH, READ -> monitor ? new Outcome(user, null) : refuse("Not monitor user");
            case ADMIN -> admin ? new Outcome(user, null) : refuse("Not administrator user");
        };
    }

    /**
     * How long to hold the answer to a request with credentials from {@code peer}: after failed logins from
     * there, a growing delay (see {@link io.holdfast.server.auth.LoginThrottle}); 0 without credentials.
     */
    long answerDelayMillis(String authorization, InetSocketAddress peer) {
        return authorization == null ? 0 : engine.authenticator().loginDelayMillis(peer.getAddress());
    }

    private void failedLogin(String user, InetSocketAddress peer, String why) {
        engine.authenticator().failedLogin(user, peer.getAddress(), "management HTTP", why);
    }

    private static Outcome refuse(String reason) {
        return new Outcome(null, ManagementHttp.error(401, "not_authorized", reason).withHeader("WWW-Authenticate",
                REALM));
    }

    /** {@code Basic base64(user:password)}, or null. */
    private static String[] parse(String authorization) {
        if (authorization == null || !authorization.regionMatches(true, 0, "Basic ", 0, 6)) {
            return null;
        }
        String decoded;
        try {
            decoded = new String(Base64.getDecoder().decode(authorization.substring(6).trim()), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return null;
        }
        int colon = decoded.indexOf(':');
        return colon < 0 ? null : new String[] {decoded.substring(0, colon), decoded.substring(colon + 1)};
    }
}
