package io.holdfast.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.holdfast.core.ErrorCode;
import io.holdfast.core.PropertiesRewriter;
import io.holdfast.core.QuorumCommand;
import io.holdfast.core.QuorumEffect;
import io.holdfast.core.QuorumQueue;
import io.holdfast.core.RemoteChannel;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The queue's replica as a {@link ReplicatedState}: bytes in, results out, listener and snapshots. */
class QuorumQueueReplicaTest {
    static final QuorumQueue.Definition DEFINITION = new QuorumQueue.Definition("/", "qq",
            Map.of("x-delivery-limit", 5L, "x-queue-type", "quorum"), -1);
    static final RemoteChannel PUBLISHER = new RemoteChannel("n1", 1);
    static final RemoteChannel CONSUMER = new RemoteChannel("n2", 1);

    @TempDir
    Path dir;

    private final List<QuorumEffect> heard = new ArrayList<>();
    private final QuorumQueueReplica replica = new QuorumQueueReplica(DEFINITION, PropertiesRewriter.UNCHANGED,
            (command, outcome) -> heard.addAll(outcome.effects()));

    private QuorumCommandCodec.Result apply(QuorumCommand c, long time) {
        return QuorumCommandCodec.decodeResult(replica.apply(QuorumCommandCodec.encode(c), time));
    }

    static QuorumCommand.Enqueue enqueue(long seq, String body) {
        return new QuorumCommand.Enqueue(List.of(new QuorumCommand.Publish(PUBLISHER, seq,
                QuorumCommandCodecTest.message(body))));
    }

    @Test
    void theSubmitterGetsItsConfirmAndTheListenerHearsTheDelivery() {
        apply(new QuorumCommand.Attach(CONSUMER, "c", 0, false, false, 0), 1);
        QuorumCommandCodec.Result r = apply(enqueue(1, "a"), 2);
        assertThat(r.effects()).containsExactly(new QuorumEffect.Confirm(PUBLISHER, 1));
        assertThat(heard).hasSize(2).first().isInstanceOfSatisfying(QuorumEffect.Deliver.class,
                d -> assertThat(d.channel()).isEqualTo(CONSUMER));
        QuorumCommandCodec.Result get = apply(new QuorumCommand.Get(CONSUMER, true), 3);
        assertThat(get.effects()).as("a basic.get's delivery is the submitter's").isEmpty(); // nothing ready
        QuorumCommandCodec.Result second = apply(enqueue(2, "b"), 4);
        assertThat(second.effects()).as("the delivery it made is the listener's only")
                .containsExactly(new QuorumEffect.Confirm(PUBLISHER, 2));
        assertThat(heard).filteredOn(e -> e instanceof QuorumEffect.Deliver).hasSize(2);
    }

    @Test
    void aRefusedCommandIsAnsweredWithItsReplyCodeAndChangesNothing() {
        apply(enqueue(1, "a"), 1);
        byte[] before = replica.stateBytes();
        QuorumCommandCodec.Result r = apply(new QuorumCommand.Settle(CONSUMER, 1, false,
                QuorumCommand.Disposition.ACK), 5);
        assertThat(r.refusal().code()).isEqualTo(ErrorCode.PRECONDITION_FAILED);
        assertThat(replica.stateBytes()).isEqualTo(before);
    }

    @Test
    void aSnapshotFileRestoresTheSameStateOnAnotherReplica() throws IOException {
        apply(enqueue(1, "a"), 1);
        apply(enqueue(2, "b"), 2);
        apply(new QuorumCommand.Attach(CONSUMER, "c", 1, false, false, 0), 3);
        Path file = dir.resolve("snapshot");
        SnapshotFile.write(file, new SnapshotFile.Position(1, 4, 3), replica);
        QuorumQueueReplica other = new QuorumQueueReplica(DEFINITION, PropertiesRewriter.UNCHANGED, (c, o) -> { });
        SnapshotFile.read(file, other);
        assertThat(other.stateBytes()).isEqualTo(replica.stateBytes());
        assertThat(other.unackedCount()).isEqualTo(1);
        assertThat(other.messageCount()).isEqualTo(1);
    }

    @Test
    void aSnapshotOfAnotherFormatIsRefused() {
        QuorumQueueReplica other = new QuorumQueueReplica(DEFINITION, PropertiesRewriter.UNCHANGED, (c, o) -> { });
        assertThatThrownBy(() -> other.readSnapshot(
                new ByteArrayInputStream(new byte[] {0, 1, 2, 3, 0, 1}))).isInstanceOf(IOException.class)
                .hasMessageContaining("magic");
    }
}
