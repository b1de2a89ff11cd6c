package io.holdfast.server.auth;

import io.holdfast.protocol.FieldTable;
import io.holdfast.protocol.ReplyCode;
import io.netty.buffer.Unpooled;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * SASL PLAIN, AMQPLAIN and EXTERNAL against the broker's users ({@link AccessControl}). Like RabbitMQ, the
 * {@code guest} user may only log in from a loopback address unless configured otherwise. EXTERNAL takes the
 * user name from a verified TLS client certificate (the caller extracts it) and checks no password; the user
 * must exist. A user without a password (RabbitMQ's {@code clear_password}) logs in only so. Failed logins feed a {@link LoginThrottle}; the first of each burst from an address is logged
 * and written to the audit log, the rest only counted. Thread-safe.
 */
public final class Authenticator {
    private static final Logger log = LoggerFactory.getLogger(Authenticator.class);
    public static final String EXTERNAL = "EXTERNAL";

    private final boolean guestLoopbackOnly;
    private final List<String> mechanisms;
    private final AccessControl access;
    private final AuditLog audit;
    private final LoginThrottle throttle;

    /** @param mechanisms the accepted mechanisms in the order offered ({@code auth_mechanisms}) */
    public Authenticator(boolean guestLoopbackOnly, List<String> mechanisms, AccessControl access, AuditLog audit,
                         LoginThrottle throttle) {
        this.guestLoopbackOnly = guestLoopbackOnly;
        this.mechanisms = List.copyOf(mechanisms);
        this.access = access;
        this.audit = audit;
        this.throttle = throttle;
    }

    /**
     * The outcome of a login: the user name, or the reply code and text to refuse it with; {@code logged} if
     * the refusal was already logged here (or deliberately left out, being one more failure of a burst).
     */
    public record Result(String user, int replyCode, String text, boolean logged) {
        public boolean ok() {
            return user != null;
        }
    }

    /**
     * The mechanisms connection.start offers, space-separated: EXTERNAL (if configured) only to a client with
     * a verified certificate.
     */
    public String offeredMechanisms(boolean verifiedCertificate) {
        return String.join(" ", mechanisms.stream().filter(m -> verifiedCertificate || !m.equals(EXTERNAL)).toList());
    }

    /** How long to hold the verdict on a login from {@code peer}: a burst of failures from there slows it. */
    public long loginDelayMillis(InetAddress peer) {
        return throttle.delayMillis(peer);
    }

    /**
     * @param certificateUser the user name from the client's verified TLS certificate, or null if the
     *     connection has none (plain TCP, or no certificate asked for or given)
     */
    public Result authenticate(String mechanism, byte[] response, InetAddress peer, String certificateUser) {
        String offered = offeredMechanisms(certificateUser != null);
        if (!(" " + offered + " ").contains(" " + mechanism + " ")) {
            String why = !mechanism.equals(EXTERNAL) ? ""
                    : !mechanisms.contains(EXTERNAL) ? " (EXTERNAL is not in auth_mechanisms)"
                    : " (EXTERNAL needs a TLS connection with a verified client certificate)";
            return refuse(ReplyCode.ACCESS_REFUSED, "ACCESS_REFUSED - unsupported authentication mechanism '"
                    + mechanism + "', supported: " + offered + why, false);
        }
        if (mechanism.equals(EXTERNAL)) {
            return external(certificateUser, peer);
        }
        String[] creds = mechanism.equals("PLAIN") ? parsePlain(response) : parseAmqPlain(response);
        if (creds == null) {
            return refuse(ReplyCode.ACCESS_REFUSED, "ACCESS_REFUSED - malformed " + mechanism + " response", false);
        }
        String user = creds[0];
        if (!passwordMatches(user, creds[1])) {
            failedLogin(user, peer, "AMQP " + mechanism, whyRefused(user));
            return refusedUsing(mechanism);
        }
        return loopbackChecked(user, peer, mechanism);
    }

    private Result external(String user, InetAddress peer) {
        if (access.user(user).isEmpty()) {
            failedLogin(user, peer, "AMQP EXTERNAL", "no user '" + user + "' (the name from the client certificate)");
            return refusedUsing(EXTERNAL);
        }
        return loopbackChecked(user, peer, EXTERNAL);
    }

    private Result loopbackChecked(String user, InetAddress peer, String mechanism) {
        if (!loopbackAllows(user, peer)) {
            failedLogin(user, peer, "AMQP " + mechanism + ", not from loopback", "user '" + user
                    + "' may only connect via localhost");
            return refuse(ReplyCode.ACCESS_REFUSED, "ACCESS_REFUSED - User 'guest' can only connect via localhost",
                    true);
        }
        return new Result(user, 0, null, false);
    }

    private static Result refusedUsing(String mechanism) {
        return refuse(ReplyCode.ACCESS_REFUSED, "ACCESS_REFUSED - Login was refused using authentication "
                + "mechanism " + mechanism + ". For details see the broker logfile.", true);
    }

    /**
     * Counts a failed login against {@code peer}'s burst; the first of a burst is logged (with {@code why})
     * and written to the audit log, without waiting (callers are I/O threads).
     */
    public void failedLogin(String user, InetAddress peer, String via, String why) {
        if (!throttle.failed(peer)) {
            return;
        }
        log.warn("failed login from {} for user '{}' via {}: {}; further failed logins from {} are answered after a "
                + "growing delay (up to {} ms) and not logged until {} s pass without one", peer.getHostAddress(), user,
                via, why, peer.getHostAddress(), LoginThrottle.MAX_DELAY_MILLIS, LoginThrottle.QUIET_MILLIS / 1000);
        audit.appendLater(new AccessControl.Actor(user, peer.getHostAddress()), "login_failed", Map.of("via", via));
    }

    /** Why a password was refused, for the log line (never for the client). */
    public String whyRefused(String user) {
        return access.user(user).map(u -> u.password().isSet() ? "wrong user name or password"
                : "user '" + user + "' has no password (it logs in only by client certificate, EXTERNAL)")
                .orElse("wrong user name or password");
    }

    /**
     * True if {@code user} exists, has a password, and {@code password} is it (for logins and HTTP basic auth).
     */
    public boolean passwordMatches(String user, String password) {
        return access.user(user).map(u -> u.password().matches(password)).orElse(false);
    }

    /** The loopback rule of {@code loopback_users}: may {@code user} log in from {@code peer}? */
    public boolean loopbackAllows(String user, InetAddress peer) {
        return !(guestLoopbackOnly && user.equals("guest") && !peer.isLoopbackAddress());
    }

    /**
     * Whether {@code secret} is {@code user}'s password as the user store has it now: the check behind
     * connection.update-secret (a client renewing its credentials).
     */
    public boolean acceptsSecret(String user, byte[] secret) {
        return passwordMatches(user, new String(secret, StandardCharsets.UTF_8));
    }

    private static Result refuse(int code, String text, boolean logged) {
        return new Result(null, code, text, logged);
    }

    /** PLAIN: [authzid] NUL authcid NUL password. */
    private static String[] parsePlain(byte[] response) {
        String s = new String(response, StandardCharsets.UTF_8);
        String[] parts = s.split("\u0000", -1);
        if (parts.length != 3) {
            return null;
        }
        return new String[] {parts[1], parts[2]};
    }

    /** AMQPLAIN: a field table without its length prefix, with LOGIN and PASSWORD. */
    private static String[] parseAmqPlain(byte[] response) {
        var buf = Unpooled.buffer(response.length + 4);
        buf.writeInt(response.length);
        buf.writeBytes(response);
        try {
            Map<String, Object> table = FieldTable.read(buf);
            String login = FieldTable.getString(table, "LOGIN");
            String password = FieldTable.getString(table, "PASSWORD");
            return login == null || password == null ? null : new String[] {login, password};
        } catch (RuntimeException e) {
            return null;
        } finally {
            buf.release();
        }
    }
}
