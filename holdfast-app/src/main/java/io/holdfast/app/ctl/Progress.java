package io.holdfast.app.ctl;

import java.io.PrintWriter;

/**
 * Progress of long ctl work on standard error: a line each time another tenth of {@code total} is done, so a
 * republish of a million messages prints ten lines, not a million. The calling thread only.
 */
final class Progress {
    private static final int STEPS = 10;

    private final PrintWriter err;
    private final String what;
    private final String unit;
    private final long total;
    private long done;
    private int stepsShown;

    /**
     * @param what  the work, as the line starts ("Republishing")
     * @param unit  what is counted ("messages", "bytes sent")
     * @param total how much there is in all; 0 or less shows nothing
     */
    Progress(PrintWriter err, String what, String unit, long total) {
        this.err = err;
        this.what = what;
        this.unit = unit;
        this.total = total;
    }

    long total() {
        return total;
    }

    /** {@code n} more are done; prints a line if that crosses the next tenth. */
    void advance(long n) {
        advanceTo(done + n);
    }

    /** {@code n} are done in all (fewer than before changes nothing); prints a line if that crosses the next tenth. */
    void advanceTo(long n) {
        done = Math.max(done, n);
        if (total <= 0) {
            return;
        }
        int steps = (int) Math.min(STEPS, done * STEPS / total);
        if (steps > stepsShown) {
            stepsShown = steps;
            err.println(what + ": " + steps * 100 / STEPS + "% (" + done + " of " + total + " " + unit + ")");
            err.flush();
        }
    }
}
