package io.holdfast.server.auth;

import io.holdfast.protocol.FieldTable;
import io.holdfast.protocol.ReplyCode;
import io.netty.buffer.Unpooled;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * SASL PLAIN and AMQPLAIN against the broker's users ({@link AccessControl}). Like RabbitMQ, the
 * {@code guest} user may only log in from a loopback address unless configured otherwise. Thread-safe.
 */
public final class Authenticator {
    public static final String MECHANISMS = "PLAIN AMQPLAIN";

    private final boolean guestLoopbackOnly;
    private final AccessControl access;
    private final AuditLog audit;

    public Authenticator(boolean guestLoopbackOnly, AccessControl access, AuditLog audit) {
        this.guestLoopbackOnly = guestLoopbackOnly;
        this.access = access;
        this.audit = audit;
    }

    /** The outcome of a login: the user name, or the reply code and text to refuse it with. */
    public record Result(String user, int replyCode, String text) {
        public boolean ok() {
            return user != null;
        }
    }

    public Result authenticate(String mechanism, byte[] response, InetAddress peer) {
        String[] creds;
        if (mechanism.equals("PLAIN")) {
            creds = parsePlain(response);
        } else if (mechanism.equals("AMQPLAIN")) {
            creds = parseAmqPlain(response);
        } else {
            return refuse(ReplyCode.ACCESS_REFUSED, "ACCESS_REFUSED - unsupported authentication mechanism '"
                    + mechanism + "', supported: " + MECHANISMS);
        }
        if (creds == null) {
            return refuse(ReplyCode.ACCESS_REFUSED, "ACCESS_REFUSED - malformed " + mechanism + " response");
        }
        String user = creds[0];
        if (!passwordMatches(user, creds[1])) {
            failedLogin(user, peer, "AMQP " + mechanism);
            return refuse(ReplyCode.ACCESS_REFUSED, "ACCESS_REFUSED - Login was refused using authentication "
                    + "mechanism " + mechanism + ". For details see the broker logfile.");
        }
        if (!loopbackAllows(user, peer)) {
            failedLogin(user, peer, "AMQP " + mechanism + ", not from loopback");
            return refuse(ReplyCode.ACCESS_REFUSED, "ACCESS_REFUSED - User 'guest' can only connect via localhost");
        }
        return new Result(user, 0, null);
    }

    /** Writes a failed login to the audit log, without waiting (callers are I/O threads). */
    public void failedLogin(String user, InetAddress peer, String via) {
        audit.appendLater(new AccessControl.Actor(user, peer.getHostAddress()), "login_failed", Map.of("via", via));
    }

    /** True if {@code user} exists and {@code password} is theirs (for logins and HTTP basic auth). */
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

    private static Result refuse(int code, String text) {
        return new Result(null, code, text);
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
