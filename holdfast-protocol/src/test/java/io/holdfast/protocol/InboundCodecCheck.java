package io.holdfast.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.util.Arrays;
import java.util.Map;
import java.util.Random;

/**
 * Feeds bytes through the server's inbound codec (FrameDecoder, then Method, ContentHeader and
 * BasicProperties decoding) and checks its promises for any input: only frames, protocol headers
 * and decode errors come out, in a legal order; a payload decoder throws nothing but
 * ProtocolException with a hard-error code; whatever decodes encodes again to a fixed point (field
 * tables: to the very bytes read); every buffer is released; no buffer is more than twice the input. Shared by the seeded and the Jazzer
 * fuzz tests. Not thread-safe: one instance per input.
 */
final class InboundCodecCheck {
    private final int frameMax;
    private boolean started;
    private boolean ended;

    private InboundCodecCheck(int frameMax) {
        this.frameMax = frameMax;
    }

    /** Checks {@code stream} written in chunks whose sizes {@code chunking} picks (one chunk when null). */
    static void check(byte[] stream, int frameMax, Random chunking) {
        new InboundCodecCheck(frameMax).run(stream, chunking);
    }

    private void run(byte[] stream, Random chunking) {
        TrackingAllocator alloc = new TrackingAllocator();
        EmbeddedChannel channel = alloc.channel(new FrameDecoder(frameMax));
        for (int offset = 0; offset < stream.length; ) {
            int chunk = chunking == null ? stream.length : 1 + chunking.nextInt(Math.min(stream.length - offset, 512));
            channel.writeInbound(alloc.copyOf(stream, offset, chunk));
            offset += chunk;
            drain(channel);
        }
        channel.finish();
        drain(channel);
        alloc.assertAllReleased();
        assertThat(alloc.largestCapacity()).as("largest buffer").isLessThanOrEqualTo(Math.max(64, 2 * stream.length));
    }

    private void drain(EmbeddedChannel channel) {
        for (Object m = channel.readInbound(); m != null; m = channel.readInbound()) {
            accept(m);
        }
    }

    private void accept(Object message) {
        try {
            assertThat(ended).as("a message after the decoder failed: %s", message).isFalse();
            if (message == ProtocolHeader.ACCEPTED) {
                assertThat(started).as("second protocol header").isFalse();
                started = true;
            } else if (message == BadProtocolHeader.INSTANCE) {
                assertThat(started).as("bad header after a good one").isFalse();
                ended = true;
            } else if (message instanceof DecodeError e) {
                assertThat(started).isTrue();
                // 505 only for a well-formed heartbeat on a channel other than 0; every other error is framing.
                assertThat(e.replyCode()).isIn(ReplyCode.FRAME_ERROR, ReplyCode.UNEXPECTED_FRAME);
                assertThat(e.text()).isNotBlank();
                ended = true;
            } else if (message instanceof Frame f) {
                assertThat(started).as("frame before the protocol header").isTrue();
                checkFrame(f);
            } else {
                fail("unexpected message " + message);
            }
        } finally {
            if (message instanceof Frame f) {
                f.release();
            }
        }
    }

    private void checkFrame(Frame f) {
        assertThat(FrameType.isKnown(f.type())).isTrue();
        assertThat(f.payload().readableBytes()).isLessThanOrEqualTo(frameMax - FrameType.FRAME_OVERHEAD);
        ByteBuf payload = f.payload().duplicate();
        if (f.type() == FrameType.METHOD) {
            checkMethod(payload);
        } else if (f.type() == FrameType.HEADER) {
            checkContentHeader(payload);
        }
    }

    /** Decodes a method payload; a method that decodes must encode to bytes that decode and encode alike. */
    static void checkMethod(ByteBuf payload) {
        Method m;
        try {
            m = Method.decode(payload);
        } catch (ProtocolException e) {
            assertHardError(e);
            return;
        }
        byte[] once = encode(m);
        assertThat(encode(Method.decode(Unpooled.wrappedBuffer(once)))).isEqualTo(once);
    }

    /** Decodes a content header payload; its properties must encode to bytes that decode and encode alike. */
    static void checkContentHeader(ByteBuf payload) {
        ContentHeader header;
        try {
            header = ContentHeader.decode(payload);
        } catch (ProtocolException e) {
            assertHardError(e);
            return;
        }
        byte[] once = BasicProperties.decode(header.rawProperties()).encode();
        assertThat(BasicProperties.decode(once).encode()).isEqualTo(once);
    }

    /** Reads a field table; one that reads must write back as exactly the bytes it was read from. */
    static void checkTable(byte[] wire) {
        ByteBuf in = Unpooled.wrappedBuffer(wire);
        Map<String, Object> table;
        try {
            table = FieldTable.read(in);
        } catch (ProtocolException e) {
            assertThat(e.replyCode()).isEqualTo(ReplyCode.SYNTAX_ERROR);
            return;
        }
        ByteBuf again = Unpooled.buffer();
        FieldTable.write(again, table);
        assertThat(ByteBufUtil.getBytes(again)).isEqualTo(Arrays.copyOf(wire, in.readerIndex()));
    }

    private static void assertHardError(ProtocolException e) {
        assertThat(ReplyCode.isHardError(e.replyCode())).as("hard error: %s", e).isTrue();
        assertThat(e.getMessage()).isNotBlank();
    }

    private static byte[] encode(Method m) {
        ByteBuf out = Unpooled.buffer();
        m.encode(out);
        return ByteBufUtil.getBytes(out);
    }
}
