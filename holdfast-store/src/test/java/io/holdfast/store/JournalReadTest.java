package io.holdfast.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link Journal#read} by the positions that callbacks and replay hand out, and the position helpers. */
class JournalReadTest {
    @TempDir
    Path dir;

    private JournalConfig smallSegments() {
        return JournalConfig.defaults(dir).withSegmentBytesMax(256);
    }

    private Journal open(JournalConfig config, RecordVisitor replay, FaultyStorage storage) throws IOException {
        return Journal.open(config, replay, storage, Journal.PENDING_BYTES_MAX);
    }

    /** Bytes derived from {@code i}, so any reader can check a record without shared state. */
    private static byte[] payload(int i, int maxLength) {
        Random random = new Random(i);
        byte[] payload = new byte[i % 17 == 0 ? 0 : random.nextInt(maxLength + 1)];
        random.nextBytes(payload);
        return payload;
    }

    private Path file(long position) {
        return dir.resolve(SegmentFormat.fileName(Journal.segmentOf(position)));
    }

    @Test
    void recordsReadBackByTheirPositionAcrossSegmentsAndAfterReopen() throws IOException {
        JournalConfig config = smallSegments();
        int count = 150;
        List<byte[]> written = new ArrayList<>();
        List<Completion> completions = new ArrayList<>();
        FaultyStorage storage = new FaultyStorage(dir);
        try (Journal journal = open(config, new Replay(), storage)) {
            for (int i = 0; i < count; i++) {
                byte[] payload = payload(i, 120);
                if (i == count - 1) {
                    payload = new byte[config.payloadBytesMax()]; // the largest record fills a segment alone
                    new Random(i).nextBytes(payload);
                }
                written.add(payload);
                Completion completion = new Completion();
                journal.append(payload, true, completion);
                completions.add(completion);
            }
            List<Long> positions = completions.stream().map(Completion::position).toList();
            assertThat(journal.segmentCount()).isGreaterThan(10);
            assertThat(positions).isSorted().doesNotHaveDuplicates();
            assertThat(positions).extracting(Journal::offsetOf)
                    .allMatch(offset -> offset >= SegmentFormat.HEADER_BYTES);
            for (int i = 0; i < count; i++) {
                assertThat(journal.read(positions.get(i))).as("record %d", i).isEqualTo(written.get(i));
            }
            assertThat(journal.read(positions.get(3))).as("a second read").isEqualTo(written.get(3))
                    .isNotSameAs(journal.read(positions.get(3)));
            assertThat(storage.readerReads.get()).as("at most a header and a payload read per record")
                    .isLessThanOrEqualTo(2 * (count + 3));
            assertThat(storage.readersOpened.get()).as("one cached handle per segment")
                    .isEqualTo(journal.segmentCount());
        }
        assertThat(storage.readersOpen.get()).as("close closes the read handles").isZero();

        Replay replay = new Replay();
        FaultyStorage reopened = new FaultyStorage(dir);
        try (Journal journal = open(config, replay, reopened)) {
            List<Long> confirmed = completions.stream().map(Completion::position).toList();
            assertThat(replay.positions).as("replay names records as the callbacks did")
                    .containsExactlyElementsOf(confirmed);
            for (int i = 0; i < count; i++) {
                assertThat(journal.read(replay.positions.get(i))).as("record %d after reopen", i)
                        .isEqualTo(written.get(i)).isEqualTo(replay.payloads.get(i));
            }
            assertThat(reopened.readerReads.get()).isLessThanOrEqualTo(2 * count);
        }
        assertThat(reopened.readersOpen.get()).isZero();
    }

