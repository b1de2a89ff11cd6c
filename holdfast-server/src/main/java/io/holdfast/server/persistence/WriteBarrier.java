package io.holdfast.server.persistence;

/**
 * Counts the journal writes one command caused (a publish, a tx.commit) and runs its completion once
 * the last of them is durable, or at once if there were none. Broker thread only.
 */
public final class WriteBarrier {
    private int pending;
    private boolean armed;
    private boolean failed;
    private final Completion completion;

    public interface Completion {
        void done(boolean durable);
    }

    public WriteBarrier(Completion completion) {
        this.completion = completion;
    }

    public void writeStarted() {
        pending++;
    }

    public void writeFinished(boolean ok) {
        failed |= !ok;
        pending--;
        fireIfDone();
    }

    /** The command has issued all its writes. */
    public void arm() {
        armed = true;
        fireIfDone();
    }

    private void fireIfDone() {
        if (armed && pending == 0) {
            armed = false;
            completion.done(!failed);
        }
    }
}
