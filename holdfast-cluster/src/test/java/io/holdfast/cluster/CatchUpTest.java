package io.holdfast.cluster;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(120)
class CatchUpTest {
    @TempDir
    Path dir;

    @Test
    void aStoppedFollowerCatchesUpWhenRestarted() throws Exception {
        try (ThreeNodes cluster = new ThreeNodes(dir, c -> c)) {
            int leader = cluster.awaitLeader();
            int follower = cluster.aFollower(leader);
            submitInWaves(cluster.submitter(leader), "before", 5, 20);
            cluster.awaitSameState(leader, 100);

            cluster.stop(follower);
            submitInWaves(cluster.submitter(leader), "while-down", 10, 20);
            cluster.start(follower);

            cluster.awaitSameState(leader, 300);
            assertThat(cluster.state(follower).commands()).hasSize(300).doesNotHaveDuplicates();
            // it resumes from its own snapshot (taken when it stopped) or log, then takes the rest from the leader
            assertThat(cluster.status(follower).appliedCommands()).isGreaterThanOrEqualTo(200);
        }
    }

    @Test
    void aFollowerWithAWipedDiskCatchesUpFromTheLeadersSnapshot() throws Exception {
        // A snapshot every 4 entries and tiny segments, so that the leader soon purges the log the follower needs.
        try (ThreeNodes cluster = new ThreeNodes(dir, c -> c.withSnapshotThresholdEntries(4)
                .withLogSizes(4096, 16384))) {
            int leader = cluster.awaitLeader();
            int follower = cluster.aFollower(leader);
            submitInWaves(cluster.submitter(leader), "before", 20, 10);
            cluster.awaitSameState(leader, 200);

            cluster.stop(follower);
            cluster.wipe(follower);
            assertThat(dir.resolve("n" + follower)).doesNotExist();
            submitInWaves(cluster.submitter(leader), "while-down", 20, 10);
            cluster.rejoin(follower);

            cluster.awaitSameState(leader, 400);
            assertThat(cluster.state(follower).snapshotsRead()).isPositive();
            assertThat(cluster.status(follower).snapshotsLoaded()).isPositive();
            try (var files = Files.list(dir.resolve("n" + leader).resolve("raft").resolve(groupDirName(cluster))
                    .resolve("current"))) {
                assertThat(files.map(p -> p.getFileName().toString()))
                        .as("the leader purged the start of its log").noneMatch(n -> n.startsWith("log_0-"));
            }
        }
    }

    /**
     * The node is simply started again on its empty disk, as an operator would after replacing it: it must take the
     * group back as a new replica (a member that forgot its vote could elect a leader missing committed entries).
     */
    @Test
    void aNodeStartedOnAWipedDiskRejoinsItsGroupsOnItsOwn() throws Exception {
        try (ThreeNodes cluster = new ThreeNodes(dir, c -> c)) {
            int leader = cluster.awaitLeader();
            int follower = cluster.aFollower(leader);
            submitInWaves(cluster.submitter(leader), "before", 5, 10);
            cluster.awaitSameState(leader, 50);
            cluster.stop(follower);
            cluster.wipe(follower);

            cluster.start(follower);
            assertThat(cluster.node(follower).rejoined()).containsExactly(cluster.group.name());
            submitInWaves(cluster.submitter(leader), "after", 5, 10);
            cluster.awaitSameState(leader, 100);
        }
    }

    @Test
    void aRejoinWithoutAMajorityFailsInBoundedTimeLeavingNothingBehind() throws Exception {
        try (ThreeNodes cluster = new ThreeNodes(dir, c -> c.withCommitTimeout(Duration.ofSeconds(3)))) {
            int leader = cluster.awaitLeader();
            int follower = cluster.aFollower(leader);
            submitInWaves(cluster.submitter(leader), "c", 5, 10);
            cluster.stop(follower);
            cluster.wipe(follower);
            cluster.stop(3 - leader - follower);

            long start = System.nanoTime();
            assertThatThrownBy(() -> cluster.rejoin(follower)).isInstanceOf(IOException.class);
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(20));
            assertThat(dir.resolve("n" + follower).resolve("raft").resolve(groupDirName(cluster))).doesNotExist();
        }
    }

    @Test
    void aDamagedSnapshotStopsTheReplicaFromStartingInsteadOfServingAWrongState() throws Exception {
        try (ThreeNodes cluster = new ThreeNodes(dir, c -> c.withSnapshotThresholdEntries(4))) {
            int leader = cluster.awaitLeader();
            int follower = cluster.aFollower(leader);
            submitInWaves(cluster.submitter(leader), "c", 10, 5);
            cluster.awaitSameState(leader, 50);
            cluster.stop(follower);

            Path sm = dir.resolve("n" + follower).resolve("raft").resolve(groupDirName(cluster)).resolve("sm");
            Path newest;
            try (var files = Files.list(sm)) {
                newest = files.filter(p -> p.getFileName().toString().matches("snapshot\\.\\d+_\\d+"))
                        .max(Comparator.comparingLong(p -> Long.parseLong(
                                p.getFileName().toString().replaceAll(".*_", ""))))
                        .orElseThrow();
            }
            byte[] bytes = Files.readAllBytes(newest);
            bytes[bytes.length / 2] ^= 0x01;
            Files.write(newest, bytes);

            assertThatThrownBy(() -> cluster.start(follower)).isInstanceOf(IOException.class)
                    .hasMessageContaining(newest.toString()).hasMessageContaining("is damaged");
        }
    }

    private static String groupDirName(ThreeNodes cluster) {
        return cluster.group.groupId().getUuid().toString();
    }

    /** Submits {@code waves} waves of {@code perWave} commands, each wave after the last was committed. */
    private static void submitInWaves(CommandSubmitter submitter, String prefix, int waves, int perWave) {
        for (int w = 0; w < waves; w++) {
            List<CompletableFuture<byte[]>> wave = new ArrayList<>();
            for (int i = 0; i < perWave; i++) {
                wave.add(submitter.submit((prefix + "-" + w + "-" + i).getBytes(UTF_8)));
            }
            CompletableFuture.allOf(wave.toArray(CompletableFuture[]::new)).join();
        }
    }
}
