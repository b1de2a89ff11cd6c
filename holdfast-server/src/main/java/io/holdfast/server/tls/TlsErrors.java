package io.holdfast.server.tls;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.ssl.NotSslRecordException;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
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
                    ctx.channel().remoteAddress(), listener, c.getMessage());
        }
    }
}
