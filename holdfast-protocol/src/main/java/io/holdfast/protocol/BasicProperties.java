package io.holdfast.protocol;

import static io.holdfast.protocol.WireFormat.requireReadable;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import java.util.Map;

/**
 * The 14 properties of class basic, as carried in a content header frame; {@code null} means absent.
 *
 * <pre>
 * flags:u16 [flags:u16 ...], then each present property in this order:
 *   bit 15 content-type      shortstr      bit 8 expiration  shortstr
 *   bit 14 content-encoding  shortstr      bit 7 message-id  shortstr
 *   bit 13 headers           table         bit 6 timestamp   u64
 *   bit 12 delivery-mode     octet         bit 5 type        shortstr
 *   bit 11 priority          octet         bit 4 user-id     shortstr
 *   bit 10 correlation-id    shortstr      bit 3 app-id      shortstr
 *   bit  9 reply-to          shortstr      bit 2 cluster-id  shortstr
 * </pre>
 * Bit 1 names no property of class basic. Bit 0 says another flags word follows; such a word could
 * only name properties basic does not have, so it may have no bit set but its own bit 0.
 *
 * <p>{@link #decode} accepts exactly what {@link #encode} could produce, plus continuation words, and
 * throws {@link ProtocolException} ({@link ReplyCode#SYNTAX_ERROR}) for anything else. For input
 * without continuation words, {@code encode} of what {@code decode} returned gives back the same
 * bytes.
 *
 * <p>Immutable except for the headers map, which belongs to whoever built the record; safe to share
 * between threads once built.
 */
