package io.holdfast.server.amqp;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.ssl.NotSslRecordException;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Right after the {@code SslHandler} of the AMQPS listener: a client that does not speak TLS (a plain AMQP
 * client on the TLS port), a handshake that fails (garbage, an untrusted or expired client certificate, no
 * common protocol) costs only that connection, and is logged once with the reason. On the connection's
 * event loop.
 */
final class TlsErrors extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(TlsErrors.class);
    private boolean reported;

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
            log.warn("closing connection from {} on the TLS listener: not a TLS handshake (a plain AMQP client on "
                    + "the AMQPS port?)", ctx.channel().remoteAddress());
        } else {
            log.warn("closing connection from {} on the TLS listener: TLS handshake failed: {}",
                    ctx.channel().remoteAddress(), c.getMessage());
        }
    }
}
