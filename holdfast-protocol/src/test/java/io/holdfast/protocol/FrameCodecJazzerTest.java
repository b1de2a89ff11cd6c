package io.holdfast.protocol;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.util.Random;

/**
 * Coverage-guided fuzzing of the inbound codec with Jazzer, checking the same promises as {@link
 * CodecFuzzTest}. Its agent is slow to start, so it runs only in the {@code fuzz} profile:
 * <ul>
 *   <li>{@code mvn -pl holdfast-protocol verify -Pfuzz} replays the saved inputs (regression mode);
 *   <li>{@code JAZZER_FUZZ=1 mvn -pl holdfast-protocol test -Pfuzz -Dsurefire.failIfNoSpecifiedTests=false
 *       -Dtest='FrameCodecJazzerTest#inboundCodecKeepsItsPromisesForAnyBytes'} fuzzes one test for its
 *       {@code maxDuration}, keeping its corpus in {@code .cifuzz-corpus/} (git-ignored) and saving
 *       a crashing input under {@code src/test/resources/io/holdfast/protocol/FrameCodecJazzerTestInputs/},
 *       where it becomes a regression input: commit it with the fix.
 * </ul>
 */
class FrameCodecJazzerTest {
    private static final int[] FRAME_MAXES = {FrameType.FRAME_MIN_SIZE, 8192, 131072};

    @FuzzTest(maxDuration = "2m")
    void inboundCodecKeepsItsPromisesForAnyBytes(FuzzedDataProvider data) {
        int frameMax = FRAME_MAXES[data.consumeInt(0, FRAME_MAXES.length - 1)];
        boolean withHeader = data.consumeBoolean();
        Random chunking = new Random(data.consumeLong());
        byte[] rest = data.consumeRemainingAsBytes();
        // A good protocol header in front lets the fuzzer spend its time on frames, not on the header.
        byte[] stream = withHeader ? prefixed(rest) : rest;
        InboundCodecCheck.check(stream, frameMax, chunking);
    }

    @FuzzTest(maxDuration = "2m")
    void fieldTableReadsBackByteForByte(byte[] wire) {
        InboundCodecCheck.checkTable(wire);
    }

    private static byte[] prefixed(byte[] rest) {
        byte[] stream = new byte[FrameWriter.PROTOCOL_HEADER.length + rest.length];
        System.arraycopy(FrameWriter.PROTOCOL_HEADER, 0, stream, 0, FrameWriter.PROTOCOL_HEADER.length);
        System.arraycopy(rest, 0, stream, FrameWriter.PROTOCOL_HEADER.length, rest.length);
        return stream;
    }
}
