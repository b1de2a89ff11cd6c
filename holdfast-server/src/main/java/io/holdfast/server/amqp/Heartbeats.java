package io.holdfast.server.amqp;

import io.holdfast.protocol.FrameWriter;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.timeout.IdleState;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import java.util.concurrent.TimeUnit;

/**
 * Heartbeats of one connection, installed once tune-ok has fixed the interval. A heartbeat frame goes
 * out whenever nothing was written for half the interval, as RabbitMQ sends them: a client may give up
 * after one silent interval (the Java client's Netty transport reads with a timeout of one interval).
 * When nothing was read from the client for two intervals, a {@link IdleState#READER_IDLE} event goes
 * on up the pipeline for the connection to close. Runs on the connection's event loop, as any handler.
 */
final class Heartbeats extends IdleStateHandler {
    Heartbeats(int heartbeatSeconds) {
        super(heartbeatSeconds * 2000L, heartbeatSeconds * 500L, 0, TimeUnit.MILLISECONDS);
    }

    @Override
    protected void channelIdle(ChannelHandlerContext ctx, IdleStateEvent evt) {
        if (evt.state() == IdleState.WRITER_IDLE) {
            ByteBuf b = ctx.alloc().buffer(8);
            FrameWriter.writeHeartbeat(b);
            // Through the whole pipeline, so that this handler sees its own write and times from it.
            ctx.channel().writeAndFlush(b, ctx.channel().voidPromise());
        } else {
            ctx.fireUserEventTriggered(evt);
        }
    }
}
