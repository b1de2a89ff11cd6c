package io.holdfast.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.util.List;

/**
 * Splits an AMQP 0-9-1 byte stream into frames, as an explicit state machine:
 *
 * <pre>
 * PROTOCOL_HEADER --"AMQP" 0 0 9 1--> FRAME_HEADER --type:u8 channel:u16 size:u32--> PAYLOAD
 *                                          ^                                            |
 *                                          +------ 0xCE ------ FRAME_END <--size bytes--+
 *
 * any failed check (header byte, frame type, size, heartbeat channel, end octet) --> FAILED
 * </pre>
 *
 * <p>Emits, in stream order: {@link ProtocolHeader#ACCEPTED} once, then a {@link Frame} per good frame
 * (the receiver releases it); or a single {@link BadProtocolHeader} or {@link DecodeError}, after
 * which it emits nothing and discards every further byte. It never throws for bad input. A frame
 * whose payload is larger than frame_max minus {@value FrameType#FRAME_OVERHEAD} is refused from its
 * header, before its payload is buffered, so a peer cannot make it hold more than frame_max bytes. A
 * truncated frame simply waits: the connection's heartbeat or handshake timeout deals with a peer
 * that stops sending.
 *
 * <p>Not sharable; one per connection. Netty calls it on the channel's event loop, and {@link
 * #setMaxFrameSize} must be called there too (for example from the handler that reads
 * connection.tune-ok).
 */
public final class FrameDecoder extends ByteToMessageDecoder {
    private enum State { PROTOCOL_HEADER, FRAME_HEADER, PAYLOAD, FRAME_END, FAILED }

    private static final int HEADER_SIZE = 7;

    private State state = State.PROTOCOL_HEADER;
    private int maxFrameSize;
    private int type;
    private int channel;
    private int payloadSize;
    /** Held from PAYLOAD until the end octet proves the frame whole; released if it does not. */
    private ByteBuf payload;

    /** @param maxFrameSize frame_max in force until {@link #setMaxFrameSize}, header and end octet included */
    public FrameDecoder(int maxFrameSize) {
        setMaxFrameSize(maxFrameSize);
    }

    /**
     * Sets frame_max (the whole frame, header and end octet included), as negotiated by
     * connection.tune-ok; applies from the next frame header read.
     *
     * @throws IllegalArgumentException below {@link FrameType#FRAME_MIN_SIZE}, which the spec forbids
     */
    public void setMaxFrameSize(int maxFrameSize) {
        if (maxFrameSize < FrameType.FRAME_MIN_SIZE) {
            throw new IllegalArgumentException("frame_max " + maxFrameSize + " is below " + FrameType.FRAME_MIN_SIZE);
        }
        this.maxFrameSize = maxFrameSize;
    }

    /**
     * Steps until the input runs short or a message is ready. Returning after each message lets
     * Netty hand it on before the next frame header is read, so a frame_max set on tune-ok governs
     * the very next frame.
     */
    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        int messages = out.size();
        while (out.size() == messages && step(in, out)) {
            // each step either moves to the next state or reports that it needs more input
        }
    }

    /** One transition; false when the current state needs more input (or discards it). */
    private boolean step(ByteBuf in, List<Object> out) {
        return switch (state) {
            case PROTOCOL_HEADER -> readProtocolHeader(in, out);
            case FRAME_HEADER -> readFrameHeader(in, out);
            case PAYLOAD -> readPayload(in);
            case FRAME_END -> readFrameEnd(in, out);
            case FAILED -> {
                in.skipBytes(in.readableBytes());
                yield false;
            }
        };
    }

    private boolean readProtocolHeader(ByteBuf in, List<Object> out) {
        byte[] expected = FrameWriter.PROTOCOL_HEADER;
        int available = Math.min(in.readableBytes(), expected.length);
        for (int i = 0; i < available; i++) {
            // Judged byte by byte so that a peer speaking something else is answered at once.
            if (in.getByte(in.readerIndex() + i) != expected[i]) {
                return fail(in, out, BadProtocolHeader.INSTANCE);
            }
        }
        if (available < expected.length) {
            return false;
        }
        in.skipBytes(expected.length);
        out.add(ProtocolHeader.ACCEPTED);
        state = State.FRAME_HEADER;
        return true;
    }

    private boolean readFrameHeader(ByteBuf in, List<Object> out) {
        if (in.readableBytes() < HEADER_SIZE) {
            return false;
        }
        type = in.readUnsignedByte();
        channel = in.readUnsignedShort();
        long size = in.readUnsignedInt();
        if (!FrameType.isKnown(type)) {
            return fail(in, out, frameError("unknown frame type " + type));
        } else if (size > maxFrameSize - FrameType.FRAME_OVERHEAD) {
            return fail(in, out, frameError("frame size " + (size + FrameType.FRAME_OVERHEAD)
                    + " exceeds frame_max " + maxFrameSize));
        } else if (type == FrameType.HEARTBEAT && size != 0) {
            return fail(in, out, frameError("heartbeat frame with a payload of " + size + " bytes"));
        } else if (type == FrameType.HEARTBEAT && channel != 0) {
            // A well-formed frame in the wrong place: 505, as RabbitMQ answers it.
            return fail(in, out, new DecodeError(ReplyCode.UNEXPECTED_FRAME, "heartbeat frame on channel "
                    + channel + "; heartbeats belong to channel 0"));
        }
        payloadSize = (int) size;
        state = State.PAYLOAD;
        return true;
    }

    private boolean readPayload(ByteBuf in) {
        if (payloadSize == 0) {
            // Not a slice of the input, so that heartbeats and empty bodies pin no buffer.
            payload = Unpooled.EMPTY_BUFFER;
        } else if (in.readableBytes() >= payloadSize) {
            payload = in.readRetainedSlice(payloadSize);
        } else {
            return false;
        }
        state = State.FRAME_END;
        return true;
    }

    private boolean readFrameEnd(ByteBuf in, List<Object> out) {
        if (!in.isReadable()) {
            return false;
        }
        int end = in.readUnsignedByte();
        ByteBuf complete = payload;
        payload = null;
        if (end != FrameType.FRAME_END) {
            complete.release();
            return fail(in, out, frameError(String.format("frame end octet missing (got 0x%02x)", end)));
        }
        out.add(new Frame(type, channel, complete));
        state = State.FRAME_HEADER;
        return true;
    }

    private boolean fail(ByteBuf in, List<Object> out, Object error) {
        in.skipBytes(in.readableBytes());
        out.add(error);
        state = State.FAILED;
        return true;
    }

    private static DecodeError frameError(String text) {
        return new DecodeError(ReplyCode.FRAME_ERROR, text);
    }

    @Override
    protected void handlerRemoved0(ChannelHandlerContext ctx) {
        if (payload != null) {
            payload.release();
            payload = null;
        }
    }
}
