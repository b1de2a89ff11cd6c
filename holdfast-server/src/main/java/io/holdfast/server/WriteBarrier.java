package io.holdfast.server;

/**
 * Counts the journal writes one command caused (a publish, a tx.commit) and runs its completion once
 * the last of them is durable, or at once if there were none. Broker thread only.
 */
final class WriteBarrier {
    private int pending;
    private boolean armed;
    private boolean failed;
    private final Completion completion;

    interface Completion {
        void done(boolean durable);
    }

    WriteBarrier(Completion completion) {
        this.completion = completion;
    }

    void writeStarted() {
        pending++;
    }

    void writeFinished(boolean ok) {
        failed |= !ok;
        pending--;
        fireIfDone();
    }

    /** The command has issued all its writes. */
    void arm() {
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
