package io.holdfast.protocol;

import io.netty.buffer.ByteBufUtil;
import io.netty.channel.embedded.EmbeddedChannel;
import java.util.ArrayList;
import java.util.List;

/** Drains what a {@link FrameDecoder} emitted, as readable lines, releasing every frame. */
final class DecodedStream {
    private DecodedStream() {}

    static List<String> drain(EmbeddedChannel channel) {
        List<String> lines = new ArrayList<>();
        for (Object m = channel.readInbound(); m != null; m = channel.readInbound()) {
            lines.add(describe(m));
        }
        return lines;
    }

    static String describe(Object message) {
        if (message instanceof Frame f) {
            try {
                return "frame " + f.type() + " on " + f.channel() + ": " + ByteBufUtil.hexDump(f.payload());
            } finally {
                f.release();
            }
        } else if (message instanceof DecodeError e) {
            return e.replyCode() + " " + e.text();
        } else if (message == BadProtocolHeader.INSTANCE) {
            return "bad protocol header";
        }
        return String.valueOf(message);
    }
}
