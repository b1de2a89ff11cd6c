package io.holdfast.server.management;

import io.holdfast.server.auth.AccessControl;
import io.holdfast.server.engine.Engine;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * HTTP basic authentication against the broker's users, as RabbitMQ's management plugin: the same
 * passwords and {@code loopback_users} rule as AMQP logins; tags and vhost permissions decide what a user may
 * call ({@link Routes.Access}). Wrong credentials are RabbitMQ's 401 {@code {"error":"not_authorized",...}}
 * with {@code WWW-Authenticate}; a user who logged in but may not call the route gets RabbitMQ's 401
 * {@code {"error":"not_authorised","reason":"Not management user"}} (or {@code Not administrator user},
 * {@code Not monitor user}, {@code User not authorised to access virtual host}); RabbitMQ answers 401, not
 * 403, for both. Failed logins are throttled, and the first of a burst logged and written to the audit log,
 * as AMQP ones. Called from management threads.
 */
final class HttpAuth {
    private static final Logger log = LoggerFactory.getLogger(HttpAuth.class);
    static final String REALM = "Basic realm=\"Holdfast Management\"";

    /** The user a request runs as (null on an open route), or the response that refuses it. */
    record Outcome(String user, Routes.Response refusal) {}

    private final Engine engine;
    private final boolean healthOpen;

    HttpAuth(Engine engine, boolean healthOpen) {
        this.engine = engine;
        this.healthOpen = healthOpen;
    }

    /** @param vhost the route's first path variable (its vhost, for VHOST and VHOST_READ routes), or null */
    Outcome check(Routes.Access access, String vhost, String authorization, InetSocketAddress peer) {
        if (access == Routes.Access.PUBLIC || access == Routes.Access.HEALTH && healthOpen) {
            return new Outcome(null, null);
        }
        String[] credentials = parse(authorization);
        if (credentials == null) {
            return refuse("Login failed: this endpoint needs HTTP basic authentication (user and password)");
        }
        String user = credentials[0];
        if (!engine.authenticator().passwordMatches(user, credentials[1])) {
            failedLogin(user, peer, engine.authenticator().whyRefused(user));
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
        if (!isManagementUser(u)) {
            return forbid(user, "Not management user");
        }
        boolean admin = u.hasTag("administrator");
        boolean monitor = isMonitor(u);
        boolean permitted = vhost == null || engine.access().vhost(vhost).isEmpty() // a missing one is the route's 404
                || engine.access().permission(user, vhost).isPresent();
        return switch (access) {
            case PUBLIC, MANAGEMENT -> new Outcome(user, null);
            case HEALTH, MONITOR -> monitor ? new Outcome(user, null) : forbid(user, "Not monitor user");
            case VHOST_READ -> monitor || permitted ? new Outcome(user, null)
                    : forbid(user, "User not authorised to access virtual host");
            case VHOST -> admin || permitted ? new Outcome(user, null)
                    : forbid(user, "User not authorised to access virtual host");
            case ADMIN -> admin ? new Outcome(user, null) : forbid(user, "Not administrator user");
        };
    }

    /** RabbitMQ's management users: tag management, policymaker, monitoring or administrator. */
    static boolean isManagementUser(AccessControl.User u) {
        return u.hasTag("management") || u.hasTag("policymaker") || isMonitor(u);
    }

    static boolean isMonitor(AccessControl.User u) {
        return u.hasTag("administrator") || u.hasTag("monitoring");
    }

    /**
     * Whether a listing shows {@code user} the things in {@code vhost}: monitoring and administrator see every
     * vhost, other management users those they have permissions in (RabbitMQ's visible vhosts).
     */
    static boolean seesVhost(AccessControl access, String user, String vhost) {
        return access.user(user).map(HttpAuth::isMonitor).orElse(false) || access.permission(user, vhost).isPresent();
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

    /** Logged in, but may not call this: RabbitMQ's 401 not_authorised (no WWW-Authenticate), and its WARN line. */
    private static Outcome forbid(String user, String reason) {
        log.warn("HTTP access denied: user '{}' - {}", user, reason);
        return new Outcome(null, ManagementHttp.error(401, "not_authorised", reason));
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
