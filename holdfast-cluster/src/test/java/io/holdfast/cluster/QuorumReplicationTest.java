package io.holdfast.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.holdfast.core.Message;
import io.holdfast.core.PropertiesRewriter;
import io.holdfast.core.QuorumCommand;
import io.holdfast.core.QuorumEffect;
import io.holdfast.core.QuorumQueue;
import io.holdfast.core.RemoteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A quorum queue on real Ratis, three nodes in this JVM: enqueue, deliver, ack; the leader (which hosts the consumer)
 * is killed; the new leader holds the very same state, and once the dead node is declared down its unacked
 * deliveries go, redelivered and in order, to a consumer on a survivor. A replica whose disk was replaced catches
 * up from the leader's queue snapshot.
 */
@Timeout(120)
class QuorumReplicationTest {
    static final QuorumQueue.Definition DEFINITION = new QuorumQueue.Definition("/", "qq",
            Map.of("x-queue-type", "quorum"), -1);

    @TempDir
    Path dir;

    /** What each node's replica delivered to channels on that node, as the node would carry it out. */
    private final List<Queue<QuorumEffect.Deliver>> delivered = List.of(new ConcurrentLinkedQueue<>(),
            new ConcurrentLinkedQueue<>(), new ConcurrentLinkedQueue<>());

    private QuorumQueueReplica replica(int i) {
        String node = "n" + i;
        return new QuorumQueueReplica(DEFINITION, PropertiesRewriter.UNCHANGED, (command, outcome) -> {
            for (QuorumEffect e : outcome.effects()) {
                if (e instanceof QuorumEffect.Deliver d && d.channel().node().equals(node)) {
                    delivered.get(i).add(d);
                }
            }
        });
    }

    private static QuorumCommandCodec.Result submit(ThreeNodes cluster, int via, QuorumCommand c) throws Exception {
        byte[] result = cluster.submitter(via).submit(QuorumCommandCodec.encode(c)).get(30, TimeUnit.SECONDS);
        return QuorumCommandCodec.decodeResult(result);
    }

    private static QuorumQueueReplica state(ThreeNodes cluster, int i) {
        return (QuorumQueueReplica) cluster.replica(i);
    }

    @Test
    void theNewLeaderHoldsTheSameQueueAndADeadNodesUnackedComeBackRedelivered() throws Exception {
        try (ThreeNodes cluster = new ThreeNodes(dir, c -> c, this::replica)) {
            int leader = cluster.awaitLeader();
            int publisherNode = cluster.aFollower(leader);
            RemoteChannel consumer = new RemoteChannel(cluster.nodeId(leader), 1);
            RemoteChannel publisher = new RemoteChannel(cluster.nodeId(publisherNode), 1);
            submit(cluster, leader, new QuorumCommand.Attach(consumer, "c1", 10, false, false, 0));

            List<QuorumCommand.Publish> batch = new ArrayList<>();
            for (int i = 1; i <= 20; i++) {
                batch.add(publish(publisher, i));
            }
            QuorumCommandCodec.Result enqueued = submit(cluster, publisherNode, new QuorumCommand.Enqueue(batch));
            assertThat(enqueued.effects()).hasSize(20).allMatch(e -> e instanceof QuorumEffect.Confirm c
                    && c.publisher().equals(publisher));

            await().atMost(Duration.ofSeconds(30)).until(() -> delivered.get(leader).size() == 10);
            List<QuorumEffect.Deliver> first = new ArrayList<>(delivered.get(leader));
            assertThat(first).extracting(d -> body(d)).containsExactly("m1", "m2", "m3", "m4", "m5", "m6", "m7",
                    "m8", "m9", "m10");
            submit(cluster, publisherNode, new QuorumCommand.Settle(consumer, first.get(4).deliveryId(), true,
                    QuorumCommand.Disposition.ACK)); // m1..m5 acked; the prefetch lets m11..m15 go
            await().atMost(Duration.ofSeconds(30)).until(() -> delivered.get(leader).size() == 15);

            awaitSameState(cluster);
            byte[] before = state(cluster, leader).stateBytes();
            assertThat(state(cluster, publisherNode).unackedCount()).isEqualTo(10);

            cluster.stop(leader);
            int newLeader = cluster.awaitLeader();
            assertThat(newLeader).isNotEqualTo(leader);
            assertThat(state(cluster, newLeader).stateBytes()).as("the new leader's queue is the old one's")
                    .isEqualTo(before);

            submit(cluster, newLeader, new QuorumCommand.NodeDown(cluster.nodeId(leader)));
            assertThat(state(cluster, newLeader).unackedCount()).isZero();
            assertThat(state(cluster, newLeader).messageCount()).isEqualTo(15);
            RemoteChannel survivor = new RemoteChannel(cluster.nodeId(newLeader), 7);
            submit(cluster, newLeader, new QuorumCommand.Attach(survivor, "c2", 0, false, false, 0));
            await().atMost(Duration.ofSeconds(30)).until(() -> delivered.get(newLeader).size() == 15);
            List<QuorumEffect.Deliver> again = new ArrayList<>(delivered.get(newLeader));
            assertThat(again).extracting(d -> body(d)).containsExactly("m6", "m7", "m8", "m9", "m10", "m11", "m12",
                    "m13", "m14", "m15", "m16", "m17", "m18", "m19", "m20");
            assertThat(again.subList(0, 10)).allMatch(d -> d.redelivered() && d.deliveryCount() == 2);
            assertThat(again.subList(10, 15)).noneMatch(QuorumEffect.Deliver::redelivered);
            awaitSameState(cluster);
        }
    }

