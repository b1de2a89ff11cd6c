package io.holdfast.server.amqp;

import io.holdfast.protocol.FrameWriter;
import io.holdfast.protocol.Method;
import io.holdfast.server.engine.BrokerLoop;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;

/**
 * The frames the broker thread has for one connection, gathered into one buffer and handed to Netty
 * once per batch of broker tasks. Broker thread only.
 */
final class Outbox implements BrokerLoop.Batched {
    private final Channel channel;
    private final BrokerLoop loop;
    private ByteBuf pending;
    volatile int frameMax;

    Outbox(Channel channel, BrokerLoop loop, int frameMax) {
        this.channel = channel;
        this.loop = loop;
        this.frameMax = frameMax;
    }

    private ByteBuf buffer() {
        if (pending == null) {
            pending = channel.alloc().buffer(512);
            loop.markDirty(this);
        }
        return pending;
    }

    void method(int channelNumber, Method m) {
        FrameWriter.writeMethod(buffer(), channelNumber, m);
    }

    void content(int channelNumber, Method m, byte[] properties, byte[] body) {
        FrameWriter.writeContent(buffer(), channelNumber, m, 60, properties, body, frameMax);
    }

    /** True while Netty's outbound buffer is below its high-water mark. */
    boolean writable() {
        return channel.isWritable();
    }

    boolean open() {
        return channel.isActive();
    }

    @Override
    public void flush() {
        ByteBuf b = pending;
        pending = null;
        if (b == null) {
            return;
        }
        if (channel.isActive()) {
            channel.writeAndFlush(b, channel.voidPromise());
        } else {
            b.release();
        }
    }
}
