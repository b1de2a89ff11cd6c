package io.holdfast.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GroupCommitTest {
    @TempDir
    Path dir;

    private Journal open(FaultyStorage storage, FsyncPolicy policy, long intervalMillis) throws IOException {
        JournalConfig config = new JournalConfig(dir, 1 << 20, policy, intervalMillis);
        return Journal.open(config, new Replay(), storage, Journal.PENDING_BYTES_MAX);
    }

    @Test
    void callbackRunsOnlyAfterTheBatchIsForced() throws IOException {
        FaultyStorage storage = new FaultyStorage(dir);
        try (Journal journal = open(storage, FsyncPolicy.ALWAYS, 200)) {
            Completion.append(journal, "creates the segment", true).segmentId();
            int forcedBefore = storage.forces.get();
            storage.closeGate();
            Completion held = Completion.append(journal, "held", true);
            await().until(() -> storage.forcesEntered.get() > forcedBefore);
            // The writer is inside fsync for this record's batch: its callback must not have run yet.
            assertThat(held.isDone()).isFalse();
            assertThat(storage.forces.get()).isEqualTo(forcedBefore);
            storage.openGate();
            held.segmentId();
            assertThat(storage.forces.get()).isEqualTo(forcedBefore + 1);
        }
    }

    @Test
    void concurrentAppendersShareFsyncs() throws Exception {
        FaultyStorage storage = new FaultyStorage(dir);
        storage.forceLatency(2000); // a 2 ms disk, so batching does not depend on this machine's fsync speed
        int threads = 8;
        int perThread = 250;
        int records = threads * perThread;
        CountDownLatch done = new CountDownLatch(records);
        AtomicInteger failures = new AtomicInteger();
        long started;
        try (Journal journal = open(storage, FsyncPolicy.ALWAYS, 200)) {
            List<Thread> appenders = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                appenders.add(new Thread(() -> {
                    for (int i = 0; i < perThread; i++) {
                        // Each thread waits for its own confirm now and then, as a publisher with a window would.
                        CountDownLatch mine = new CountDownLatch(i % 10 == 9 ? 1 : 0);
                        journal.append(new byte[100], true, (segment, error) -> {
                            if (error != null) {
                                failures.incrementAndGet();
                            }
                            mine.countDown();
                            done.countDown();
                        });
                        awaitQuietly(mine);
                    }
                }));
            }
            started = System.nanoTime();
            appenders.forEach(Thread::start);
            done.await();
        }
        double seconds = (System.nanoTime() - started) / 1e9;
        int forces = storage.forces.get();
        System.out.printf("group commit: %d records, %d fsyncs (%.1f records per fsync), %.0f appends/s "
                + "with a 2 ms fsync%n", records, forces, (double) records / forces, records / seconds);
        assertThat(failures).hasValue(0);
        assertThat(forces).isLessThan(records / 4);
    }

    @Test
    void intervalPolicyConfirmsAfterTheWriteWithoutWaitingForFsync() throws IOException {
        FaultyStorage storage = new FaultyStorage(dir);
        try (Journal journal = open(storage, FsyncPolicy.INTERVAL, 60_000)) {
            Completion.append(journal, "creates the segment", true).segmentId();
            int forcesBefore = storage.forces.get();
            storage.closeGate();
            for (int i = 0; i < 10; i++) {
                Completion.append(journal, "r" + i, true).segmentId(); // would hang if it waited for fsync
            }
            assertThat(storage.forcesEntered.get()).isEqualTo(forcesBefore);
            storage.openGate();
        }
        assertThat(storage.forces.get()).as("close forces").isGreaterThan(0);
    }

    @Test
    void intervalPolicyForcesWithinTheIntervalEvenWhenIdle() throws IOException {
        FaultyStorage storage = new FaultyStorage(dir);
        try (Journal journal = open(storage, FsyncPolicy.INTERVAL, 50)) {
            Completion.append(journal, "first", true).segmentId();
            await().atMost(Duration.ofSeconds(5)).until(() -> storage.forcesByFile.getOrDefault(
                    SegmentFormat.fileName(1), new AtomicInteger()).get() >= 2); // header, then the interval fsync
            int settled = storage.forces.get();
            Completion.append(journal, "second", true).segmentId();
            await().atMost(Duration.ofSeconds(5)).until(() -> storage.forces.get() > settled);
        }
    }

    @Test
    void neverPolicyForcesOnlyOnClose() throws IOException {
        FaultyStorage storage = new FaultyStorage(dir);
        try (Journal journal = open(storage, FsyncPolicy.NEVER, 200)) {
            for (int i = 0; i < 50; i++) {
                Completion.append(journal, "r" + i, true).segmentId();
            }
            assertThat(storage.forces.get()).isZero();
            assertThat(storage.directorySyncs.get()).isZero();
        }
        assertThat(storage.forces.get()).isEqualTo(1);
    }

    @Test
    void appendBlocksWhileTheQueueIsFullAndResumesWhenTheWriterCatchesUp() throws Exception {
        FaultyStorage storage = new FaultyStorage(dir);
        JournalConfig config = new JournalConfig(dir, 1 << 20, FsyncPolicy.ALWAYS, 200);
        try (Journal journal = Journal.open(config, new Replay(), storage, 1000)) {
            Completion.append(journal, "creates the segment", true).segmentId();
            storage.closeGate();
            int entered = storage.forcesEntered.get();
            journal.append(new byte[400], true, new Completion());
            await().until(() -> storage.forcesEntered.get() > entered); // writer holds 408 bytes in fsync
            AtomicInteger returned = new AtomicInteger();
            Thread appender = new Thread(() -> {
                for (int i = 0; i < 3; i++) {
                    journal.append(new byte[400], true, new Completion());
                    returned.incrementAndGet();
                }
            });
            appender.start();
            await().until(() -> returned.get() == 1 && appender.getState() == Thread.State.WAITING);
            assertThat(journal.queuedBytes()).isEqualTo(816);
            storage.openGate();
            appender.join(10_000);
            assertThat(returned).hasValue(3);
        }
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