    @Test
    void aReplicaWithAWipedDiskCatchesUpFromTheLeadersQueueSnapshot() throws Exception {
        try (ThreeNodes cluster = new ThreeNodes(dir, c -> c.withSnapshotThresholdEntries(4).withLogSizes(4096, 16384),
                this::replica)) {
            int leader = cluster.awaitLeader();
            int follower = cluster.aFollower(leader);
            RemoteChannel publisher = new RemoteChannel(cluster.nodeId(leader), 1);
            RemoteChannel consumer = new RemoteChannel(cluster.nodeId(leader), 2);
            for (int i = 1; i <= 30; i++) {
                submit(cluster, leader, enqueueOne(publisher, i));
            }
            submit(cluster, leader, new QuorumCommand.Attach(consumer, "c", 5, false, false, 0));
            await().atMost(Duration.ofSeconds(30)).until(() -> delivered.get(leader).size() == 5);
            long third = new ArrayList<>(delivered.get(leader)).get(2).deliveryId();
            submit(cluster, leader, new QuorumCommand.Settle(consumer, third, true, QuorumCommand.Disposition.ACK));

            cluster.stop(follower);
            cluster.wipe(follower);
            for (int i = 31; i <= 60; i++) {
                submit(cluster, leader, enqueueOne(publisher, i));
            }
            cluster.rejoin(follower);

            awaitSameState(cluster);
            assertThat(cluster.status(follower).snapshotsLoaded()).as("caught up from a snapshot").isPositive();
            QuorumQueueReplica caughtUp = state(cluster, follower);
            assertThat(caughtUp.unackedCount()).isEqualTo(5);
            assertThat(caughtUp.messageCount()).isEqualTo(52); // 60 published, 3 acked, 5 out
        }
    }

    private static QuorumCommand.Enqueue enqueueOne(RemoteChannel publisher, int i) {
        return new QuorumCommand.Enqueue(List.of(publish(publisher, i)));
    }

    private static QuorumCommand.Publish publish(RemoteChannel publisher, int i) {
        return new QuorumCommand.Publish(publisher, i, new Message("", "qq", new byte[0], Map.of(), true,
                Message.NO_EXPIRATION, ("m" + i).getBytes(StandardCharsets.UTF_8)));
    }

    private static String body(QuorumEffect.Deliver d) {
        return new String(d.message().body(), StandardCharsets.UTF_8);
    }

    private static void awaitSameState(ThreeNodes cluster) {
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50)).until(() -> {
            byte[] reference = null;
            for (int i = 0; i < 3; i++) {
                if (!cluster.running(i)) {
                    continue;
                }
                byte[] bytes = state(cluster, i).stateBytes();
                if (reference != null && !Arrays.equals(reference, bytes)) {
                    return false;
                }
                reference = bytes;
            }
            return true;
        });
    }
}
