package io.holdfast.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import java.lang.management.ManagementFactory;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.function.BiConsumer;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * Seeded random fuzzing of the inbound codec: valid encodings, mutated (bits flipped, truncated,
 * spliced, lengths overwritten, bytes inserted and deleted) either before framing, so that payload
 * decoders see the damage, or after, so that the frame decoder does.
 *
 * <p>A new seed each run; a failure names it. Replay with
 * {@code mvn -pl holdfast-protocol test -Dtest=CodecFuzzTest -Dholdfast.fuzz.seed=SEED}, and keep a
 * seed that found a bug as a named regression test.
 */
class CodecFuzzTest {
    private static final long SEED = Long.getLong("holdfast.fuzz.seed", System.nanoTime());
    private static final int[] FRAME_MAXES = {FrameType.FRAME_MIN_SIZE, 8192, 131072};
    private static final List<Class<? extends Method>> METHODS = SampleValues.methodTypes();
    private static final List<Class<? extends Method>> CONTENT_METHODS = List.of(
            Method.BasicPublish.class, Method.BasicDeliver.class, Method.BasicReturn.class, Method.BasicGetOk.class);
    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    @Test
    void mutatedStreamsYieldOnlyFramesAndDecodeErrors() {
        forEachCase(5000, r -> {
            if (r.nextInt(10) == 0) {
                byte[] noise = SampleValues.bytes(r, 64);
                return r.nextBoolean() ? noise : concat(FrameWriter.PROTOCOL_HEADER, noise);
            }
            return Mutator.mutate(r, validStream(r), validStream(r));
        }, (stream, r) -> InboundCodecCheck.check(stream, FRAME_MAXES[r.nextInt(FRAME_MAXES.length)], r));
    }

    @Test
    void mutatedMethodsDecodeOrThrowProtocolExceptionsWithMemoryInProportion() {
        forEachCase(20000, r -> Mutator.mutate(r, methodPayload(r), methodPayload(r)), (payload, r) -> {
            InboundCodecCheck.checkMethod(Unpooled.wrappedBuffer(payload));
            assertAllocationInProportion(payload, () -> Method.decode(Unpooled.wrappedBuffer(payload)));
        });
    }

    @Test
    void mutatedContentHeadersDecodeOrThrowProtocolExceptionsWithMemoryInProportion() {
        forEachCase(20000, r -> Mutator.mutate(r, headerPayload(r), headerPayload(r)), (payload, r) -> {
            InboundCodecCheck.checkContentHeader(Unpooled.wrappedBuffer(payload));
            assertAllocationInProportion(payload, () -> ContentHeader.decode(Unpooled.wrappedBuffer(payload)));
        });
    }

    @Test
    void everyTableTheDecoderAcceptsWritesBackByteForByte() {
        forEachCase(20000, r -> Mutator.mutate(r, table(r), table(r)), (wire, r) -> InboundCodecCheck.checkTable(wire));
    }

    /**
     * Decoding may cost some bytes per input byte plus a constant; a buffer sized by a declared
     * length (up to 4 GiB) rather than by the input breaks this at once. Measured on a second decode
     * of the same input, after the first (the caller's) has loaded any classes it needs.
     */
    private static void assertAllocationInProportion(byte[] input, Runnable decode) {
        long before = THREADS.getCurrentThreadAllocatedBytes();
        try {
            decode.run();
        } catch (ProtocolException expected) {
            // the caller's check has judged the exception already
        }
        long allocated = THREADS.getCurrentThreadAllocatedBytes() - before;
        assertThat(allocated).as("bytes allocated to decode %d bytes", input.length)
                .isLessThanOrEqualTo(64L * input.length + 16 * 1024);
    }

