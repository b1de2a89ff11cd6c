package io.holdfast.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;

/**
 * A content header frame's payload: which class the content belongs to, how many body bytes follow,
 * and the property flags and list exactly as received, so the broker can store and forward them
 * byte for byte without re-encoding.
 *
 * <pre>
 * class-id:u16 weight:u16 body-size:u64 property-flags:u16... property-list
 * </pre>
 *
 * <p>Immutable (do not modify {@code rawProperties}); safe to share between threads.
 *
 * @param rawProperties property flags and list, valid per {@link BasicProperties#decode}
 */
public record ContentHeader(int classId, long bodySize, byte[] rawProperties) {
    private static final int FIXED_SIZE = 2 + 2 + 8;

    /**
     * Parses a content header payload and checks its properties, so that malformed properties are
     * refused when they arrive rather than when a consumer reads them. The weight field is ignored,
     * as RabbitMQ does. Whether {@code classId} matches the method is for the caller to check.
     *
     * @throws ProtocolException 502 for a short payload, a body size of 2^63 or more, or bad properties
     */
    public static ContentHeader decode(ByteBuf payload) {
        WireFormat.requireReadable(payload, FIXED_SIZE, "content header");
        int classId = payload.readUnsignedShort();
        payload.skipBytes(2);
        long bodySize = payload.readLong();
        if (bodySize < 0) {
            throw new ProtocolException(ReplyCode.SYNTAX_ERROR,
                    "content body size " + Long.toUnsignedString(bodySize) + " is too large", classId, 0);
        }
        byte[] rawProperties = ByteBufUtil.getBytes(payload);
        payload.skipBytes(rawProperties.length);
        try {
            BasicProperties.decode(rawProperties);
        } catch (ProtocolException e) {
            throw e.withMethod(classId, 0);
        }
        return new ContentHeader(classId, bodySize, rawProperties);
    }
}
