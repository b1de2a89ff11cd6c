package io.holdfast.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JournalTest {
    @TempDir
    Path dir;

    private JournalConfig smallSegments() {
        return JournalConfig.defaults(dir).withSegmentBytesMax(256);
    }

    @Test
    void recordsReplayByteForByteInOrderAcrossSegments() throws IOException {
        Random random = new Random(7);
        List<byte[]> written = new ArrayList<>();
        List<Completion> completions = new ArrayList<>();
        try (Journal journal = Journal.open(smallSegments(), new Replay())) {
            for (int i = 0; i < 200; i++) {
                byte[] payload = new byte[random.nextInt(120)];
                random.nextBytes(payload);
                written.add(payload);
                Completion completion = new Completion();
                journal.append(payload, true, completion);
                completions.add(completion);
            }
            completions.forEach(Completion::segmentId);
            assertThat(journal.segmentCount()).isGreaterThan(10);
        }
        Replay replay = new Replay();
        try (Journal journal = Journal.open(smallSegments(), replay)) {
            assertThat(replay.payloads).containsExactlyElementsOf(written);
            List<Long> confirmedSegments = completions.stream().map(Completion::segmentId).toList();
            assertThat(replay.segmentIds).containsExactlyElementsOf(confirmedSegments).isSorted();
            List<Long> confirmedPositions = completions.stream().map(Completion::position).toList();
            assertThat(replay.positions).containsExactlyElementsOf(confirmedPositions).isSorted();
            RecoveryReport report = journal.recoveryReport();
            assertThat(report.recordsRecovered()).isEqualTo(200);
            assertThat(report.segmentsScanned()).isEqualTo(journal.segmentCount());
            assertThat(report.tornTailBytesTruncated()).isZero();
            assertThat(report.degraded()).isFalse();
            assertThat(report.damage()).isEmpty();
        }
    }

    @Test
    void eachThreadsAppendsKeepTheirOrderOnDisk() throws Exception {
        int threads = 4;
        int perThread = 300;
        CountDownLatch done = new CountDownLatch(threads * perThread);
        try (Journal journal = Journal.open(smallSegments(), new Replay())) {
            List<Thread> appenders = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int thread = t;
                appenders.add(new Thread(() -> {
                    for (int i = 0; i < perThread; i++) {
                        journal.append((thread + ":" + i).getBytes(StandardCharsets.UTF_8), true,
                                (segment, error) -> done.countDown());
                    }
                }));
            }
            appenders.forEach(Thread::start);
            for (Thread appender : appenders) {
                appender.join();
            }
            done.await();
        }
        Replay replay = new Replay();
        Journal.open(smallSegments(), replay).close();
        int[] next = new int[threads];
        for (String record : replay.strings()) {
            String[] parts = record.split(":");
            int thread = Integer.parseInt(parts[0]);
            assertThat(Integer.parseInt(parts[1])).as("next record of thread %d", thread).isEqualTo(next[thread]);
            next[thread]++;
        }
        assertThat(next).containsOnly(perThread);
    }

    @Test
    void segmentFilesAreNamedByPaddedIdStartWithTheHeaderAndStayWithinTheirMaximum() throws IOException {
        try (Journal journal = Journal.open(smallSegments(), new Replay())) {
            for (int i = 0; i < 40; i++) {
                Completion.append(journal, "record " + i, true).segmentId();
            }
            assertThat(journal.diskBytes()).isEqualTo(totalSegmentBytes());
        }
        List<Path> files = segmentFiles();
        assertThat(files).hasSizeGreaterThan(1);
        assertThat(files.get(0).getFileName()).hasToString("00000000000000000001.seg");
        for (Path file : files) {
            byte[] bytes = Files.readAllBytes(file);
            assertThat(bytes.length).as("records within the maximum, then the seal").isLessThanOrEqualTo(256 + SegmentFormat.SEAL_BYTES);
            ByteBuffer header = ByteBuffer.wrap(bytes);
            assertThat(header.getInt()).isEqualTo(SegmentFormat.MAGIC);
            assertThat(header.getShort()).isEqualTo(SegmentFormat.VERSION);
        }
    }

    @Test
    void reopeningWithoutAppendsCreatesNoSegmentAndNewAppendsGoToANewOne() throws IOException {
        long first;
        try (Journal journal = Journal.open(smallSegments(), new Replay())) {
            first = Completion.append(journal, "a", false).segmentId();
        }
        Journal.open(smallSegments(), new Replay()).close();
        assertThat(segmentFiles()).hasSize(1);
        try (Journal journal = Journal.open(smallSegments(), new Replay())) {
            assertThat(Completion.append(journal, "b", false).segmentId()).isEqualTo(first + 1);
        }
        Replay replay = new Replay();
        Journal.open(smallSegments(), replay).close();
        assertThat(replay.strings()).containsExactly("a", "b");
    }

    @Test
    void emptyAndLargestPayloadsRoundTripAndLargerOnesAreRefused() throws IOException {
        JournalConfig config = smallSegments();
        byte[] largest = new byte[config.payloadBytesMax()];
        new Random(3).nextBytes(largest);
        try (Journal journal = Journal.open(config, new Replay())) {
            Completion empty = new Completion();
            journal.append(new byte[0], true, empty);
            Completion full = new Completion();
            journal.append(largest, true, full);
            assertThat(full.segmentId()).isGreaterThan(empty.segmentId());
            assertThatThrownBy(() -> journal.append(new byte[config.payloadBytesMax() + 1], false, new Completion()))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("larger than");
        }
        Replay replay = new Replay();
        Journal.open(config, replay).close();
        assertThat(replay.payloads).containsExactly(new byte[0], largest);
    }

    @Test
    void closeCompletesQueuedAppendsThenRefusesNewOnesAndIsIdempotent() throws IOException {
        Journal journal = Journal.open(smallSegments(), new Replay());
        List<Completion> completions = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            completions.add(Completion.append(journal, "r" + i, false));
        }
        journal.close();
        assertThat(completions).allMatch(Completion::isDone);
        assertThat(completions).allSatisfy(c -> assertThat(c.error()).isNull());
        assertThatThrownBy(() -> Completion.append(journal, "late", false))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
        journal.close();
    }

    @Test
    void callbacksRunOnTheWriterThreadAndMayAppendAgain() throws IOException {
        Completion inner = new Completion();
        Thread[] outerThread = new Thread[1];
        try (Journal journal = Journal.open(smallSegments(), new Replay())) {
            journal.append("first".getBytes(StandardCharsets.UTF_8), false, (position, error) -> {
                outerThread[0] = Thread.currentThread();
                journal.append("from callback".getBytes(StandardCharsets.UTF_8), false, inner);
            });
            inner.segmentId();
            assertThat(outerThread[0].getName()).isEqualTo("holdfast-journal-writer");
            assertThat(inner.thread).isSameAs(outerThread[0]);
        }
    }

    @Test
    void openCreatesAMissingDirectoryAndIgnoresForeignFiles() throws IOException {
        Path nested = dir.resolve("a/b/journal");
        try (Journal journal = Journal.open(JournalConfig.defaults(nested), new Replay())) {
            Completion.append(journal, "x", false).segmentId();
        }
        Files.writeString(nested.resolve("notes.txt"), "not a segment");
        Files.writeString(nested.resolve("12.seg"), "wrong name length");
        Replay replay = new Replay();
        try (Journal journal = Journal.open(JournalConfig.defaults(nested), replay)) {
            assertThat(replay.strings()).containsExactly("x");
            assertThat(journal.recoveryReport().degraded()).isFalse();
        }
    }

    private List<Path> segmentFiles() throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(f -> f.toString().endsWith(".seg")).sorted().toList();
        }
    }

    private long totalSegmentBytes() throws IOException {
        long total = 0;
        for (Path file : segmentFiles()) {
            total += Files.size(file);
        }
        return total;
    }
}
