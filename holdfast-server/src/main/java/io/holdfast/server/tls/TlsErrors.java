package io.holdfast.server.tls;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.ssl.NotSslRecordException;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import java.nio.channels.ClosedChannelException;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Right after the {@code SslHandler} of a TLS listener: a client that does not speak TLS (a plain AMQP or
 * HTTP client on the TLS port), a handshake that fails (garbage, an untrusted or expired client certificate, no
 * common protocol) costs only that connection, and is logged once with the reason. On the connection's
 * event loop.
 */
public final class TlsErrors extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(TlsErrors.class);
    private final String listener;
    private final String plainClient;
    private boolean reported;

    /**
     * @param listener    for the log: "AMQPS" or "management HTTPS"
     * @param plainClient for the log, who a non-TLS client probably is: "a plain AMQP client"
     */
    public TlsErrors(String listener, String plainClient) {
        this.listener = listener;
        this.plainClient = plainClient;
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        if (evt instanceof SslHandshakeCompletionEvent e && !e.isSuccess()) {
            report(ctx, e.cause());
            ctx.close();
            return;
        }
        super.userEventTriggered(ctx, evt);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) throws Exception {
        Throwable c = cause instanceof DecoderException && cause.getCause() != null ? cause.getCause() : cause;
        if (c instanceof SSLException) {
            report(ctx, c);
            ctx.close();
            return;
        }
        super.exceptionCaught(ctx, cause);
    }

    private void report(ChannelHandlerContext ctx, Throwable cause) {
        if (reported) {
            return;
        }
        reported = true;
        Throwable c = cause instanceof DecoderException && cause.getCause() != null ? cause.getCause() : cause;
        if (c instanceof NotSslRecordException) {
            log.warn("closing connection from {} on the {} listener: not a TLS handshake ({} on the {} port?)",
                    ctx.channel().remoteAddress(), listener, plainClient, listener);
        } else {
            log.warn("closing connection from {} on the {} listener: TLS handshake failed: {}",
                    ctx.channel().remoteAddress(), listener, reason(c));
        }
    }

    /** Netty's wrapper around OpenSSL's handshake failure; the reason, if any, is a cause. */
    private static final String OPENSSL_WRAPPER = "General OpenSslEngine problem";
    /** An OpenSSL (BoringSSL) error string: {@code error:100000c0:SSL routines:OPENSSL_internal:REASON_CODE}. */
    private static final Pattern OPENSSL_ERROR = Pattern.compile("error:[0-9a-fA-F]+:[^:]*:[^:]*:([A-Z0-9_]+)");

    /**
     * Why a handshake failed, the same under both engines: the first message in the cause chain that says more
     * than a wrapper (the JDK's trust manager's reason, such as {@code validity check failed}, is a cause under
     * OpenSSL), an OpenSSL reason code in words with the code after it. Package-private for tests.
     */
    static String reason(Throwable failure) {
        if (failure instanceof ClosedChannelException) {
            return "the connection closed before the handshake finished";
        }
        for (Throwable c = failure; c != null; c = c.getCause() == c ? null : c.getCause()) {
            String m = c.getMessage();
            if (m == null || m.isBlank() || m.equals(OPENSSL_WRAPPER)) {
                continue;
            }
            Matcher code = OPENSSL_ERROR.matcher(m);
            return code.matches()
                    ? code.group(1).toLowerCase(Locale.ROOT).replace('_', ' ') + " (OpenSSL " + code.group(1) + ")"
                    : m;
        }
        return failure.getClass().getSimpleName();
    }
}
