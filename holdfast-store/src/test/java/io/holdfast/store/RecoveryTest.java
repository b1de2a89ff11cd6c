package io.holdfast.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Recovery through {@link Journal#open} on real files: what happens on disk and in the report. */
class RecoveryTest {
    @TempDir
    Path dir;

    /** Three 30-byte records per segment. */
    private JournalConfig config() {
        return JournalConfig.defaults(dir).withSegmentBytesMax(110);
    }

    private static String record(int i) {
        return String.format("record-%015d", i);
    }

    private List<String> writeRecords(int count) throws IOException {
        List<String> written = new ArrayList<>();
        try (Journal journal = Journal.open(config(), new Replay())) {
            for (int i = 0; i < count; i++) {
                Completion.append(journal, record(i), true).segmentId();
                written.add(record(i));
            }
        }
        return written;
    }

    private Path segment(long id) {
        return dir.resolve(SegmentFormat.fileName(id));
    }

    @Test
    void tornTailIsCutOnDiskAndIsNotDamage() throws IOException {
        List<String> written = writeRecords(8); // segments 1, 2 full; 3 holds two records
        long size = Files.size(segment(3));
        truncate(segment(3), size - 3);
        Replay replay = new Replay();
        try (Journal journal = Journal.open(config(), replay)) {
            assertThat(replay.strings()).containsExactlyElementsOf(written.subList(0, 7));
            RecoveryReport report = journal.recoveryReport();
            assertThat(report.tornTailBytesTruncated()).isEqualTo(30 - 3);
            assertThat(report.degraded()).isFalse();
            assertThat(report.damage()).isEmpty();
        }
        assertThat(Files.size(segment(3))).isEqualTo(size - 30);
        Replay again = new Replay();
        try (Journal journal = Journal.open(config(), again)) {
            assertThat(journal.recoveryReport().tornTailBytesTruncated()).isZero();
            assertThat(again.strings()).isEqualTo(replay.strings());
        }
    }

    @Test
    void zeroFilledTailLeftByACrashIsCut() throws IOException {
        List<String> written = writeRecords(2);
        long size = Files.size(segment(1));
        Files.write(segment(1), new byte[4096], StandardOpenOption.APPEND);
        Replay replay = new Replay();
        try (Journal journal = Journal.open(config(), replay)) {
            assertThat(replay.strings()).containsExactlyElementsOf(written);
            assertThat(journal.recoveryReport().tornTailBytesTruncated()).isEqualTo(4096);
        }
        assertThat(Files.size(segment(1))).isEqualTo(size);
    }

    @Test
    void corruptRecordInAnOlderSegmentIsSkippedReportedAndNeverDelivered() throws IOException {
        List<String> written = writeRecords(9);
        byte[] bytes = Files.readAllBytes(segment(2));
        int secondRecord = SegmentFormat.HEADER_BYTES + 30;
        bytes[secondRecord + 8 + 3] ^= 0x10; // one bit of the payload of record 4
        Files.write(segment(2), bytes);
        Replay replay = new Replay();
        try (Journal journal = Journal.open(config(), replay)) {
            List<String> expected = new ArrayList<>(written);
            expected.remove(record(4));
            assertThat(replay.strings()).containsExactlyElementsOf(expected);
            RecoveryReport report = journal.recoveryReport();
            assertThat(report.degraded()).isTrue();
            assertThat(report.corruptRecordsSkipped()).isEqualTo(1);
            assertThat(report.recordsRecovered()).isEqualTo(8);
            assertThat(report.damage()).singleElement().asString()
                    .startsWith("00000000000000000002.seg@" + secondRecord + ": CRC mismatch");
        }
        assertThat(Files.readAllBytes(segment(2))).as("damage is left for an operator").isEqualTo(bytes);
    }

    @Test
    void corruptLengthIsCaughtAndTheReaderResyncsOnTheNextRecord() throws IOException {
        List<String> written = writeRecords(9);
        byte[] bytes = Files.readAllBytes(segment(1));
        bytes[SegmentFormat.HEADER_BYTES + 3] ^= 0x04; // length 22 -> 18: still inside the file
        Files.write(segment(1), bytes);
        Replay replay = new Replay();
        try (Journal journal = Journal.open(config(), replay)) {
            assertThat(replay.strings()).containsExactlyElementsOf(written.subList(1, 9));
            assertThat(journal.recoveryReport().damage()).singleElement().asString()
                    .contains("@20: CRC mismatch (length 18); skipped 30 bytes");
        }
    }

    @Test
    void segmentWithABadHeaderIsSkippedWholeAndLeftOnDisk() throws IOException {
        List<String> written = writeRecords(9);
        byte[] bytes = Files.readAllBytes(segment(2));
        bytes[0] = 'X';
        Files.write(segment(2), bytes);
        Replay replay = new Replay();
        try (Journal journal = Journal.open(config(), replay)) {
            assertThat(replay.strings()).containsExactlyElementsOf(
                    List.of(written.get(0), written.get(1), written.get(2), written.get(6), written.get(7), written.get(8)));
            RecoveryReport report = journal.recoveryReport();
            assertThat(report.segmentsScanned()).isEqualTo(3);
            assertThat(report.corruptRecordsSkipped()).isEqualTo(1);
            assertThat(report.damage()).singleElement().asString().startsWith("00000000000000000002.seg@0: bad magic");
            assertThat(journal.segmentCount()).isEqualTo(2);
            assertThat(Completion.append(journal, "new", true).segmentId()).isEqualTo(4);
        }
        assertThat(segment(2)).exists();
    }

    @Test
    void headerlessLastSegmentFromACrashDuringCreationIsRemoved() throws IOException {
        List<String> written = writeRecords(3);
        Files.write(segment(2), new byte[7]);
        Replay replay = new Replay();
        try (Journal journal = Journal.open(config(), replay)) {
            assertThat(replay.strings()).containsExactlyElementsOf(written);
            assertThat(journal.recoveryReport().tornTailBytesTruncated()).isEqualTo(7);
            assertThat(journal.recoveryReport().degraded()).isFalse();
        }
        assertThat(segment(2)).doesNotExist();
    }

    @Test
    void recordsReachAnInPlaceVisitorUncopiedThroughReusedBuffersOfSegmentsOfEverySize() throws IOException {
        // Segments of 196, 74 and 178 bytes: the read buffers are reused, grown, and hold stale bytes.
        JournalConfig config = JournalConfig.defaults(dir).withSegmentBytesMax(200);
        List<String> written = List.of("a".repeat(10), "b".repeat(150), "c".repeat(10), "d".repeat(10),
                "e".repeat(10), "f".repeat(150), "g".repeat(10));
        List<Long> positions = new ArrayList<>();
        try (Journal journal = Journal.open(config, new Replay())) {
            for (String payload : written) {
                positions.add(Completion.append(journal, payload, true).position());
            }
            assertThat(journal.segmentCount()).isEqualTo(3);
        }
        Path last = segment(3);
        truncate(last, Files.size(last) - 4); // a torn tail on the last segment, after the longer first one
        List<String> seen = new ArrayList<>();
        List<Long> seenAt = new ArrayList<>();
        List<Integer> bufferSizes = new ArrayList<>();
        RecordVisitor inPlace = new RecordVisitor() {
            @Override
            public void record(long position, byte[] payload) {
                throw new AssertionError("recovery copied a payload");
            }

            @Override
            public void record(long position, byte[] data, int offset, int length) {
                seenAt.add(position);
                seen.add(new String(data, offset, length, java.nio.charset.StandardCharsets.UTF_8));
                bufferSizes.add(data.length);
                data[offset] = 'X'; // must not matter: the bytes are not read again
            }
        };
        try (Journal journal = Journal.open(config, inPlace)) {
            assertThat(seen).containsExactlyElementsOf(written.subList(0, 6));
            assertThat(seenAt).containsExactlyElementsOf(positions.subList(0, 6));
            assertThat(bufferSizes).allMatch(size -> size >= 74);
            assertThat(journal.recoveryReport().tornTailBytesTruncated()).isEqualTo(18 - 4);
            assertThat(journal.recoveryReport().damage()).isEmpty();
        }
        Replay again = new Replay();
        Journal.open(config, again).close();
        assertThat(again.strings()).as("the byte[] default copies").containsExactlyElementsOf(written.subList(0, 6));
    }

    @Test
    void aVisitorThatThrowsAbortsOpenAndLeavesNoReadAheadThreadBehind() throws IOException {
        List<String> written = writeRecords(12); // four segments
        IllegalStateException boom = new IllegalStateException("boom");
        List<Long> seen = new ArrayList<>();
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> Journal.open(config(), (position, payload) -> {
            if (seen.size() == 4) {
                throw boom;
            }
            seen.add(position);
        })).isSameAs(boom);
        assertThat(Thread.getAllStackTraces().keySet()).extracting(Thread::getName)
                .doesNotContain("holdfast-journal-read-ahead");
        Replay replay = new Replay();
        try (Journal journal = Journal.open(config(), replay)) {
            assertThat(replay.strings()).containsExactlyElementsOf(written);
            assertThat(journal.recoveryReport().damage()).isEmpty();
        }
    }

    private static void truncate(Path file, long size) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
            channel.truncate(size);
        }
    }
}
