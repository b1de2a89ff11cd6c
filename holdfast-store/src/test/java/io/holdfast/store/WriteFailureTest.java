package io.holdfast.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WriteFailureTest {
    @TempDir
    Path dir;

    private JournalConfig config() {
        return JournalConfig.defaults(dir);
    }

    @Test
    void failedFsyncFailsTheWholeBatchRollsTheSegmentAndLaterAppendsSucceed() throws IOException {
        FaultyStorage storage = new FaultyStorage(dir);
        List<Completion> failedBatch = new ArrayList<>();
        long firstSegment;
        try (Journal journal = Journal.open(config(), new Replay(), storage, Journal.PENDING_BYTES_MAX)) {
            firstSegment = Completion.append(journal, "before", true).segmentId();
            // Hold the writer inside the fsync of "lone" so that the next ten records queue up as one batch.
            storage.closeGate();
            int entered = storage.forcesEntered.get();
            Completion lone = Completion.append(journal, "lone", true);
            await().until(() -> storage.forcesEntered.get() > entered);
            for (int i = 0; i < 10; i++) {
                failedBatch.add(Completion.append(journal, "doomed " + i, true));
            }
            storage.failForce(2); // "lone" is forced fine, the batch of ten is not
            storage.openGate();
            assertThat(lone.segmentId()).isEqualTo(firstSegment);
            for (Completion doomed : failedBatch) {
                assertThat(doomed.error()).isInstanceOf(IOException.class).hasMessage("injected fsync failure");
            }
            int forcesOfFirst = storage.forcesByFile.get(SegmentFormat.fileName(firstSegment)).get();

            long after = Completion.append(journal, "after", true).segmentId();
            assertThat(after).as("a fresh segment, never the one whose fsync failed").isGreaterThan(firstSegment);
            Completion.append(journal, "after 2", true).segmentId();
            assertThat(storage.forcesByFile.get(SegmentFormat.fileName(firstSegment)).get())
                    .as("the failed segment is never forced again").isEqualTo(forcesOfFirst);
        }
        Replay replay = new Replay();
        try (Journal journal = Journal.open(config(), replay)) {
            assertThat(journal.recoveryReport().damage()).as("the abandoned segment was sealed").isEmpty();
        }
        assertThat(replay.strings()).as("failed records were cut from the abandoned segment")
                .containsExactly("before", "lone", "after", "after 2");
    }

    @Test
    void failedWriteFailsTheBatchAndLeavesNoPartialRecord() throws IOException {
        FaultyStorage storage = new FaultyStorage(dir);
        try (Journal journal = Journal.open(config(), new Replay(), storage, Journal.PENDING_BYTES_MAX)) {
            Completion.append(journal, "before", true).segmentId();
            storage.failAppend(1);
            assertThat(Completion.append(journal, "half written", true).error()).hasMessage("injected write failure");
            Completion.append(journal, "after", true).segmentId();
        }
        Replay replay = new Replay();
        try (Journal journal = Journal.open(config(), replay)) {
            assertThat(replay.strings()).containsExactly("before", "after");
            assertThat(journal.recoveryReport().degraded()).isFalse();
            assertThat(journal.recoveryReport().tornTailBytesTruncated()).isZero();
        }
    }

    @Test
    void failedSegmentCreationFailsOnlyThatBatch() throws IOException {
        FaultyStorage storage = new FaultyStorage(dir);
        try (Journal journal = Journal.open(config(), new Replay(), storage, Journal.PENDING_BYTES_MAX)) {
            storage.failCreate(1);
            assertThat(Completion.append(journal, "no segment", true).error()).hasMessage("injected create failure");
            Completion.append(journal, "works", true).segmentId();
        }
        Replay replay = new Replay();
        Journal.open(config(), replay).close();
        assertThat(replay.strings()).containsExactly("works");
    }

    @Test
    void anIdSkippedByAFailedCreationIsNotAMissingSegment() throws IOException {
        FaultyStorage storage = new FaultyStorage(dir);
        JournalConfig small = JournalConfig.defaults(dir).withSegmentBytesMax(200);
        String full = "x".repeat(small.payloadBytesMax()); // fills a segment: the next append rolls
        try (Journal journal = Journal.open(small, new Replay(), storage, Journal.PENDING_BYTES_MAX)) {
            assertThat(Completion.append(journal, "works", true).segmentId()).isEqualTo(1);
            storage.failCreate(1);
            assertThat(Completion.append(journal, full, true).error()).hasMessage("injected create failure");
            assertThat(Completion.append(journal, full, true).segmentId()).as("2 was never created").isEqualTo(3);
            assertThat(Completion.append(journal, "after", true).segmentId()).isEqualTo(4);
        }
        assertThat(dir.resolve(SegmentFormat.fileName(2))).doesNotExist();
        Replay replay = new Replay();
        try (Journal journal = Journal.open(small, replay)) {
            assertThat(journal.recoveryReport().damage()).as("segment 3 names 1 as its predecessor").isEmpty();
        }
        assertThat(replay.strings()).containsExactly("works", full, "after");
    }

    @Test
    void failedFsyncOfTheNewSegmentsHeaderFailsTheBatchAndTheNextSegmentWorks() throws IOException {
        FaultyStorage storage = new FaultyStorage(dir);
        try (Journal journal = Journal.open(config(), new Replay(), storage, Journal.PENDING_BYTES_MAX)) {
            storage.failForce(1);
            assertThat(Completion.append(journal, "lost", true).error()).hasMessage("injected fsync failure");
            assertThat(Completion.append(journal, "kept", true).segmentId()).isEqualTo(2);
        }
        Replay replay = new Replay();
        try (Journal journal = Journal.open(config(), replay)) {
            assertThat(replay.strings()).containsExactly("kept");
            assertThat(journal.recoveryReport().degraded()).isFalse();
        }
    }

    @Test
    void anUnexpectedErrorStopsTheWriterButFailsEveryAppendInsteadOfHangingIt() throws IOException {
        FaultyStorage storage = new FaultyStorage(dir);
        Journal journal = Journal.open(config(), new Replay(), storage, Journal.PENDING_BYTES_MAX);
        Completion.append(journal, "fine", true).segmentId();
        storage.closeGate();
        int entered = storage.forcesEntered.get();
        Completion broken = Completion.append(journal, "broken", true);
        await().until(() -> storage.forcesEntered.get() > entered);
        Completion queued = Completion.append(journal, "queued behind it", true);
        storage.breakForce(new AssertionError("injected bug"));
        storage.openGate();
        assertThat(broken.error()).isInstanceOf(AssertionError.class);
        assertThat(queued.error()).isInstanceOf(AssertionError.class);
        assertThatThrownBy(() -> Completion.append(journal, "refused", true)).isInstanceOf(IllegalStateException.class);
        journal.close();
    }

    @Test
    void aThrowingCallbackDoesNotStopTheWriter() throws IOException {
        try (Journal journal = Journal.open(config(), new Replay())) {
            journal.append(new byte[1], true, (segment, error) -> {
                throw new IllegalStateException("owner bug");
            });
            Completion.append(journal, "still works", true).segmentId();
        }
    }

    @Test
    void payloadModifiedAfterAppendIsRefusedNotWrittenWithAStaleCrc() throws IOException {
        FaultyStorage storage = new FaultyStorage(dir);
        byte[] payload = "original".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        try (Journal journal = Journal.open(config(), new Replay(), storage, Journal.PENDING_BYTES_MAX)) {
            Completion.append(journal, "first", true).segmentId();
            storage.closeGate();
            int entered = storage.forcesEntered.get();
            Completion.append(journal, "holds the writer", true);
            await().until(() -> storage.forcesEntered.get() > entered);
            Completion modified = new Completion();
            journal.append(payload, true, modified);
            Completion neighbour = Completion.append(journal, "neighbour", true);
            payload[0] = 'X';
            storage.openGate();
            assertThat(modified.error()).isInstanceOf(IllegalStateException.class);
            neighbour.segmentId();
        }
        Replay replay = new Replay();
        Journal.open(config(), replay).close();
        assertThat(replay.strings()).containsExactly("first", "holds the writer", "neighbour");
    }
}
