package io.holdfast.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.util.ReferenceCounted;

/**
 * One decoded frame: its type ({@link FrameType}), channel and payload (without the 7-byte header
 * and the end octet). Reference counting is the payload's: whoever receives a frame from {@link
 * FrameDecoder} owns one reference and must {@link #release()} it. Not thread-safe: one owner at a
 * time, normally the channel's event loop.
 */
public final class Frame implements ReferenceCounted {
    private final int type;
    private final int channel;
    private final ByteBuf payload;

    public Frame(int type, int channel, ByteBuf payload) {
        this.type = type;
        this.channel = channel;
        this.payload = payload;
    }

    public int type() {
        return type;
    }

    public int channel() {
        return channel;
    }

    public ByteBuf payload() {
        return payload;
    }

    @Override
    public int refCnt() {
        return payload.refCnt();
    }

    @Override
    public Frame retain() {
        payload.retain();
        return this;
    }

    @Override
    public Frame retain(int increment) {
        payload.retain(increment);
        return this;
    }

    @Override
    public Frame touch() {
        payload.touch();
        return this;
    }

    @Override
    public Frame touch(Object hint) {
        payload.touch(hint);
        return this;
    }

    @Override
    public boolean release() {
        return payload.release();
    }

    @Override
    public boolean release(int decrement) {
        return payload.release(decrement);
    }

    @Override
    public String toString() {
        return "Frame(type " + type + ", channel " + channel + ", " + payload.readableBytes() + " bytes)";
    }
}
