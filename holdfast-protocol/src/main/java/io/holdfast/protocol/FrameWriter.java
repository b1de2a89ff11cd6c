package io.holdfast.protocol;

import io.netty.buffer.ByteBuf;

/**
 * Writes whole AMQP 0-9-1 frames into a buffer: method, content (method, header and body frames)
 * and heartbeat. The caller owns the buffer and sends it. Stateless; any thread may call it.
 */
public final class FrameWriter {
    /** "AMQP" 0 0 9 1: what a 0-9-1 client sends first, and what a server answers a wrong one with. Do not modify. */
    public static final byte[] PROTOCOL_HEADER = {'A', 'M', 'Q', 'P', 0, 0, 9, 1};

    private FrameWriter() {}

    /** Writes {@code m} as one method frame on {@code channel}. */
    public static void writeMethod(ByteBuf out, int channel, Method m) {
        int sizeIndex = beginFrame(out, FrameType.METHOD, channel);
        m.encode(out);
        endFrame(out, sizeIndex);
    }

    /** Writes a heartbeat frame (channel 0, no payload). */
    public static void writeHeartbeat(ByteBuf out) {
        out.writeByte(FrameType.HEARTBEAT);
        out.writeShort(0);
        out.writeInt(0);
        out.writeByte(FrameType.FRAME_END);
    }

    /**
     * Writes a content-carrying method, its content header frame and its body frames, as delivered to
     * a consumer. Body frames carry at most {@code frameMax - 8} bytes each; an empty body has none.
     *
     * @param rawProperties property flags and list, written verbatim (see {@link ContentHeader})
     * @param frameMax the negotiated frame_max, or 0 for no limit
     * @throws IllegalArgumentException when {@code m} carries no content, or {@code frameMax} is
     *     neither 0 nor at least {@link FrameType#FRAME_MIN_SIZE}
     */
    public static void writeContent(ByteBuf out, int channel, Method m, int classId, byte[] rawProperties,
                                    byte[] body, int frameMax) {
        if (!m.hasContent()) {
            throw new IllegalArgumentException(m.name() + " carries no content");
        }
        if (frameMax != 0 && frameMax < FrameType.FRAME_MIN_SIZE) {
            throw new IllegalArgumentException("frame_max " + frameMax + " is below " + FrameType.FRAME_MIN_SIZE);
        }
        writeMethod(out, channel, m);

        int sizeIndex = beginFrame(out, FrameType.HEADER, channel);
        out.writeShort(classId);
        out.writeShort(0); // weight: unused, always zero
        out.writeLong(body.length);
        out.writeBytes(rawProperties);
        endFrame(out, sizeIndex);

        int chunk = frameMax == 0 ? body.length : frameMax - FrameType.FRAME_OVERHEAD;
        for (int offset = 0; offset < body.length; offset += chunk) {
            int length = Math.min(chunk, body.length - offset);
            out.writeByte(FrameType.BODY);
            out.writeShort(channel);
            out.writeInt(length);
            out.writeBytes(body, offset, length);
            out.writeByte(FrameType.FRAME_END);
        }
    }

    /** Writes type and channel and a size to fill in later; returns where the size goes. */
    private static int beginFrame(ByteBuf out, int type, int channel) {
        out.writeByte(type);
        out.writeShort(channel);
        int sizeIndex = out.writerIndex();
        out.writeInt(0);
        return sizeIndex;
    }

    private static void endFrame(ByteBuf out, int sizeIndex) {
        out.setInt(sizeIndex, out.writerIndex() - sizeIndex - 4);
        out.writeByte(FrameType.FRAME_END);
    }
}
