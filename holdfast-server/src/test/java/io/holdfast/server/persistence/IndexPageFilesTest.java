package io.holdfast.server.persistence;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.core.QueueEntry;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The index page files: what is written reads back equal, damage reads back as null, freed files go. */
class IndexPageFilesTest {
    @TempDir
    Path dataDir;

    private static List<QueueEntry> entries(long firstSeq, int n) {
        List<QueueEntry> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            long seq = firstSeq + i;
            out.add(QueueEntry.pagedOut(seq, 100 + i, i % 2 == 0, i % 5, 1_000_000 + seq,
                    i % 3 == 0 ? QueueEntry.NEVER : 2_000_000 + seq, seq * 4096, i % 256));
        }
        return out;
    }

    private static String describe(QueueEntry e) {
        return e.seq() + "/" + e.storeRef + "/" + e.sizeBytes() + "/" + e.redelivered() + "/" + e.deliveryCount() + "/"
                + e.enqueuedAtMillis() + "/" + e.expiresAtMillis() + "/" + e.priority() + "/" + e.persistent() + "/"
                + (e.residentMessage() == null);
    }

    private long files() throws Exception {
        try (Stream<Path> s = Files.list(dataDir.resolve(IndexPageFiles.DIRECTORY))) {
            return s.count();
        }
    }

    @Test
    void aPageReadsBackAsTheEntriesWrittenNewObjectsEveryTime() {
        IndexPageFiles files = openFiles(1 << 20);
        List<QueueEntry> a = entries(1, 300);
        List<QueueEntry> b = entries(1000, 7);
        long pa = files.write(a);
        long pb = files.write(b);

        assertThat(files.read(pa)).extracting(IndexPageFilesTest::describe)
                .containsExactlyElementsOf(a.stream().map(IndexPageFilesTest::describe).toList());
        assertThat(files.read(pb)).extracting(IndexPageFilesTest::describe)
                .containsExactlyElementsOf(b.stream().map(IndexPageFilesTest::describe).toList());
        assertThat(files.read(pa).get(0)).isNotSameAs(a.get(0));
        assertThat(files.readFailures()).isZero();
    }

    @Test
    void aDamagedPageReadsBackAsNullAndIsCounted() throws Exception {
        IndexPageFiles files = openFiles(1 << 20);
        long page = files.write(entries(1, 50));
        long other = files.write(entries(100, 50));
        Path file;
        try (Stream<Path> s = Files.list(dataDir.resolve(IndexPageFiles.DIRECTORY))) {
            file = s.findFirst().orElseThrow();
        }
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            long at = IndexPageFiles.FILE_HEADER_BYTES + IndexPageFiles.PAGE_HEADER_BYTES + 10 * IndexPageFiles.ENTRY_BYTES;
            raf.seek(at);
            int v = raf.read();
            raf.seek(at);
            raf.write(v ^ 0x40);
        }

        assertThat(files.read(page)).isNull();
        assertThat(files.readFailures()).isEqualTo(1);
        assertThat(files.read(other)).hasSize(50);
    }

    @Test
    void aFileGoesOnceEveryPageInItIsFreedAndItIsNoLongerAppendedTo() throws Exception {
        int pageBytes = IndexPageFiles.PAGE_HEADER_BYTES + 100 * IndexPageFiles.ENTRY_BYTES;
        IndexPageFiles files = openFiles(IndexPageFiles.FILE_HEADER_BYTES + 2L * pageBytes); // two pages a file
        long p1 = files.write(entries(1, 100));
        long p2 = files.write(entries(101, 100));
        long p3 = files.write(entries(201, 100)); // a second file
        assertThat(files()).isEqualTo(2);

        files.free(p1);
        assertThat(files()).isEqualTo(2);
        files.free(p2);
        assertThat(files()).isEqualTo(1);
        files.free(p3); // the active file stays, empty, until the next one is started
        assertThat(files()).isEqualTo(1);
        long p4 = files.write(entries(301, 100)); // fills it
        assertThat(files.read(p4)).hasSize(100);
        files.free(p4);
        long p5 = files.write(entries(401, 100)); // rolls: the file, empty now, goes
        assertThat(files()).isEqualTo(1);
        assertThat(files.read(p5)).hasSize(100);
    }

    @Test
    void openingDeletesWhatAPreviousRunLeft() throws Exception {
        IndexPageFiles first = openFiles(1 << 20);
        first.write(entries(1, 10));
        assertThat(files()).isEqualTo(1);

        openFiles(1 << 20);

        assertThat(files()).isZero();
    }

    private IndexPageFiles openFiles(long fileBytesMax) {
        try {
            return IndexPageFiles.open(dataDir, fileBytesMax);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
