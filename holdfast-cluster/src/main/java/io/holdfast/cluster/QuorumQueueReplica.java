package io.holdfast.cluster;

import io.holdfast.core.BrokerException;
import io.holdfast.core.PropertiesRewriter;
import io.holdfast.core.QuorumCommand;
import io.holdfast.core.QuorumEffect;
import io.holdfast.core.QuorumQueue;
import io.holdfast.core.QuorumSnapshot;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One node's replica of a quorum queue: the {@link ReplicatedState} a {@link ReplicaGroup} applies, wrapping the
 * core's {@link QuorumQueue}. Commands arrive as {@link QuorumCommandCodec} bytes; each result is the codec's
 * result (a refusal is a result, not an exception, so the submitter gets its reply code). Snapshots are
 * {@link QuorumSnapshot}s: the live state only.
 *
 * <p>After each applied command the {@link Listener} hears the command and all its effects, on every replica: the
 * node carries out those that are its own (deliveries and confirms for its channels; dead-letters and expiry if it
 * leads the group). Entries replayed at start (from the log after the latest snapshot) are heard too: a node ignores
 * effects for channels it no longer has, and sends a {@link QuorumCommand.NodeDown} for itself once it has started,
 * so that what its previous run held comes back.
 *
 * <p>Threads: the group's apply thread calls {@link #apply} and the snapshot methods; the inspection methods may be
 * called from any thread (they take the same monitor).
 */
public final class QuorumQueueReplica implements ReplicatedState {
    private static final Logger LOG = LoggerFactory.getLogger(QuorumQueueReplica.class);

    /** Hears every applied command and its outcome, on the apply thread: it must not block (hand work off). */
    @FunctionalInterface
    public interface Listener {
        void applied(QuorumCommand command, QuorumQueue.Outcome outcome);
    }

    private final PropertiesRewriter rewriter;
    private final Listener listener;
    private QuorumQueue queue;

    /** An empty replica of the queue {@code definition} declares; {@code rewriter} must be the same on every node. */
    public QuorumQueueReplica(QuorumQueue.Definition definition, PropertiesRewriter rewriter, Listener listener) {
        this.rewriter = rewriter;
        this.listener = listener;
        this.queue = new QuorumQueue(definition, rewriter);
    }

    @Override
    public synchronized byte[] apply(byte[] command, long timeMillis) {
        QuorumCommand c = QuorumCommandCodec.decode(command); // damaged bytes: refused the same way everywhere
        QuorumQueue.Outcome outcome;
        try {
            outcome = queue.apply(c, timeMillis);
        } catch (BrokerException e) {
            return QuorumCommandCodec.encodeRefusal(e);
        }
        try {
            listener.applied(c, outcome);
        } catch (RuntimeException e) {
            // the state has moved on; a listener's failure must not make this replica answer differently
            LOG.error("cluster: queue {} listener failed on {}", queue.definition().name(), c, e);
        }
        return QuorumCommandCodec.encodeResult(forSubmitter(outcome));
    }

    /**
     * What the submitter's reply carries: the confirms and nacks of its publishes and a basic.get's delivery, not the
     * deliveries to consumers, dead-letters and quarantines the command caused (every replica's listener hears those,
     * and their bodies would travel back to the submitter with every ack for nothing). The same on every replica.
     */
    private static QuorumQueue.Outcome forSubmitter(QuorumQueue.Outcome outcome) {
        List<QuorumEffect> kept = new ArrayList<>();
        for (QuorumEffect e : outcome.effects()) {
            if (e instanceof QuorumEffect.Confirm || e instanceof QuorumEffect.Nack
                    || e instanceof QuorumEffect.Deliver d && d.consumerTag() == null) {
                kept.add(e);
            }
        }
        return kept.size() == outcome.effects().size() ? outcome : new QuorumQueue.Outcome(kept, outcome.count());
    }

    @Override
    public synchronized void writeSnapshot(OutputStream out) throws IOException {
        DataOutputStream data = new DataOutputStream(out);
        QuorumSnapshot.write(queue, data);
        data.flush();
    }

    @Override
    public synchronized void readSnapshot(InputStream in) throws IOException {
        queue = QuorumSnapshot.read(new DataInputStream(in), rewriter);
    }

    public synchronized int messageCount() {
        return queue.messageCount();
    }

    public synchronized int unackedCount() {
        return queue.unackedCount();
    }

    public synchronized int consumerCount() {
        return queue.consumerCount();
    }

    /** The state as its snapshot's bytes: equal on two replicas exactly when their states are the same. */
    public synchronized byte[] stateBytes() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try {
            writeSnapshot(bytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }
}
