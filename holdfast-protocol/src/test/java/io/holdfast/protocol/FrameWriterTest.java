package io.holdfast.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class FrameWriterTest {
    private static final Method.BasicDeliver DELIVER = new Method.BasicDeliver("ctag", 7, true, "ex", "rk");

    @Test
    void heartbeatIsAnEmptyFrameOnChannelZero() {
        ByteBuf out = Unpooled.buffer();
        FrameWriter.writeHeartbeat(out);

        assertThat(Hex.of(out)).isEqualTo("08" + "0000" + "00000000" + "ce");
    }

    @Test
    void methodFrameCarriesClassMethodAndArguments() {
        ByteBuf out = Unpooled.buffer();
        FrameWriter.writeMethod(out, 5, new Method.BasicAck(0x0102030405060708L, true));

        assertThat(Hex.of(out)).isEqualTo("01" + "0005" + "0000000d" + "003c0050" + "0102030405060708" + "01" + "ce");
    }

    @Test
    void bodyIsSplitIntoFramesOfAtMostFrameMaxMinusEight() {
        byte[] body = new byte[10_000];
        new Random(3).nextBytes(body);
        byte[] properties = Hex.bytes("8000 0a 746578742f706c61696e");

        List<Frame> frames = decode(content(properties, body, 4096));

        try {
            assertThat(frames).extracting(Frame::type).containsExactly(
                    FrameType.METHOD, FrameType.HEADER, FrameType.BODY, FrameType.BODY, FrameType.BODY);
            assertThat(frames).extracting(Frame::channel).containsOnly(9);
            assertThat(Method.decode(frames.get(0).payload())).isEqualTo(DELIVER);
            ContentHeader header = ContentHeader.decode(frames.get(1).payload());
            assertThat(header.classId()).isEqualTo(60);
            assertThat(header.bodySize()).isEqualTo(body.length);
            assertThat(header.rawProperties()).isEqualTo(properties);
            assertThat(frames.subList(2, 5)).extracting(f -> f.payload().readableBytes()).containsExactly(4088, 4088, 1824);
            ByteArrayOutputStream reassembled = new ByteArrayOutputStream();
            frames.subList(2, 5).forEach(f -> reassembled.writeBytes(ByteBufUtil.getBytes(f.payload())));
            assertThat(reassembled.toByteArray()).isEqualTo(body);
        } finally {
            frames.forEach(Frame::release);
        }
    }

    @Test
    void emptyBodyHasNoBodyFrame() {
        List<Frame> frames = decode(content(new byte[] {0, 0}, new byte[0], 4096));

        assertThat(frames).extracting(Frame::type).containsExactly(FrameType.METHOD, FrameType.HEADER);
        frames.forEach(Frame::release);
    }

    @Test
    void frameMaxZeroSendsTheWholeBodyInOneFrame() {
        List<Frame> frames = decode(content(new byte[] {0, 0}, new byte[5000], 0));

        assertThat(frames).extracting(Frame::type).containsExactly(FrameType.METHOD, FrameType.HEADER, FrameType.BODY);
        assertThat(frames.get(2).payload().readableBytes()).isEqualTo(5000);
        frames.forEach(Frame::release);
    }

    @Test
    void methodWithoutContentIsRefused() {
        assertThatThrownBy(() -> FrameWriter.writeContent(Unpooled.buffer(), 1, new Method.BasicAck(1, false), 60,
                new byte[] {0, 0}, new byte[0], 0)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void frameMaxBelowTheSpecMinimumIsRefused() {
        assertThatThrownBy(() -> content(new byte[] {0, 0}, new byte[1], 100)).isInstanceOf(IllegalArgumentException.class);
    }

    private static ByteBuf content(byte[] properties, byte[] body, int frameMax) {
        ByteBuf out = Unpooled.buffer();
        out.writeBytes(FrameWriter.PROTOCOL_HEADER);
        FrameWriter.writeContent(out, 9, DELIVER, 60, properties, body, frameMax);
        return out;
    }

    /** Reads the frames back with the decoder, whose frame_max is large enough for the unlimited case. */
    private static List<Frame> decode(ByteBuf stream) {
        EmbeddedChannel channel = new EmbeddedChannel(new FrameDecoder(1 << 20));
        channel.writeInbound(stream);
        List<Frame> frames = new ArrayList<>();
        assertThat(channel.<Object>readInbound()).isEqualTo(ProtocolHeader.ACCEPTED);
        for (Object m = channel.readInbound(); m != null; m = channel.readInbound()) {
            frames.add((Frame) m);
        }
        channel.finishAndReleaseAll();
        return frames;
    }
}
