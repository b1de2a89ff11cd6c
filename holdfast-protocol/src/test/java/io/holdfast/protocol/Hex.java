package io.holdfast.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import java.util.HexFormat;

/** Bytes written as hex in tests; spaces are for the reader. */
final class Hex {
    private Hex() {}

    static byte[] bytes(String hex) {
        return HexFormat.of().parseHex(hex.replace(" ", ""));
    }

    static ByteBuf buf(String hex) {
        return Unpooled.wrappedBuffer(bytes(hex));
    }

    /** A field table: the entries given, behind their u32 length. */
    static String table(String entries) {
        return String.format("%08x", bytes(entries).length) + entries.replace(" ", "");
    }

    static String of(ByteBuf buf) {
        return ByteBufUtil.hexDump(buf);
    }

    static String of(byte[] bytes) {
        return HexFormat.of().formatHex(bytes);
    }
}
