package io.holdfast.cluster;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(120)
class BatchingTest {
    private static final int THREADS = 4;
    private static final int PER_THREAD = 1000;

    @TempDir
    Path dir;

    @Test
    void commandsFromSeveralThreadsApplyInOneOrderOnEveryReplicaInFewEntries() throws Exception {
        try (ThreeNodes cluster = new ThreeNodes(dir, c -> c)) {
            cluster.awaitLeader();
            long indexBefore = cluster.status(0).appliedIndex();
            List<List<CompletableFuture<byte[]>>> results = new ArrayList<>();
            CountDownLatch go = new CountDownLatch(1);
            List<Thread> threads = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                List<CompletableFuture<byte[]>> mine = new ArrayList<>();
                results.add(mine);
                CommandSubmitter submitter = cluster.submitter(t % 2); // two nodes' submitters, two threads each
                int thread = t;
                Thread th = new Thread(() -> {
                    try {
                        go.await();
                    } catch (InterruptedException e) {
                        return;
                    }
                    for (int i = 0; i < PER_THREAD; i++) {
                        mine.add(submitter.submit(("t" + thread + "-" + i).getBytes(UTF_8)));
                    }
                });
                th.start();
                threads.add(th);
            }
            go.countDown();
            for (Thread th : threads) {
                th.join();
            }
            CompletableFuture.allOf(results.stream().flatMap(List::stream).toArray(CompletableFuture[]::new)).join();

            int total = THREADS * PER_THREAD;
            cluster.awaitSameState(0, total);
            List<String> applied = cluster.state(0).commands();
            assertThat(applied).hasSize(total).doesNotHaveDuplicates();
            for (int t = 0; t < THREADS; t++) {
                // each command's result is its position, and one thread's commands keep their order
                long previous = -1;
                for (int i = 0; i < PER_THREAD; i++) {
                    long position = CommandLog.position(results.get(t).get(i).join());
                    assertThat(applied.get((int) position)).isEqualTo("t" + t + "-" + i);
                    assertThat(position).isGreaterThan(previous);
                    previous = position;
                }
            }
            long entries = cluster.submitter(0).entriesSent() + cluster.submitter(1).entriesSent();
            long logEntries = cluster.status(0).appliedIndex() - indexBefore;
            assertThat(entries).isLessThan(total / 10);
            assertThat(logEntries).isLessThan(total / 10); // the batches, plus Ratis's own leader-start entry
        }
    }

    @Test
    void groupsHostedTogetherKeepTheirOwnCommands() throws Exception {
        try (ThreeNodes cluster = new ThreeNodes(dir, c -> c)) {
            ReplicaGroup other = new ReplicaGroup("vhost/other", cluster.group.peers());
            List<CommandLog> others = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                CommandLog state = new CommandLog();
                others.add(state);
                cluster.node(i).host(other, state); // added to running nodes, beside the first group
            }
            cluster.awaitLeader();
            CompletableFuture<byte[]> first = cluster.submitter(0).submit("to-first".getBytes(UTF_8));
            CompletableFuture<byte[]> second = cluster.node(1).submitter(other).submit("to-other".getBytes(UTF_8));
            CompletableFuture.allOf(first, second).get(30, TimeUnit.SECONDS);

            cluster.awaitSameState(0, 1);
            assertThat(cluster.state(2).commands()).containsExactly("to-first");
            await().atMost(Duration.ofSeconds(30))
                    .until(() -> others.stream().allMatch(s -> s.commands().equals(List.of("to-other"))));
        }
    }

    @Test
    void aRefusedCommandFailsAloneAndChangesNoReplica() throws Exception {
        try (ThreeNodes cluster = new ThreeNodes(dir, c -> c)) {
            cluster.awaitLeader();
            CommandSubmitter submitter = cluster.submitter(0);
            CompletableFuture<byte[]> before = submitter.submit("a".getBytes(UTF_8));
            CompletableFuture<byte[]> refused = submitter.submit(CommandLog.REJECT.getBytes(UTF_8));
            CompletableFuture<byte[]> after = submitter.submit("b".getBytes(UTF_8));

            assertThat(CommandLog.position(before.join())).isZero();
            assertThat(CommandLog.position(after.join())).isEqualTo(1);
            assertThat(refused).failsWithin(Duration.ZERO).withThrowableThat()
                    .havingCause().isInstanceOf(CommandRejectedException.class).withMessageContaining("refused");
            cluster.awaitSameState(0, 2);
            assertThat(cluster.state(1).commands()).containsExactly("a", "b");
        }
    }
}
