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
        long size = Files.size(segment(3)) - SegmentFormat.SEAL_BYTES; // sealed at close: cut the seal too
        truncate(segment(3), size - 3);
        Replay replay = new Replay();
        try (Journal journal = Journal.open(config(), replay)) {
            assertThat(replay.strings()).containsExactlyElementsOf(written.subList(0, 7));
            RecoveryReport report = journal.recoveryReport();
            assertThat(report.tornTailBytesTruncated()).isEqualTo(30 - 3);
            assertThat(report.degraded()).isFalse();
            assertThat(report.damage()).isEmpty();
        }
        assertThat(Files.size(segment(3))).as("cut, then sealed by recovery").isEqualTo(size - 30 + SegmentFormat.SEAL_BYTES);
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
        truncate(last, Files.size(last) - SegmentFormat.SEAL_BYTES - 4); // no seal, and a torn tail on the last segment, after the longer first one
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

    /** Regression, CorruptionTest seed 13653783251465: an older segment cut exactly at a record boundary. */
    @Test
    void olderSegmentCutAtARecordBoundaryIsReportedWithFileAndOffset() throws IOException {
        List<String> written = writeRecords(9); // three sealed segments of three records
        int boundary = SegmentFormat.HEADER_BYTES + 2 * 30;
        truncate(segment(2), boundary); // every remaining record checks out; record 5 and the seal are gone
        for (int open = 0; open < 2; open++) {
            Replay replay = new Replay();
            try (Journal journal = Journal.open(config(), replay)) {
                List<String> expected = new ArrayList<>(written);
                expected.remove(record(5));
                assertThat(replay.strings()).containsExactlyElementsOf(expected);
                RecoveryReport report = journal.recoveryReport();
                assertThat(report.degraded()).isTrue();
                assertThat(report.corruptRecordsSkipped()).isEqualTo(1);
                assertThat(report.damage()).singleElement().asString()
                        .startsWith("00000000000000000002.seg@" + boundary + ": the closed segment ends without its seal");
            }
        }
    }

    @Test
    void missingMiddleSegmentIsReportedByName() throws IOException {
        List<String> written = writeRecords(12); // segments 1 to 4
        Files.delete(segment(2));
        Files.delete(segment(3));
        Replay replay = new Replay();
        try (Journal journal = Journal.open(config(), replay)) {
            assertThat(replay.strings()).containsExactlyElementsOf(
                    List.of(written.get(0), written.get(1), written.get(2), written.get(9), written.get(10), written.get(11)));
            RecoveryReport report = journal.recoveryReport();
            assertThat(report.degraded()).isTrue();
            assertThat(report.corruptRecordsSkipped()).isEqualTo(1);
            assertThat(report.damage()).singleElement().asString()
                    .startsWith("00000000000000000003.seg@0: missing: 00000000000000000004.seg follows")
                    .endsWith("lost: 00000000000000000002.seg to 00000000000000000003.seg");
        }
    }

    @Test
    void deletedPrefixIsNotAMissingSegment() throws IOException {
        List<String> written = writeRecords(9);
        Files.delete(segment(1));
        Files.delete(segment(2));
        Replay replay = new Replay();
        try (Journal journal = Journal.open(config(), replay)) {
            assertThat(replay.strings()).containsExactlyElementsOf(written.subList(6, 9));
            assertThat(journal.recoveryReport().damage()).isEmpty();
        }
    }

    @Test
    void cleanRestartsOfSealedSegmentsReportNothingAndEveryClosedSegmentEndsWithItsSeal() throws IOException {
        List<String> written = new ArrayList<>();
        for (int run = 0; run < 4; run++) {
            Replay replay = new Replay();
            try (Journal journal = Journal.open(config(), replay)) {
                assertThat(replay.strings()).containsExactlyElementsOf(written);
                assertThat(journal.recoveryReport().damage()).isEmpty();
                assertThat(journal.recoveryReport().tornTailBytesTruncated()).isZero();
                for (int i = 0; i < 4; i++) {
                    String payload = record(written.size());
                    Completion.append(journal, payload, true).segmentId();
                    written.add(payload);
                }
            }
        }
        try (var files = Files.list(dir)) {
            for (Path file : files.sorted().toList()) {
                byte[] bytes = Files.readAllBytes(file);
                int sealAt = bytes.length - SegmentFormat.SEAL_BYTES;
                SegmentFormat.Seal seal = SegmentFormat.parseSeal(bytes, bytes.length, sealAt, new java.util.zip.CRC32C());
                assertThat(seal).as(file.toString()).isNotNull();
                assertThat(seal.offset()).isEqualTo(sealAt);
                assertThat(SegmentFormat.version(bytes)).isEqualTo(2);
            }
        }
    }

    @Test
    void anUnsealedLastSegmentLeftByACrashIsSealedByRecoverySoItIsNoDamageOnceOlder() throws IOException {
        List<String> written = writeRecords(4); // segment 2 holds one record
        truncate(segment(2), Files.size(segment(2)) - SegmentFormat.SEAL_BYTES); // as a crash leaves it
        Replay replay = new Replay();
        try (Journal journal = Journal.open(config(), replay)) {
            assertThat(replay.strings()).containsExactlyElementsOf(written);
            assertThat(journal.recoveryReport().damage()).isEmpty();
            assertThat(journal.recoveryReport().tornTailBytesTruncated()).isZero();
            assertThat(Completion.append(journal, "after", true).segmentId()).isEqualTo(3);
        }
        Replay again = new Replay();
        try (Journal journal = Journal.open(config(), again)) {
            assertThat(again.strings()).hasSize(5);
            assertThat(journal.recoveryReport().damage()).isEmpty();
        }
    }

    @Test
    void aCorruptLastRecordOfASealedLastSegmentIsDamageNotATornTail() throws IOException {
        List<String> written = writeRecords(2); // one segment, sealed at close
        byte[] bytes = Files.readAllBytes(segment(1));
        int second = SegmentFormat.HEADER_BYTES + 30;
        bytes[second + 12] ^= 0x01;
        Files.write(segment(1), bytes);
        Replay replay = new Replay();
        try (Journal journal = Journal.open(config(), replay)) {
            assertThat(replay.strings()).containsExactly(written.get(0));
            assertThat(journal.recoveryReport().tornTailBytesTruncated()).isZero();
            assertThat(journal.recoveryReport().damage()).singleElement().asString()
                    .startsWith("00000000000000000001.seg@" + second + ": CRC mismatch");
        }
    }

    @Test
    void version1SegmentsWithoutSealsStillRecoverWithoutDamage() throws IOException {
        Files.createDirectories(dir);
        List<String> written = new ArrayList<>();
        for (long id : new long[] {1, 2, 4}) { // v1 gaps (an old writer's failed creations) are not checked
            java.io.ByteArrayOutputStream file = new java.io.ByteArrayOutputStream();
            file.writeBytes(SegmentFormat.header(id, SegmentFormat.VERSION_1, -1).array());
            for (int i = 0; i < 3; i++) {
                String payload = record(written.size());
                file.writeBytes(RecoveryTableTest.record(payload.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
                written.add(payload);
            }
            Files.write(segment(id), file.toByteArray());
        }
        // The v1 writer of segment 4 is "crashed": its last record is torn.
        truncate(segment(4), Files.size(segment(4)) - 5);
        Replay replay = new Replay();
        try (Journal journal = Journal.open(config(), replay)) {
            assertThat(replay.strings()).containsExactlyElementsOf(written.subList(0, 8));
            assertThat(journal.recoveryReport().damage()).isEmpty();
            assertThat(journal.recoveryReport().tornTailBytesTruncated()).isEqualTo(30 - 5);
            assertThat(Completion.append(journal, "v2", true).segmentId()).isEqualTo(5);
        }
        assertThat(Files.size(segment(4))).as("a v1 segment is not sealed").isEqualTo(SegmentFormat.HEADER_BYTES + 60);
        Replay again = new Replay();
        try (Journal journal = Journal.open(config(), again)) {
            assertThat(again.strings()).hasSize(9).endsWith("v2");
            assertThat(journal.recoveryReport().damage()).isEmpty();
        }
        Files.delete(segment(4)); // the v2 segment 5 names 4 as its predecessor
        try (Journal journal = Journal.open(config(), new Replay())) {
            assertThat(journal.recoveryReport().damage()).singleElement().asString()
                    .startsWith("00000000000000000004.seg@0: missing");
        }
    }

    @Test
    void readingAtTheSealIsNoRecord() throws IOException {
        writeRecords(3);
        try (Journal journal = Journal.open(config(), new Replay())) {
            long sealAt = Files.size(segment(1)) - SegmentFormat.SEAL_BYTES;
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> journal.read(Journal.position(1, sealAt)))
                    .isExactlyInstanceOf(IOException.class).hasMessageContaining("seal");
        }
    }

    private static void truncate(Path file, long size) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
            channel.truncate(size);
        }
    }
}