    @Test
    void aRecordDamagedOnDiskFailsItsReadWithCorruptRecordExceptionNamingFileAndOffset() throws IOException {
        try (Journal journal = Journal.open(JournalConfig.defaults(dir), new Replay())) {
            List<Long> positions = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                positions.add(Completion.append(journal, "record number " + i, true).position());
            }
            assertThat(journal.read(positions.get(1))).asString(StandardCharsets.UTF_8).isEqualTo("record number 1");
            String fileName = SegmentFormat.fileName(Journal.segmentOf(positions.get(1)));

            flip(positions.get(1), SegmentFormat.RECORD_HEADER_BYTES + 3); // a payload byte
            flip(positions.get(2), 5); // a CRC byte
            flip(positions.get(3), 0); // the length's high byte: 2^31 and more
            flip(positions.get(4), 3); // the length's low byte: still fits, but the CRC covers it
            for (int i = 1; i <= 4; i++) {
                long position = positions.get(i);
                Throwable thrown = catchThrowable(() -> journal.read(position));
                assertThat(thrown).as("record %d", i).isInstanceOf(CorruptRecordException.class)
                        .hasMessageContaining(fileName + "@" + Journal.offsetOf(position));
                CorruptRecordException corrupt = (CorruptRecordException) thrown;
                assertThat(corrupt.fileName()).isEqualTo(fileName);
                assertThat(corrupt.offset()).isEqualTo(Journal.offsetOf(position));
            }
            assertThatThrownBy(() -> journal.read(positions.get(1))).hasMessageContaining("CRC mismatch");
            assertThatThrownBy(() -> journal.read(positions.get(3))).hasMessageContaining("length");
            assertThat(journal.read(positions.get(0))).asString(StandardCharsets.UTF_8).isEqualTo("record number 0");
            assertThat(journal.read(positions.get(5))).asString(StandardCharsets.UTF_8).isEqualTo("record number 5");

            // The file cut under the journal, inside the last record.
            try (FileChannel channel = FileChannel.open(file(positions.get(5)), StandardOpenOption.WRITE)) {
                channel.truncate(Journal.offsetOf(positions.get(5)) + SegmentFormat.RECORD_HEADER_BYTES + 2);
            }
            assertThatThrownBy(() -> journal.read(positions.get(5))).isInstanceOf(CorruptRecordException.class)
                    .hasMessageContaining(fileName + "@" + Journal.offsetOf(positions.get(5)))
                    .hasMessageContaining("ends inside the payload");
        }
    }

    private void flip(long position, int byteOfRecord) throws IOException {
        try (FileChannel channel = FileChannel.open(file(position), StandardOpenOption.READ,
                StandardOpenOption.WRITE)) {
            long at = Journal.offsetOf(position) + byteOfRecord;
            ByteBuffer b = ByteBuffer.allocate(1);
            channel.read(b, at);
            b.put(0, (byte) (b.get(0) ^ 0x80)).rewind();
            channel.write(b, at);
        }
    }

    @Test
    void readsOutsideTheJournalFailWithAnIOException() throws IOException {
        // Three 30-byte records fill a 110-byte segment.
        JournalConfig config = JournalConfig.defaults(dir).withSegmentBytesMax(110);
        FaultyStorage storage = new FaultyStorage(dir);
        Journal journal = open(config, new Replay(), storage);
        List<Long> positions = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            positions.add(Completion.append(journal, String.format("record-%015d", i), true).position());
        }
        long first = positions.get(0);
        long last = positions.get(3);
        assertThat(Journal.segmentOf(last)).isEqualTo(Journal.segmentOf(first) + 1);
        assertThat(journal.read(first)).asString(StandardCharsets.UTF_8).isEqualTo("record-000000000000000");
        assertThat(journal.read(last)).asString(StandardCharsets.UTF_8).isEqualTo("record-000000000000003");

        long pastTheEnd = Journal.position(Journal.segmentOf(last), Journal.offsetOf(last) + 30);
        long farPastTheEnd = Journal.position(Journal.segmentOf(last), 1_000_000);
        long inTheHeader = Journal.position(Journal.segmentOf(last), 0);
        long unknownSegment = Journal.position(99, SegmentFormat.HEADER_BYTES);
        for (long position : List.of(pastTheEnd, farPastTheEnd, inTheHeader, unknownSegment, -1L)) {
            assertThatThrownBy(() -> journal.read(position)).as("position %x", position)
                    .isInstanceOf(IOException.class).isNotInstanceOf(CorruptRecordException.class)
                    .hasMessageContaining("no record at");
        }
        assertThat(storage.readersOpen.get()).isEqualTo(2);

        for (int i = 0; i < 3; i++) {
            journal.settle(positions.get(i));
        }
        await().until(() -> journal.segmentCount() == 1);
        assertThatThrownBy(() -> journal.read(first)).isInstanceOf(IOException.class)
                .hasMessageContaining("not in the journal");
        assertThat(storage.readersOpen.get()).as("deleting a segment closes its read handle").isEqualTo(1);
        assertThat(journal.read(last)).asString(StandardCharsets.UTF_8).isEqualTo("record-000000000000003");

        journal.close();
        assertThat(storage.readersOpen.get()).isZero();
        assertThatThrownBy(() -> journal.read(last)).isInstanceOf(IOException.class).hasMessageContaining("closed");
    }

    @Test
    void readsConcurrentWithAppendsSeeEveryCompletedRecord() throws Exception {
        // NEVER: records are read back before anything forces them; small segments roll while reads go on.
        JournalConfig config = JournalConfig.defaults(dir).withSegmentBytesMax(4096).withFsync(FsyncPolicy.NEVER);
        int count = 20_000;
        int readers = 2;
        BlockingQueue<long[]> completed = new LinkedBlockingQueue<>(); // {index, position}
        ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
        FaultyStorage storage = new FaultyStorage(dir);
        try (Journal journal = open(config, new Replay(), storage)) {
            Thread appender = new Thread(() -> {
                for (int i = 0; i < count; i++) {
                    int index = i;
                    // live: a segment of only settled records may be deleted as soon as it is not active
                    journal.append(payload(i, 300), true, (position, error) -> {
                        if (error != null) {
                            failures.add("append " + index + " failed: " + error);
                        }
                        completed.add(new long[] {index, position});
                    });
                }
            }, "appender");
            List<Thread> threads = new ArrayList<>();
            Set<Long> segmentsRead = ConcurrentHashMap.newKeySet();
            for (int r = 0; r < readers; r++) {
                threads.add(new Thread(() -> {
                    try {
                        while (true) {
                            long[] record = completed.poll(20, TimeUnit.SECONDS);
                            if (record == null) {
                                failures.add("timed out waiting for a completion");
                                return;
                            }
                            if (record[0] < 0) {
                                return;
                            }
                            byte[] read = journal.read(record[1]);
                            segmentsRead.add(Journal.segmentOf(record[1]));
                            if (!Arrays.equals(read, payload((int) record[0], 300))) {
                                failures.add("record " + record[0] + " at " + record[1] + " read back different bytes");
                            }
                        }
                    } catch (IOException | InterruptedException | RuntimeException e) {
                        failures.add("reader failed: " + e);
                    }
                }, "reader-" + r));
            }
            threads.forEach(Thread::start);
            appender.start();
            appender.join();
            Completion.append(journal, "last", false).position(); // every earlier callback has run
            for (int r = 0; r < readers; r++) {
                completed.add(new long[] {-1, -1});
            }
            for (Thread thread : threads) {
                thread.join(TimeUnit.SECONDS.toMillis(60));
                assertThat(thread.isAlive()).isFalse();
            }
            assertThat(failures).isEmpty();
            assertThat(segmentsRead).hasSizeGreaterThan(100);
        }
        assertThat(storage.readersOpen.get()).isZero();
    }

    @Test
    void anInterruptedReaderDoesNotBreakReadsForOtherThreads() throws Exception {
        FaultyStorage storage = new FaultyStorage(dir);
        try (Journal journal = open(JournalConfig.defaults(dir), new Replay(), storage)) {
            long position = Completion.append(journal, "shared", true).position();
            assertThat(journal.read(position)).asString(StandardCharsets.UTF_8).isEqualTo("shared");
            AtomicReference<Throwable> interruptedRead = new AtomicReference<>();
            Thread interrupted = new Thread(() -> {
                Thread.currentThread().interrupt();
                interruptedRead.set(catchThrowable(() -> journal.read(position)));
            });
            interrupted.start();
            interrupted.join();
            // FileChannel closes itself for every thread when a thread blocked in it is interrupted.
            assertThat(interruptedRead.get()).isInstanceOf(ClosedByInterruptException.class);
            assertThat(journal.read(position)).asString(StandardCharsets.UTF_8).isEqualTo("shared");
            assertThat(storage.readersOpened.get()).as("the closed handle was replaced").isEqualTo(2);
            assertThat(storage.readersOpen.get()).isEqualTo(1);
        }
        assertThat(storage.readersOpen.get()).isZero();
    }

    @Test
    void positionHelpersRoundTripAndRejectOutOfRangeValues() {
        long segmentMax = (1L << 31) - 1;
        long offsetMax = (1L << 32) - 1;
        long[][] cases = {{0, 0}, {1, SegmentFormat.HEADER_BYTES}, {7, 123_456}, {segmentMax, offsetMax},
            {segmentMax, 0}, {0, offsetMax}, {1, JournalConfig.SEGMENT_BYTES_LIMIT}};
        for (long[] c : cases) {
            long position = Journal.position(c[0], c[1]);
            assertThat(position).as("position(%d, %d)", c[0], c[1]).isNotNegative();
            assertThat(Journal.segmentOf(position)).isEqualTo(c[0]);
            assertThat(Journal.offsetOf(position)).isEqualTo(c[1]);
        }
        assertThat(Journal.position(3, 20)).isEqualTo(3L << 32 | 20);
        Random random = new Random(11);
        Set<Long> seen = new HashSet<>();
        for (int i = 0; i < 10_000; i++) {
            long segment = random.nextLong() & segmentMax;
            long offset = random.nextLong() & offsetMax;
            long position = Journal.position(segment, offset);
            assertThat(Journal.segmentOf(position)).isEqualTo(segment);
            assertThat(Journal.offsetOf(position)).isEqualTo(offset);
            seen.add(position);
        }
        assertThat(seen).hasSizeGreaterThan(9_990);
        assertThatThrownBy(() -> Journal.position(-1, 0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("segment id");
        assertThatThrownBy(() -> Journal.position(segmentMax + 1, 0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Journal.position(Long.MAX_VALUE, 0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Journal.position(0, -1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("offset");
        assertThatThrownBy(() -> Journal.position(0, offsetMax + 1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Journal.position(1, Long.MIN_VALUE)).isInstanceOf(IllegalArgumentException.class);
    }
}
