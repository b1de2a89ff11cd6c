package io.holdfast.cluster;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/**
 * A deterministic state replicated by a {@link ReplicaGroup}: every replica applies the same commands in the same
 * (log) order, so every replica holds the same state. Commands and results are opaque bytes here; the core's queue
 * state machine gives them meaning.
 *
 * <p>Implementations must be deterministic: {@link #apply} may depend only on the state, the command and the time
 * it is given, never on a clock, randomness, I/O or the thread. Given the same snapshot and the same commands, two
 * replicas must reach the same state and return the same results, or they diverge.
 *
 * <p>Threads: the group's apply thread (a Ratis thread, one per group per node) calls {@link #apply},
 * {@link #writeSnapshot} and {@link #readSnapshot}, never two of them at once. Reading the state from another
 * thread is the implementation's business (it must then guard its own fields).
 */
public interface ReplicatedState {

    /**
     * Applies one committed command and returns its result, which the submitter's future carries.
     *
     * <p>A command the state refuses should be answered with a result saying so. If {@code apply} throws, it must
     * leave the state unchanged; the submitter's future then fails with {@link CommandRejectedException} carrying
     * the message. Either way every replica must do the same.
     *
     * @param command the bytes given to {@link CommandSubmitter#submit}
     * @param timeMillis wall-clock time of the node that batched the command, never less than the time given to
     *     the previous command (clamped, since leaders' clocks differ); the same on every replica
     * @return the result, possibly empty, never null
     */
    byte[] apply(byte[] command, long timeMillis);

    /**
     * Writes the whole state. The caller frames, checksums and fsyncs the stream (see {@link SnapshotFile}), so
     * this writes only the state's own bytes; it should begin with its own format version.
     */
    void writeSnapshot(OutputStream out) throws IOException;

    /**
     * Replaces the whole state with one written by {@link #writeSnapshot}. Called at start (when a snapshot
     * exists) and when the leader installs a snapshot on a replica that fell too far behind. The bytes were
     * checksummed before this is called.
     *
     * @throws IOException if the bytes do not form a state this version understands
     */
    void readSnapshot(InputStream in) throws IOException;
}
