package io.holdfast.server.auth;

import io.holdfast.protocol.FieldTable;
import io.holdfast.protocol.ReplyCode;
import io.netty.buffer.Unpooled;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * SASL PLAIN and AMQPLAIN against the broker's users. Like RabbitMQ, the {@code guest} user may only
 * log in from a loopback address unless configured otherwise. Thread-safe.
 */
public final class Authenticator {
    public static final String MECHANISMS = "PLAIN AMQPLAIN";

    private final Map<String, byte[]> passwords = new ConcurrentHashMap<>();
    private final boolean guestLoopbackOnly;

    public Authenticator(boolean guestLoopbackOnly) {
        this.guestLoopbackOnly = guestLoopbackOnly;
    }

    public void addUser(String user, String password) {
        passwords.put(user, password.getBytes(StandardCharsets.UTF_8));
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
        if (!acceptsSecret(user, creds[1].getBytes(StandardCharsets.UTF_8))) {
            return refuse(ReplyCode.ACCESS_REFUSED, "ACCESS_REFUSED - Login was refused using authentication "
                    + "mechanism " + mechanism + ". For details see the broker logfile.");
        }
        if (guestLoopbackOnly && user.equals("guest") && !peer.isLoopbackAddress()) {
            return refuse(ReplyCode.ACCESS_REFUSED, "ACCESS_REFUSED - User 'guest' can only connect via localhost");
        }
        return new Result(user, 0, null);
    }

    /**
     * Whether {@code secret} is {@code user}'s password as the user store has it now: the check behind a
     * login and behind connection.update-secret (a client renewing its credentials).
     */
    public boolean acceptsSecret(String user, byte[] secret) {
        byte[] expected = passwords.get(user);
        return expected != null && MessageDigest.isEqual(expected, secret);
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