public record BasicProperties(
        String contentType,
        String contentEncoding,
        Map<String, Object> headers,
        Integer deliveryMode,
        Integer priority,
        String correlationId,
        String replyTo,
        String expiration,
        String messageId,
        Long timestamp,
        String type,
        String userId,
        String appId,
        String clusterId) {

    /** No property set. */
    public static final BasicProperties EMPTY = new BasicProperties(
            null, null, null, null, null, null, null, null, null, null, null, null, null, null);

    private static final int CONTINUATION = 1;
    private static final int UNUSED_BIT = 1 << 1;

    public BasicProperties {
        requireOctet("delivery-mode", deliveryMode);
        requireOctet("priority", priority);
    }

    /** These properties with {@code headers} in place of the current ones. */
    public BasicProperties withHeaders(Map<String, Object> headers) {
        return new BasicProperties(contentType, contentEncoding, headers, deliveryMode, priority, correlationId,
                replyTo, expiration, messageId, timestamp, type, userId, appId, clusterId);
    }

    /** These properties with {@code replyTo} in place of the current one. */
    public BasicProperties withReplyTo(String replyTo) {
        return new BasicProperties(contentType, contentEncoding, headers, deliveryMode, priority, correlationId,
                replyTo, expiration, messageId, timestamp, type, userId, appId, clusterId);
    }

    /**
     * Parses property flags and list, as found after the body size in a content header frame.
     *
     * @throws ProtocolException 502 for short input, unknown flags, a bad field or trailing bytes
     */
    public static BasicProperties decode(byte[] raw) {
        ByteBuf in = Unpooled.wrappedBuffer(raw);
        int flags = readFlags(in);
        int word = flags;
        while ((word & CONTINUATION) != 0) {
            word = readFlags(in);
            if ((word & ~CONTINUATION) != 0) {
                throw syntaxError(String.format("property flags word 0x%04x names properties basic does not have", word));
            }
        }
        if ((flags & UNUSED_BIT) != 0) {
            throw syntaxError("property flag bit 1 names no basic property");
        }
        BasicProperties p = new BasicProperties(
                has(flags, 15) ? WireFormat.readShortString(in) : null,
                has(flags, 14) ? WireFormat.readShortString(in) : null,
                has(flags, 13) ? FieldTable.read(in) : null,
                has(flags, 12) ? readOctet(in, "delivery-mode property") : null,
                has(flags, 11) ? readOctet(in, "priority property") : null,
                has(flags, 10) ? WireFormat.readShortString(in) : null,
                has(flags, 9) ? WireFormat.readShortString(in) : null,
                has(flags, 8) ? WireFormat.readShortString(in) : null,
                has(flags, 7) ? WireFormat.readShortString(in) : null,
                has(flags, 6) ? requireReadable(in, 8, "timestamp property").readLong() : null,
                has(flags, 5) ? WireFormat.readShortString(in) : null,
                has(flags, 4) ? WireFormat.readShortString(in) : null,
                has(flags, 3) ? WireFormat.readShortString(in) : null,
                has(flags, 2) ? WireFormat.readShortString(in) : null);
        if (in.isReadable()) {
            throw syntaxError("content header has " + in.readableBytes() + " bytes after its last property");
        }
        return p;
    }

    /**
     * The {@code priority} property (0..255) of the encoded properties in {@code data[offset, offset + length)},
     * or 0 when they have none, read without decoding the rest: the flags, then skipping content-type,
     * content-encoding, headers and delivery-mode. For properties {@link #decode} accepted (a priority queue's
     * enqueue, a journal replay); input that ends too early counts as having none.
     */
    public static int priorityOf(byte[] data, int offset, int length) {
        int end = offset + length;
        int at = offset;
        if (end - at < 2) {
            return 0;
        }
        int flags = (data[at] & 0xFF) << 8 | data[at + 1] & 0xFF;
        if (!has(flags, 11)) {
            return 0;
        }
        int word = flags;
        at += 2;
        while ((word & CONTINUATION) != 0) {
            if (end - at < 2) {
                return 0;
            }
            word = (data[at] & 0xFF) << 8 | data[at + 1] & 0xFF;
            at += 2;
        }
        for (int bit = 15; bit >= 14; bit--) { // content-type, content-encoding: short strings
            if (has(flags, bit)) {
                if (at >= end) {
                    return 0;
                }
                at += 1 + (data[at] & 0xFF);
            }
        }
        if (has(flags, 13)) { // headers: a table, u32 length first
            if (end - at < 4) {
                return 0;
            }
            long size = ((long) (data[at] & 0xFF) << 24) | (data[at + 1] & 0xFF) << 16 | (data[at + 2] & 0xFF) << 8
                    | data[at + 3] & 0xFF;
            if (size > end - at - 4) {
                return 0;
            }
            at += 4 + (int) size;
        }
        if (has(flags, 12)) { // delivery-mode: an octet
            at++;
        }
        return at < end ? data[at] & 0xFF : 0;
    }

    /**
     * Property flags and list, as they go after the body size in a content header frame.
     *
     * @throws IllegalArgumentException when a string is longer than 255 UTF-8 bytes or a header value
     *     cannot be put in a field table
     */
    public byte[] encode() {
        ByteBuf out = Unpooled.buffer();
        out.writeShort(0); // the flags, set once we know which properties are present
        int flags = 0;
        flags |= writeShortString(out, 15, contentType);
        flags |= writeShortString(out, 14, contentEncoding);
        if (headers != null) {
            FieldTable.write(out, headers);
            flags |= 1 << 13;
        }
        flags |= writeOctet(out, 12, deliveryMode);
        flags |= writeOctet(out, 11, priority);
        flags |= writeShortString(out, 10, correlationId);
        flags |= writeShortString(out, 9, replyTo);
        flags |= writeShortString(out, 8, expiration);
        flags |= writeShortString(out, 7, messageId);
        if (timestamp != null) {
            out.writeLong(timestamp);
            flags |= 1 << 6;
        }
        flags |= writeShortString(out, 5, type);
        flags |= writeShortString(out, 4, userId);
        flags |= writeShortString(out, 3, appId);
        flags |= writeShortString(out, 2, clusterId);
        out.setShort(0, flags);
        return ByteBufUtil.getBytes(out);
    }

    private static int readFlags(ByteBuf in) {
        return requireReadable(in, 2, "property flags").readUnsignedShort();
    }

    private static boolean has(int flags, int bit) {
        return (flags & (1 << bit)) != 0;
    }

    private static Integer readOctet(ByteBuf in, String what) {
        return (int) requireReadable(in, 1, what).readUnsignedByte();
    }

    private static int writeShortString(ByteBuf out, int bit, String value) {
        if (value == null) {
            return 0;
        }
        WireFormat.writeShortString(out, value);
        return 1 << bit;
    }

    private static int writeOctet(ByteBuf out, int bit, Integer value) {
        if (value == null) {
            return 0;
        }
        out.writeByte(value);
        return 1 << bit;
    }

    private static void requireOctet(String name, Integer value) {
        if (value != null && (value < 0 || value > 0xFF)) {
            throw new IllegalArgumentException(name + " must be 0 to 255, got " + value);
        }
    }

    private static ProtocolException syntaxError(String text) {
        return new ProtocolException(ReplyCode.SYNTAX_ERROR, text);
    }
}
