package io.holdfast.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link Journal#inspect}: the same findings as recovery, with nothing on disk changed; what recovery would
 * repair is listed instead of done.
 */
class InspectTest {
    @TempDir
    Path dir;

    /** Three 30-byte records per segment. */
    private JournalConfig config() {
        return JournalConfig.defaults(dir).withSegmentBytesMax(110);
    }

    private List<String> writeRecords(int count) throws IOException {
        List<String> written = new ArrayList<>();
        try (Journal journal = Journal.open(config(), new Replay())) {
            for (int i = 0; i < count; i++) {
                String record = String.format("record-%015d", i);
                Completion.append(journal, record, true).segmentId();
                written.add(record);
            }
        }
        return written;
    }

    private Path segment(long id) {
        return dir.resolve(SegmentFormat.fileName(id));
    }

    /** File name to SHA-256 of its bytes: what must not change. */
    private Map<String, String> digests() throws IOException {
        Map<String, String> out = new TreeMap<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.toList()) {
                try {
                    out.put(f.getFileName().toString(),
                            HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(f))));
                } catch (NoSuchAlgorithmException e) {
                    throw new AssertionError(e);
                }
            }
        }
        return out;
    }

    @Test
    void cleanJournalIsReadWholeAndNeedsNoRepair() throws IOException {
        List<String> written = writeRecords(8);
        Replay replay = new Replay();
        List<String> scanned = new ArrayList<>();
        Journal.Inspection found = Journal.inspect(dir, replay, (name, bytes) -> scanned.add(name));
        assertThat(replay.strings()).containsExactlyElementsOf(written);
        assertThat(found.report().degraded()).isFalse();
        assertThat(found.report().tornTailBytesTruncated()).isZero();
        assertThat(found.repairs()).isEmpty();
        assertThat(scanned).containsExactly(SegmentFormat.fileName(1), SegmentFormat.fileName(2),
                SegmentFormat.fileName(3));
    }

    @Test
    void tornTailIsReportedAsARepairAndLeftOnDisk() throws IOException {
        List<String> written = writeRecords(8);
        Files.write(segment(3), new byte[] {1, 2, 3, 4, 5}, StandardOpenOption.APPEND);
        Map<String, String> before = digests();
        Replay replay = new Replay();
        Journal.Inspection found = Journal.inspect(dir, replay, (name, bytes) -> { });
        assertThat(digests()).as("inspect changes nothing").isEqualTo(before);
        assertThat(replay.strings()).containsExactlyElementsOf(written);
        assertThat(found.report().tornTailBytesTruncated()).isPositive();
        assertThat(found.report().degraded()).isFalse();
        assertThat(found.repairs()).anySatisfy(r -> assertThat(r).startsWith("cut the torn tail of "
                + SegmentFormat.fileName(3)));
        // open then does what inspect said it would, and finds the same
        try (Journal journal = Journal.open(config(), new Replay())) {
            assertThat(journal.recoveryReport().tornTailBytesTruncated())
                    .isEqualTo(found.report().tornTailBytesTruncated());
        }
    }

    @Test
    void corruptRecordIsDamageWithFileAndOffsetAndTheFileIsUntouched() throws IOException {
        List<String> written = writeRecords(9);
        flipByte(segment(2), SegmentFormat.HEADER_BYTES + 12);
        Map<String, String> before = digests();
        Replay replay = new Replay();
        Journal.Inspection found = Journal.inspect(dir, replay, (name, bytes) -> { });
        assertThat(digests()).isEqualTo(before);
        assertThat(found.report().degraded()).isTrue();
        assertThat(found.report().damage()).singleElement().asString()
                .startsWith(SegmentFormat.fileName(2) + "@" + SegmentFormat.HEADER_BYTES + ":");
        assertThat(replay.strings()).doesNotContain(written.get(3)).contains(written.get(4), written.get(8));
    }

    @Test
    void missingDirectoryIsAnErrorNotAnEmptyJournal() {
        assertThatThrownBy(() -> Journal.inspect(dir.resolve("absent"), new Replay(), (n, b) -> { }))
                .isInstanceOf(NoSuchFileException.class);
        assertThat(dir.resolve("absent")).doesNotExist();
    }

    private static void flipByte(Path file, long offset) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(1);
            ch.read(b, offset);
            b.put(0, (byte) (b.get(0) ^ 0x40));
            ch.write(b.flip(), offset);
        }
    }
}
