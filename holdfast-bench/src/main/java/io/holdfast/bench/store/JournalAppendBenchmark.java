package io.holdfast.bench.store;

import io.holdfast.store.AppendCallback;
import io.holdfast.store.FsyncPolicy;
import io.holdfast.store.Journal;
import io.holdfast.store.JournalConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The {@link Journal} alone (issue 3): appends per second and fsyncs per second of 1 KiB records when the
 * caller keeps {@code batchSize} appends in flight.
 *
 * <p><b>What one invocation is.</b> One thread appends {@code batchSize} records, then waits until all of
 * their callbacks have run; the next invocation starts only then. So at most {@code batchSize} records are
 * ever queued, and since the journal's batch is "whatever arrived during the previous fsync", it puts at
 * most that many records behind one fsync. It is usually fewer: the writer wakes on the first record and
 * forces it while the caller is still appending the rest, so one invocation costs one fsync or more. That
 * is why fsyncs are counted ({@link Journal#fsyncCount()}), not derived from invocations.
 *
 * <p><b>Reading the results.</b> {@code @OperationsPerInvocation} needs a compile-time constant and cannot
 * follow a {@code @Param}, so the scores are split:
 * <ul>
 *   <li>{@code appendBatch} (primary score): invocations per second, i.e. batches of {@code batchSize};
 *   <li>{@code appendBatch:appends}: records per second, the number issue 3 asks for;
 *   <li>{@code appendBatch:fsyncs}: record-data fsyncs per second (0 under {@link FsyncPolicy#NEVER}).
 * </ul>
 * Records per fsync = appends / fsyncs.
 *
 * <p><b>Set-up.</b> Each trial opens a fresh journal (64 MiB segments, the default) in a new temporary
 * directory under the system property {@code holdfast.bench.dir} (default {@code java.io.tmpdir}; it must
 * not be tmpfs, where fsync costs nothing) and deletes it after. Records are appended with
 * {@code live = false}, so the journal deletes each segment once it rolls and disk use stays near one
 * segment. The times include what a producer pays: the CRC on the appending thread, the queue hand-off,
 * the write, the fsync, the callback and the wake-up.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@State(Scope.Benchmark)
@Threads(1)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
@Warmup(iterations = 2, time = 3)
@Measurement(iterations = 3, time = 5)
public class JournalAppendBenchmark {
    /** Payload bytes per record; the record on disk adds an 8-byte header. */
    public static final int RECORD_BYTES = 1024;

    @Param({"1", "4", "16", "64", "128", "512"})
    public int batchSize;

    @Param({"ALWAYS", "NEVER"})
    public FsyncPolicy fsync;

    private final byte[] payload = new byte[RECORD_BYTES];
    private final BatchCompletion completion = new BatchCompletion();
    private Path dir;
    private Journal journal;
    private long fsyncsSeen;

    /** Per-iteration counts that JMH reports as rates next to the primary score. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Counters {
        /** Records appended and completed. */
        public long appends;
        /** Record-data fsyncs the journal completed. */
        public long fsyncs;

        @Setup(Level.Iteration)
        public void reset() {
            appends = 0;
            fsyncs = 0;
        }
    }

    @Setup(Level.Trial)
    public void open() throws IOException {
        new Random(42).nextBytes(payload);
        Path base = Path.of(System.getProperty("holdfast.bench.dir", System.getProperty("java.io.tmpdir")));
        Files.createDirectories(base);
        dir = Files.createTempDirectory(base, "holdfast-journal-bench-");
        journal = Journal.open(JournalConfig.defaults(dir).withFsync(fsync), (segmentId, record) -> {
            throw new IllegalStateException("a fresh directory has nothing to replay");
        });
        fsyncsSeen = journal.fsyncCount();
    }

    @TearDown(Level.Trial)
    public void close() throws IOException {
        try {
            if (journal != null) {
                journal.close();
            }
        } finally {
            journal = null;
            if (dir != null) {
                deleteRecursively(dir);
                dir = null;
            }
        }
    }

    /** Appends {@code batchSize} records and returns once every one of them is stored per the policy. */
    @Benchmark
    public void appendBatch(Counters counters) {
        completion.expect(batchSize);
        for (int i = 0; i < batchSize; i++) {
            journal.append(payload, false, completion);
        }
        completion.await();
        counters.appends += batchSize;
        // Nothing is in flight between invocations, so every fsync lands in the iteration that caused it.
        long fsyncsNow = journal.fsyncCount();
        counters.fsyncs += fsyncsNow - fsyncsSeen;
        fsyncsSeen = fsyncsNow;
    }

    static void deleteRecursively(Path root) throws IOException {
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path path : (Iterable<Path>) paths.sorted(Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(path);
            }
        }
    }

    /**
     * One reusable callback for all records of a batch: counts down on the writer thread and unparks the
     * benchmark thread at zero, so the measured loop allocates nothing of its own.
     */
    static final class BatchCompletion implements AppendCallback {
        private final AtomicInteger outstanding = new AtomicInteger();
        private volatile Thread waiter;
        private volatile Throwable failure;

        /** Call before the batch's first append (the append's lock publishes these writes to the writer). */
        void expect(int records) {
            waiter = Thread.currentThread();
            outstanding.set(records);
        }

        @Override
        public void completed(long segmentId, Throwable errorOrNull) {
            if (errorOrNull != null) {
                failure = errorOrNull;
            }
            if (outstanding.decrementAndGet() == 0) {
                LockSupport.unpark(waiter);
            }
        }

        void await() {
            while (outstanding.get() > 0) {
                LockSupport.park(this);
                if (Thread.interrupted()) {
                    throw new IllegalStateException("interrupted with " + outstanding.get() + " appends in flight");
                }
            }
            Throwable error = failure;
            if (error != null) {
                throw new IllegalStateException("an append failed; the measurement is void", error);
            }
        }
    }
}
