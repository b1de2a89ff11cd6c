package io.holdfast.bench.store;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.store.FsyncPolicy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Drives the benchmark's own methods for a few invocations (no JMH run): the counters add up and the
 * trial's directory is gone afterwards. Takes well under a second.
 */
class JournalAppendBenchmarkTest {
    @TempDir
    Path base;

    @Test
    void alwaysCountsEveryAppendAndAtLeastOneFsyncPerBatch() throws Exception {
        JournalAppendBenchmark.Counters counters = runBatches(FsyncPolicy.ALWAYS, 16, 5);
        assertThat(counters.appends).isEqualTo(80);
        assertThat(counters.fsyncs).isBetween(5L, 80L);
    }

    @Test
    void neverCountsNoFsyncs() throws Exception {
        JournalAppendBenchmark.Counters counters = runBatches(FsyncPolicy.NEVER, 4, 5);
        assertThat(counters.appends).isEqualTo(20);
        assertThat(counters.fsyncs).isZero();
    }

    private JournalAppendBenchmark.Counters runBatches(FsyncPolicy policy, int batchSize, int batches) throws Exception {
        System.setProperty("holdfast.bench.dir", base.toString());
        JournalAppendBenchmark bench = new JournalAppendBenchmark();
        bench.batchSize = batchSize;
        bench.fsync = policy;
        JournalAppendBenchmark.Counters counters = new JournalAppendBenchmark.Counters();
        bench.open();
        try {
            counters.reset();
            for (int i = 0; i < batches; i++) {
                bench.appendBatch(counters);
            }
        } finally {
            bench.close();
            System.clearProperty("holdfast.bench.dir");
        }
        try (Stream<Path> left = Files.list(base)) {
            assertThat(left).as("the trial's journal directory is deleted").isEmpty();
        }
        return counters;
    }
}
