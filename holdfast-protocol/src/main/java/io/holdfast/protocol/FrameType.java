package io.holdfast.protocol;

/** AMQP 0-9-1 frame type octets and framing constants (the spec's {@code FRAME-*} constants). */
public final class FrameType {
    public static final int METHOD = 1;
    public static final int HEADER = 2;
    public static final int BODY = 3;
    public static final int HEARTBEAT = 8;

    /** The octet that closes every frame. */
    public static final int FRAME_END = 0xCE;

    /** The smallest frame_max a peer may negotiate, and the limit before connection.tune-ok. */
    public static final int FRAME_MIN_SIZE = 4096;

    /**
     * Bytes a frame adds around its payload: type, channel and size (7) plus the end octet. frame_max
     * counts them, as RabbitMQ does, so a payload may be at most frame_max minus this.
     */
    public static final int FRAME_OVERHEAD = 8;

    private FrameType() {}

    /** True for the four frame types 0-9-1 defines. */
    public static boolean isKnown(int type) {
        return type == METHOD || type == HEADER || type == BODY || type == HEARTBEAT;
    }
}