    /**
     * Runs {@code cases} cases, each from its own seed drawn from SEED: generates an input, then
     * checks it (the check may draw further choices from the same Random). A failure shows the seed
     * to replay and the input.
     */
    private static void forEachCase(int cases, Function<Random, byte[]> generate, BiConsumer<byte[], Random> check) {
        Random seeds = new Random(SEED);
        for (int i = 0; i < cases; i++) {
            Random r = new Random(seeds.nextLong());
            byte[] input = generate.apply(r);
            try {
                check.accept(input, r);
            } catch (Throwable t) {
                throw new AssertionError("fuzz case " + i + " failed; replay with -Dholdfast.fuzz.seed=" + SEED
                        + "\ninput (" + input.length + " bytes): "
                        + HexFormat.of().formatHex(input, 0, Math.min(input.length, 4096)), t);
            }
        }
    }

    /** The protocol header, then a few method, content and heartbeat frames, payloads mutated at times. */
    private static byte[] validStream(Random r) {
        ByteBuf out = Unpooled.buffer();
        out.writeBytes(FrameWriter.PROTOCOL_HEADER);
        for (int frames = 1 + r.nextInt(5); frames > 0; frames--) {
            int channel = r.nextInt(4);
            switch (r.nextInt(4)) {
                case 0 -> FrameWriter.writeHeartbeat(out);
                case 1 -> FrameWriter.writeContent(out, channel,
                        SampleValues.method(CONTENT_METHODS.get(r.nextInt(CONTENT_METHODS.size())), r), 60,
                        properties(r).encode(), SampleValues.bytes(r, 300), FRAME_MAXES[0]);
                default -> writeFrame(out, r.nextInt(3) == 0 ? FrameType.HEADER : FrameType.METHOD, channel,
                        maybeMutated(r));
            }
        }
        return ByteBufUtil.getBytes(out);
    }

    private static byte[] maybeMutated(Random r) {
        boolean method = r.nextBoolean();
        byte[] payload = method ? methodPayload(r) : headerPayload(r);
        return r.nextBoolean() ? payload : Mutator.mutate(r, payload, method ? methodPayload(r) : headerPayload(r));
    }

    private static void writeFrame(ByteBuf out, int type, int channel, byte[] payload) {
        out.writeByte(type).writeShort(channel).writeInt(payload.length).writeBytes(payload).writeByte(FrameType.FRAME_END);
    }

    private static byte[] methodPayload(Random r) {
        ByteBuf out = Unpooled.buffer();
        SampleValues.method(METHODS.get(r.nextInt(METHODS.size())), r).encode(out);
        return ByteBufUtil.getBytes(out);
    }

    private static byte[] headerPayload(Random r) {
        ByteBuf out = Unpooled.buffer();
        out.writeShort(60).writeShort(0).writeLong(r.nextInt(1 << 20)).writeBytes(properties(r).encode());
        return ByteBufUtil.getBytes(out);
    }

    private static byte[] table(Random r) {
        ByteBuf out = Unpooled.buffer();
        FieldTable.write(out, SampleValues.table(r, 0));
        return ByteBufUtil.getBytes(out);
    }

    /** Each property present or not at random. */
    private static BasicProperties properties(Random r) {
        return new BasicProperties(
                r.nextBoolean() ? SampleValues.string(r, 20) : null,
                r.nextBoolean() ? SampleValues.string(r, 20) : null,
                r.nextBoolean() ? SampleValues.table(r, 0) : null,
                r.nextBoolean() ? 1 + r.nextInt(2) : null,
                r.nextBoolean() ? r.nextInt(10) : null,
                r.nextBoolean() ? SampleValues.string(r, 20) : null,
                r.nextBoolean() ? SampleValues.string(r, 20) : null,
                r.nextBoolean() ? String.valueOf(r.nextInt(100_000)) : null,
                r.nextBoolean() ? SampleValues.string(r, 20) : null,
                r.nextBoolean() ? r.nextLong() : null,
                r.nextBoolean() ? SampleValues.string(r, 20) : null,
                r.nextBoolean() ? SampleValues.string(r, 20) : null,
                r.nextBoolean() ? SampleValues.string(r, 20) : null,
                r.nextBoolean() ? SampleValues.string(r, 20) : null);
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] c = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }
}
