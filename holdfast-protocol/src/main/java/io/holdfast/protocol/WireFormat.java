package io.holdfast.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import java.nio.charset.StandardCharsets;

/**
 * The AMQP 0-9-1 string encodings. Reads throw {@link ProtocolException} (502) on bad lengths and on
 * short strings that are not well-formed UTF-8: decoding those leniently would turn each bad byte
 * into U+FFFD, and a name echoed back to the client could then no longer be written (over 255
 * bytes) or would not be the name the client sent.
 */
public final class WireFormat {
    private WireFormat() {}

    public static String readShortString(ByteBuf in) {
        requireReadable(in, 1, "short string length");
        int len = in.readUnsignedByte();
        if (in.readableBytes() < len) {
            throw new ProtocolException(ReplyCode.SYNTAX_ERROR, "short string of " + len + " bytes runs past the frame");
        }
        if (!ByteBufUtil.isText(in, in.readerIndex(), len, StandardCharsets.UTF_8)) {
            throw new ProtocolException(ReplyCode.SYNTAX_ERROR, "short string is not valid UTF-8");
        }
        String s = in.toString(in.readerIndex(), len, StandardCharsets.UTF_8);
        in.skipBytes(len);
        return s;
    }

    public static void writeShortString(ByteBuf out, String s) {
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        if (bytes.length > 255) {
            throw new IllegalArgumentException("short string longer than 255 bytes: " + bytes.length);
        }
        out.writeByte(bytes.length);
        out.writeBytes(bytes);
    }

    public static byte[] readLongString(ByteBuf in) {
        requireReadable(in, 4, "long string length");
        long len = in.readUnsignedInt();
        if (in.readableBytes() < len) {
            throw new ProtocolException(ReplyCode.SYNTAX_ERROR, "long string of " + len + " bytes runs past the frame");
        }
        byte[] bytes = new byte[(int) len];
        in.readBytes(bytes);
        return bytes;
    }

    public static void writeLongString(ByteBuf out, byte[] bytes) {
        out.writeInt(bytes.length);
        out.writeBytes(bytes);
    }

    public static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /**
     * Throws 502 unless {@code in} has {@code n} more bytes. Decoders call it before each read so
     * that short input is reported as a syntax error, never as an IndexOutOfBoundsException, and so
     * that a declared length is checked before anything of that size is allocated.
     */
    static ByteBuf requireReadable(ByteBuf in, long n, String what) {
        if (in.readableBytes() < n) {
            throw new ProtocolException(ReplyCode.SYNTAX_ERROR,
                    what + " needs " + n + " bytes but only " + in.readableBytes() + " remain");
        }
        return in;
    }
}
