package io.holdfast.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Storage tests from DESIGN.md: between reopenings, truncate and bit-flip segment files at random offsets.
 * Seeded and repeatable: the seed is printed; {@code -Dholdfast.store.seed=N} replays it.
 *
 * <p>After every open: it did not throw; every record is byte-identical to one written (never corrupt
 * bytes); records come back in write order; every record of a segment the damage did not touch is back;
 * a torn last segment is cut (a second open finds nothing to cut); damage to an older segment is counted.
 */
class CorruptionTest {
    private static final int ROUNDS = 40;

    @TempDir
    Path dir;

    private final Map<Long, byte[]> written = new HashMap<>(); // sequence number -> payload
    private long nextSequence;

    @Test
    void randomTruncationsAndBitFlipsNeverServeCorruptBytesNorStopTheJournal() throws IOException {
        long seed = Long.getLong("holdfast.store.seed", System.nanoTime());
        System.out.println("CorruptionTest seed " + seed + " (replay with -Dholdfast.store.seed=" + seed + ")");
        Random random = new Random(seed);
        Map<Long, Long> present = new HashMap<>(); // sequence -> segment, as of the last open
        Set<String> damagedBefore = new HashSet<>();
        Set<Long> touched = new HashSet<>();
        Expectation expectation = Expectation.NONE;
        int degradedRounds = 0;
        long tornBytes = 0;
        for (int round = 0; round < ROUNDS; round++) {
            String context = "seed " + seed + " round " + round;
            JournalConfig config = JournalConfig.defaults(dir).withSegmentBytesMax(300 + random.nextInt(900));
            Replay replay = new Replay();
            Journal journal = Journal.open(config, replay);
            RecoveryReport report = journal.recoveryReport();
            Map<Long, Long> recovered = checkReplay(replay, context);
            for (Map.Entry<Long, Long> record : present.entrySet()) {
                if (!touched.contains(record.getValue())) {
                    assertThat(recovered).as(context + ": record in an undamaged segment").containsKey(record.getKey());
                }
            }
            expectation.check(report, context);
            degradedRounds += report.degraded() ? 1 : 0;
            tornBytes += report.tornTailBytesTruncated();
            journal.close();

            Replay again = new Replay();
            try (Journal reopened = Journal.open(config, again)) {
                assertThat(reopened.recoveryReport().tornTailBytesTruncated()).as(context + ": tail already cut").isZero();
                assertThat(again.payloads).as(context + ": recovery is repeatable").containsExactlyElementsOf(replay.payloads);
                damagedBefore.clear();
                for (String entry : reopened.recoveryReport().damage()) {
                    damagedBefore.add(entry.substring(0, entry.indexOf('@')));
                }
                present = recovered;
                appendSome(reopened, random, present);
            }
            touched.clear();
            expectation = damage(random, touched, damagedBefore);
        }
        System.out.printf("CorruptionTest: %d rounds, %d degraded, %d torn tail bytes cut, %d records written%n",
                ROUNDS, degradedRounds, tornBytes, nextSequence);
        assertThat(degradedRounds).as("the damage reached older segments sometimes").isPositive();
        assertThat(tornBytes).as("the damage tore the last segment sometimes").isPositive();
    }

    /** Checks content and order; returns sequence -> segment of what came back. */
    private Map<Long, Long> checkReplay(Replay replay, String context) {
        Map<Long, Long> recovered = new HashMap<>();
        long previous = -1;
        for (int i = 0; i < replay.payloads.size(); i++) {
            byte[] payload = replay.payloads.get(i);
            assertThat(payload.length).as(context).isGreaterThanOrEqualTo(8);
            long sequence = ByteBuffer.wrap(payload).getLong();
            assertThat(written).as(context + ": a record that was written").containsKey(sequence);
            assertThat(payload).as(context + ": byte-identical to what was written").isEqualTo(written.get(sequence));
            assertThat(sequence).as(context + ": write order").isGreaterThan(previous);
            previous = sequence;
            recovered.put(sequence, replay.segmentIds.get(i));
        }
        return recovered;
    }

    private void appendSome(Journal journal, Random random, Map<Long, Long> present) {
        List<Completion> completions = new ArrayList<>();
        List<Long> sequences = new ArrayList<>();
        int count = 20 + random.nextInt(60);
        for (int i = 0; i < count; i++) {
            long sequence = nextSequence++;
            byte[] payload = new byte[8 + random.nextInt(150)];
            random.nextBytes(payload);
            ByteBuffer.wrap(payload).putLong(sequence);
            written.put(sequence, payload);
            Completion completion = new Completion();
            journal.append(payload, true, completion);
            completions.add(completion);
            sequences.add(sequence);
        }
        for (int i = 0; i < count; i++) {
            present.put(sequences.get(i), completions.get(i).segmentId());
        }
    }

