package io.holdfast.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Contract 1 at the store's level: a simulated power cut (every operation fails from one instant on,
 * then each file keeps only what was forced plus a random prefix of the rest) loses no record whose
 * callback reported success, and recovery after it is clean: a torn tail, never damage. Seeded; the
 * seed is printed and {@code -Dholdfast.store.seed=N} replays it.
 */
class CrashTest {
    private static final int ROUNDS = 8;
    private static final int APPENDERS = 3;

    @TempDir
    Path dir;

    @Test
    void powerCutLosesNoConfirmedRecordAndRecoveryIsClean() throws Exception {
        long seed = Long.getLong("holdfast.store.seed", System.nanoTime());
        System.out.println("CrashTest seed " + seed + " (replay with -Dholdfast.store.seed=" + seed + ")");
        Random random = new Random(seed);
        Set<Long> confirmed = ConcurrentHashMap.newKeySet();
        long tornBytes = 0;
        for (int round = 0; round < ROUNDS; round++) {
            String context = "seed " + seed + " round " + round;
            FaultyStorage storage = new FaultyStorage(dir);
            JournalConfig config = JournalConfig.defaults(dir).withSegmentBytesMax(2_000 + random.nextInt(6_000));
            Replay replay = new Replay();
            Journal journal = Journal.open(config, replay, storage, Journal.PENDING_BYTES_MAX);
            RecoveryReport report = journal.recoveryReport();
            assertThat(report.degraded()).as(context + ": " + report.damage()).isFalse();
            tornBytes += report.tornTailBytesTruncated();
            List<Long> recovered = new ArrayList<>();
            long[] lastOfThread = new long[APPENDERS];
            for (byte[] payload : replay.payloads) {
                long key = checkPayload(payload, context);
                int thread = (int) (key >>> 32);
                assertThat(key & 0xFFFF_FFFFL).as(context + ": per-thread order").isGreaterThanOrEqualTo(lastOfThread[thread]);
                lastOfThread[thread] = (key & 0xFFFF_FFFFL) + 1;
                recovered.add(key);
            }
            assertThat(recovered).as(context + ": every confirmed record survives").containsAll(confirmed);

            confirmed.clear();
            confirmed.addAll(recovered); // on disk now, so it must survive the next cut too
            int target = confirmed.size() + 50 + random.nextInt(400);
            List<Thread> appenders = startAppenders(journal, confirmed, lastOfThread, random.nextLong());
            await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(1)).until(() -> confirmed.size() >= target);
            storage.crash();
            try {
                journal.close();
            } catch (IOException expected) {
                // the final fsync fails: the power is out
            }
            for (Thread appender : appenders) {
                appender.join();
            }
            storage.loseUnforcedBytes(random);
        }
        System.out.printf("CrashTest: %d power cuts, %d torn tail bytes cut, %d records confirmed in the end%n",
                ROUNDS, tornBytes, confirmed.size());
        try (Journal journal = Journal.open(JournalConfig.defaults(dir), new Replay())) {
            assertThat(journal.recoveryReport().recordsRecovered()).isGreaterThanOrEqualTo(confirmed.size());
        }
    }

    /** Each appender publishes with a window of 8 unconfirmed records, like a publisher with confirms. */
    private static List<Thread> startAppenders(Journal journal, Set<Long> confirmed, long[] firstIndex, long seed) {
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < APPENDERS; t++) {
            long thread = t;
            long first = firstIndex[t];
            Thread appender = new Thread(() -> {
                Random random = new Random(seed + thread);
                CountDownLatch window = new CountDownLatch(0);
                for (long i = first; ; i++) {
                    long key = thread << 32 | i;
                    byte[] payload = payload(key, random);
                    if (i % 8 == 0) {
                        awaitQuietly(window);
                        window = new CountDownLatch(8);
                    }
                    CountDownLatch mine = window;
                    try {
                        journal.append(payload, true, (segment, error) -> {
                            if (error == null) {
                                confirmed.add(key);
                            }
                            mine.countDown();
                        });
                    } catch (IllegalStateException closed) {
                        return;
                    }
                }
            }, "appender-" + t);
            appender.start();
            threads.add(appender);
        }
        return threads;
    }

    /** Key, then bytes derived from the key, so any recovered record can be checked byte for byte. */
    private static byte[] payload(long key, Random random) {
        int length = 8 + random.nextInt(300);
        ByteBuffer payload = ByteBuffer.allocate(length).putLong(key);
        Random content = new Random(key);
        while (payload.hasRemaining()) {
            payload.put((byte) content.nextInt());
        }
        return payload.array();
    }

    private static long checkPayload(byte[] payload, String context) {
        assertThat(payload.length).as(context).isGreaterThanOrEqualTo(8);
        long key = ByteBuffer.wrap(payload).getLong();
        byte[] expected = payload.clone();
        Random content = new Random(key);
        for (int i = 8; i < expected.length; i++) {
            expected[i] = (byte) content.nextInt();
        }
        assertThat(payload).as(context + ": byte-identical to what was appended").isEqualTo(expected);
        return key;
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
