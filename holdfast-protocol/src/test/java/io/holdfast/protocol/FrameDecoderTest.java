package io.holdfast.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.ResourceLeakDetector;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class FrameDecoderTest {
    private static final String HEADER = "414d515000000901";
    private static ResourceLeakDetector.Level previousLevel;

    private final TrackingAllocator alloc = new TrackingAllocator();
    private final FrameDecoder decoder = new FrameDecoder(FrameType.FRAME_MIN_SIZE);
    private final EmbeddedChannel channel = alloc.channel(decoder);

    @BeforeAll
    static void trackEveryBuffer() {
        previousLevel = ResourceLeakDetector.getLevel();
        ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.PARANOID);
    }

    @AfterAll
    static void restoreLeakDetection() {
        ResourceLeakDetector.setLevel(previousLevel);
    }

    @AfterEach
    void nothingLeaks() {
        channel.finishAndReleaseAll();
        alloc.assertAllReleased();
    }

    @Test
    void protocolHeaderIsAcceptedThenFramesFollow() {
        feed(HEADER + "01 0001 00000004 0014000a ce" + "08 0000 00000000 ce");

        assertThat(DecodedStream.drain(channel)).containsExactly(
                "ACCEPTED", "frame 1 on 1: 0014000a", "frame 8 on 0: ");
    }

    @Test
    void framesSplitAtEveryByteBoundaryDecodeTheSame() {
        byte[] stream = sampleStream();
        List<String> whole = decodeInChunks(stream, stream.length);
        assertThat(whole).hasSize(6).startsWith("ACCEPTED").endsWith("frame 8 on 0: ");

        for (int split = 1; split < stream.length; split++) {
            TrackingAllocator a = new TrackingAllocator();
            EmbeddedChannel c = a.channel(new FrameDecoder(FrameType.FRAME_MIN_SIZE));
            c.writeInbound(a.copyOf(stream, 0, split));
            c.writeInbound(a.copyOf(stream, split, stream.length - split));
            assertThat(DecodedStream.drain(c)).as("split at %d", split).isEqualTo(whole);
            c.finishAndReleaseAll();
            a.assertAllReleased();
        }
        assertThat(decodeInChunks(stream, 1)).isEqualTo(whole);
    }

    @Test
    void wrongFirstByteIsReportedAtOnce() {
        feed("47"); // 'G', as in an HTTP GET

        assertThat(DecodedStream.drain(channel)).containsExactly("bad protocol header");

        feed(HEADER);
        assertThat(DecodedStream.drain(channel)).isEmpty();
    }

    @Test
    void otherProtocolVersionIsABadHeaderAtItsFirstDifferentByte() {
        feed("414d5150 01"); // AMQP 0-8 and 0-9 start "AMQP" 1 1

        assertThat(DecodedStream.drain(channel)).containsExactly("bad protocol header");
    }

    @Test
    void badHeaderDiffersOnlyInItsLastByte() {
        feed("414d5150 000009");
        assertThat(DecodedStream.drain(channel)).isEmpty();

        feed("00");
        assertThat(DecodedStream.drain(channel)).containsExactly("bad protocol header");
    }

    @Test
    void partialHeaderWaitsForTheRest() {
        feed("414d51");
        assertThat(DecodedStream.drain(channel)).isEmpty();

        feed("5000000901");
        assertThat(DecodedStream.drain(channel)).containsExactly("ACCEPTED");
    }

    @Test
    void unknownFrameTypeIsAFrameError() {
        feed(HEADER + "04 0001 00000000 ce");

        assertThat(DecodedStream.drain(channel)).containsExactly("ACCEPTED", "501 unknown frame type 4");
    }

    @Test
    void frameLargerThanFrameMaxIsRefusedFromItsHeaderAlone() {
        feed(HEADER + "03 0001 00000ff9");

        assertThat(DecodedStream.drain(channel)).containsExactly(
                "ACCEPTED", "501 frame size 4097 exceeds frame_max 4096");
    }

    @Test
    void frameOfExactlyFrameMaxIsAccepted() {
        feed(HEADER + "03 0001 00000ff8" + "00".repeat(4088) + "ce");

        assertThat(DecodedStream.drain(channel)).hasSize(2).last().asString().startsWith("frame 3 on 1: 0000");
    }

    @Test
    void wrongFrameEndOctetIsAFrameError() {
        feed(HEADER + "01 0001 00000004 0014000a 00");

        assertThat(DecodedStream.drain(channel)).containsExactly(
                "ACCEPTED", "501 frame end octet missing (got 0x00)");
    }

    @Test
    void heartbeatOnAChannelOtherThanZeroIsAnUnexpectedFrame() {
        feed(HEADER + "08 0003 00000000 ce");

        assertThat(DecodedStream.drain(channel)).containsExactly(
                "ACCEPTED", "505 heartbeat frame on channel 3; heartbeats belong to channel 0");
    }

    @Test
    void heartbeatWithAPayloadOnAnotherChannelIsAFrameError() {
        feed(HEADER + "08 0003 00000001 00 ce");

        assertThat(DecodedStream.drain(channel)).containsExactly(
                "ACCEPTED", "501 heartbeat frame with a payload of 1 bytes");
    }

    @Test
    void heartbeatWithAPayloadIsAFrameError() {
        feed(HEADER + "08 0000 00000001 00 ce");

        assertThat(DecodedStream.drain(channel)).containsExactly(
                "ACCEPTED", "501 heartbeat frame with a payload of 1 bytes");
    }

    @Test
    void nothingIsDecodedAfterAnError() {
        feed(HEADER + "05 0000 00000000 ce" + "08 0000 00000000 ce");
        feed("08 0000 00000000 ce");

        assertThat(DecodedStream.drain(channel)).containsExactly("ACCEPTED", "501 unknown frame type 5");
    }

    @Test
    void truncatedFrameWaitsForTheRest() {
        feed(HEADER + "03 0002 00000003 6162");
        assertThat(DecodedStream.drain(channel)).containsExactly("ACCEPTED");

        feed("63");
        assertThat(DecodedStream.drain(channel)).isEmpty();

        feed("ce");
        assertThat(DecodedStream.drain(channel)).containsExactly("frame 3 on 2: 616263");
    }

    @Test
    void frameHeldForItsEndOctetIsReleasedWhenTheConnectionCloses() {
        feed(HEADER + "03 0002 00000003 616263");

        assertThat(DecodedStream.drain(channel)).containsExactly("ACCEPTED");
        // nothingLeaks() then checks that closing released the held payload.
    }

    @Test
    void frameMaxRaisedOnTuneOkGovernsTheVeryNextFrame() {
        List<String> seen = new ArrayList<>();
        channel.pipeline().addLast(new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                if (msg instanceof Frame f && f.type() == FrameType.METHOD) {
                    decoder.setMaxFrameSize(131072); // as the server does on connection.tune-ok
                }
                seen.add(DecodedStream.describe(msg));
            }
        });
        ByteBuf tuneOk = Unpooled.buffer();
        FrameWriter.writeMethod(tuneOk, 0, new Method.ConnectionTuneOk(2047, 131072, 60));

        feed(HEADER + ByteBufUtil.hexDump(tuneOk) + "03 0001 00002000" + "00".repeat(0x2000) + "ce");

        assertThat(seen).hasSize(3).element(2).asString().startsWith("frame 3 on 1");
    }

    @Test
    void frameMaxBelowTheSpecMinimumIsRefused() {
        assertThatThrownBy(() -> decoder.setMaxFrameSize(4095)).isInstanceOf(IllegalArgumentException.class);
    }

    /** Protocol header, a method, a whole message, a heartbeat: six messages. */
    private static byte[] sampleStream() {
        ByteBuf out = Unpooled.buffer();
        out.writeBytes(FrameWriter.PROTOCOL_HEADER);
        FrameWriter.writeMethod(out, 1, new Method.ChannelOpen(""));
        byte[] properties = BasicProperties.EMPTY.withHeaders(Map.of("k", 1)).encode();
        FrameWriter.writeContent(out, 1, new Method.BasicPublish(0, "ex", "rk", false, false), 60, properties,
                "body".getBytes(StandardCharsets.US_ASCII), 0);
        FrameWriter.writeHeartbeat(out);
        return ByteBufUtil.getBytes(out);
    }

    private static List<String> decodeInChunks(byte[] stream, int chunk) {
        TrackingAllocator a = new TrackingAllocator();
        EmbeddedChannel c = a.channel(new FrameDecoder(FrameType.FRAME_MIN_SIZE));
        List<String> lines = new ArrayList<>();
        for (int offset = 0; offset < stream.length; offset += chunk) {
            c.writeInbound(a.copyOf(stream, offset, Math.min(chunk, stream.length - offset)));
            lines.addAll(DecodedStream.drain(c));
        }
        c.finishAndReleaseAll();
        a.assertAllReleased();
        return lines;
    }

    private void feed(String hex) {
        byte[] bytes = Hex.bytes(hex);
        channel.writeInbound(alloc.copyOf(bytes, 0, bytes.length));
    }
}