    /** What the next open must report, given the damage done. */
    private record Expectation(boolean olderSegmentHit, long tornBytes) {
        static final Expectation NONE = new Expectation(false, -1);

        void check(RecoveryReport report, String context) {
            if (olderSegmentHit) {
                assertThat(report.corruptRecordsSkipped()).as(context + ": damage to an older segment is counted")
                        .isPositive();
            }
            if (tornBytes >= 0) {
                assertThat(report.tornTailBytesTruncated()).as(context + ": torn tail cut").isEqualTo(tornBytes);
            }
        }
    }

    private Expectation damage(Random random, Set<Long> touched, Set<String> damagedBefore) throws IOException {
        List<Path> files = segmentFiles();
        Path last = files.get(files.size() - 1);
        boolean olderHit = false;
        long tornBytes = -1;
        boolean lastTouchedOtherwise = false;
        int actions = 1 + random.nextInt(3);
        for (int a = 0; a < actions; a++) {
            Path file = random.nextInt(3) == 0 ? last : files.get(random.nextInt(files.size()));
            byte[] before = Files.readAllBytes(file);
            if (before.length == 0) {
                continue;
            }
            touched.add(SegmentFormat.parseFileName(file.getFileName().toString()).getAsLong());
            switch (random.nextInt(4)) {
                case 0 -> { // truncate at a random offset
                    int at = random.nextInt(before.length);
                    truncate(file, at);
                    if (file.equals(last) && a == 0) {
                        tornBytes = expectedTornBytes(before, at);
                    } else if (file.equals(last)) {
                        lastTouchedOtherwise = true;
                    }
                    olderHit |= !file.equals(last) && isHealthy(file, damagedBefore);
                }
                case 1, 2 -> { // flip 1 to 3 bits around a random offset
                    byte[] after = before.clone();
                    int at = random.nextInt(before.length);
                    int bits = 1 + random.nextInt(3);
                    for (int b = 0; b < bits; b++) {
                        int index = Math.min(before.length - 1, at + random.nextInt(4));
                        after[index] ^= (byte) (1 << random.nextInt(8));
                    }
                    Files.write(file, after);
                    boolean changed = !Arrays.equals(before, after);
                    lastTouchedOtherwise |= file.equals(last);
                    olderHit |= changed && !file.equals(last) && isHealthy(file, damagedBefore);
                }
                default -> { // zero a range, as a lost page would
                    byte[] after = before.clone();
                    int from = random.nextInt(before.length);
                    Arrays.fill(after, from, Math.min(before.length, from + 1 + random.nextInt(64)), (byte) 0);
                    Files.write(file, after);
                    lastTouchedOtherwise |= file.equals(last);
                    olderHit |= !Arrays.equals(before, after) && !file.equals(last) && isHealthy(file, damagedBefore);
                }
            }
        }
        return new Expectation(olderHit, lastTouchedOtherwise ? -1 : tornBytes);
    }

    private static boolean isHealthy(Path file, Set<String> damagedBefore) {
        return !damagedBefore.contains(file.getFileName().toString());
    }

    /** The last segment was written cleanly this round: cutting at {@code at} tears the record there. */
    private static long expectedTornBytes(byte[] clean, int at) {
        if (at < SegmentFormat.HEADER_BYTES) {
            return at; // a headerless last file is removed whole
        }
        int boundary = SegmentFormat.HEADER_BYTES;
        while (boundary < at) {
            if (ByteBuffer.wrap(clean, boundary, 4).getInt() == SegmentFormat.SEAL_TAG) {
                break; // cutting into the seal tears it: it is cut, and recovery seals again
            }
            int next = boundary + SegmentFormat.RECORD_HEADER_BYTES + ByteBuffer.wrap(clean, boundary, 4).getInt();
            if (next > at) {
                break;
            }
            boundary = next;
        }
        return at - boundary;
    }

    private List<Path> segmentFiles() throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(f -> SegmentFormat.parseFileName(f.getFileName().toString()).isPresent())
                    .sorted().toList();
        }
    }

    private static void truncate(Path file, long size) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
            channel.truncate(size);
        }
    }
}
