package io.holdfast.cluster;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.ratis.io.MD5Hash;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.server.raftlog.RaftLog;
import org.apache.ratis.server.storage.FileInfo;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.TransactionContext;
import org.apache.ratis.statemachine.impl.BaseStateMachine;
import org.apache.ratis.statemachine.impl.SimpleStateMachineStorage;
import org.apache.ratis.statemachine.impl.SingleFileSnapshotInfo;
import org.apache.ratis.thirdparty.com.google.protobuf.UnsafeByteOperations;
import org.apache.ratis.util.LifeCycle;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Ratis {@code StateMachine} of one group on one node: applies each committed log entry (a batch of commands,
 * {@link EntryFormat}) to the {@link ReplicatedState} in log order and answers one result per command; writes and
 * loads {@link SnapshotFile}s so that a restart resumes from the latest snapshot plus the log after it, and a
 * replica whose log the leader has purged is replaced by the leader's snapshot ({@link #reinitialize}).
 *
 * <p>Threads: Ratis calls {@link #applyTransaction} and {@link #takeSnapshot} from the group's state machine
 * updater thread, one at a time; {@link #initialize}, {@link #pause} and {@link #reinitialize} come from other Ratis
 * threads while the updater waits. The monitor serialises all of them, so the state only ever sees one caller.
 */
final class ReplicatedStateMachine extends BaseStateMachine {
    private static final Logger LOG = LoggerFactory.getLogger(ReplicatedStateMachine.class);

    private final ReplicaGroup group;
    private final ReplicatedState state;
    private final SimpleStateMachineStorage storage = new SimpleStateMachineStorage();
    /** The time given to the last applied command; commands never see time go back, even across leaders. */
    private long lastTimeMillis = Long.MIN_VALUE;
    private volatile long appliedCommands;
    private volatile long snapshotsLoaded;

    ReplicatedStateMachine(ReplicaGroup group, ReplicatedState state) {
        this.group = group;
        this.state = state;
    }

    @Override
    public synchronized void initialize(RaftServer server, RaftGroupId groupId, RaftStorage raftStorage)
            throws IOException {
        getLifeCycle().startAndTransition(() -> {
            super.initialize(server, groupId, raftStorage);
            storage.init(raftStorage);
            loadLatestSnapshot();
        }, IOException.class);
    }

    @Override
    public SimpleStateMachineStorage getStateMachineStorage() {
        return storage;
    }

    @Override
    public synchronized CompletableFuture<Message> applyTransaction(TransactionContext trx) {
        LogEntryProto entry = trx.getLogEntry();
        try {
            byte[] reply = applyEntry(entry.getIndex(), entry.getStateMachineLogEntry().getLogData().toByteArray());
            return CompletableFuture.completedFuture(Message.valueOf(UnsafeByteOperations.unsafeWrap(reply)));
        } catch (IllegalArgumentException e) {
            return CompletableFuture.failedFuture(e);
        } finally {
            updateLastAppliedTermIndex(entry.getTerm(), entry.getIndex());
        }
    }

    /**
     * Applies the commands of one committed entry in order, each with the entry's time clamped so that it never
     * goes back, and returns the reply: one result per command.
     *
     * @throws IllegalArgumentException if the bytes are not an intact entry; nothing is applied. Every replica
     *     reads the same committed bytes and skips it the same way; the submitter only proposes intact entries,
     *     so this is damage or a foreign client.
     */
    synchronized byte[] applyEntry(long index, byte[] data) {
        EntryFormat.Entry batch;
        try {
            batch = EntryFormat.decodeEntry(data);
        } catch (IllegalArgumentException e) {
            LOG.error("cluster: group {} entry {} is not a command batch ({}); applied as empty", group.name(),
                    index, e.getMessage());
            throw e;
        }
        long timeMillis = Math.max(lastTimeMillis, batch.timeMillis());
        lastTimeMillis = timeMillis;
        List<EntryFormat.Result> results = new ArrayList<>(batch.commands().size());
        for (byte[] command : batch.commands()) {
            results.add(applyOne(command, timeMillis));
        }
        appliedCommands += batch.commands().size();
        return EntryFormat.encodeReply(results);
    }

    private EntryFormat.Result applyOne(byte[] command, long timeMillis) {
        try {
            byte[] result = state.apply(command, timeMillis);
            return new EntryFormat.Result(EntryFormat.OK, result);
        } catch (RuntimeException e) {
            String message = String.valueOf(e.getMessage());
            return new EntryFormat.Result(EntryFormat.REJECTED, message.getBytes(StandardCharsets.UTF_8));
        }
    }

    @Override
    public synchronized long takeSnapshot() throws IOException {
        TermIndex applied = getLastAppliedTermIndex();
        if (applied == null || applied.getIndex() < 0) {
            return RaftLog.INVALID_LOG_INDEX;
        }
        File file = storage.getSnapshotFile(applied.getTerm(), applied.getIndex());
        MD5Hash md5 = SnapshotFile.write(file.toPath(), new SnapshotFile.Position(applied.getTerm(),
                applied.getIndex(), lastTimeMillis), state);
        storage.updateLatestSnapshot(new SingleFileSnapshotInfo(new FileInfo(file.toPath(), md5), applied));
        return applied.getIndex();
    }

    @Override
    public synchronized void pause() {
        if (getLifeCycleState() == LifeCycle.State.RUNNING) {
            getLifeCycle().transition(LifeCycle.State.PAUSING);
            getLifeCycle().transition(LifeCycle.State.PAUSED);
        }
    }

    /** After the leader installed its snapshot here (or the server resumes): the state becomes that snapshot. */
    @Override
    public synchronized void reinitialize() throws IOException {
        storage.loadLatestSnapshot();
        loadLatestSnapshot();
        if (getLifeCycleState() == LifeCycle.State.PAUSED) {
            getLifeCycle().transition(LifeCycle.State.STARTING);
            getLifeCycle().transition(LifeCycle.State.RUNNING);
        }
    }

    private void loadLatestSnapshot() throws IOException {
        SingleFileSnapshotInfo latest = storage.getLatestSnapshot();
        if (latest == null || !Files.exists(latest.getFile().getPath())) {
            return;
        }
        SnapshotFile.Position position = SnapshotFile.read(latest.getFile().getPath(), state);
        if (position.index() != latest.getIndex() || position.term() != latest.getTerm()) {
            throw new IOException("snapshot " + latest.getFile().getPath() + " holds term " + position.term()
                    + " index " + position.index() + ", its name says " + latest.getTermIndex());
        }
        lastTimeMillis = position.timeMillis();
        setLastAppliedTermIndex(TermIndex.valueOf(position.term(), position.index()));
        snapshotsLoaded++;
        LOG.info("cluster: group {} loaded snapshot at term {} index {}", group.name(), position.term(),
                position.index());
    }

    /** Commands applied since this node started the group (not counting those in loaded snapshots). */
    long appliedCommands() {
        return appliedCommands;
    }

    /** Snapshots loaded into the state since this node started the group: at start, or installed by a leader. */
    long snapshotsLoaded() {
        return snapshotsLoaded;
    }

    long appliedIndex() {
        TermIndex applied = getLastAppliedTermIndex();
        return applied == null ? RaftLog.INVALID_LOG_INDEX : applied.getIndex();
    }
}
