package io.holdfast.store;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * One segment file as the journal tracks it: its size and how many of its records the owner still
 * holds live. The live count is changed from any thread ({@link Journal#settle}, {@link Journal#retain})
 * and by the writer thread; {@link #DELETED} is a terminal value the writer claims with a CAS, so a
 * retain racing with deletion fails loudly instead of pointing at a file that is gone.
 */
final class Segment {
    private static final int DELETED = Integer.MIN_VALUE;

    final long id;
    final String fileName;
    private final AtomicInteger live = new AtomicInteger();
    /** Written by the writer thread (or the opening thread before the writer starts); read by anyone. */
    volatile long sizeBytes;
    /** The open file of the active segment; writer thread only. Recovered segments stay closed. */
    Storage.SegmentFile file;

    Segment(long id, long sizeBytes) {
        this.id = id;
        this.fileName = SegmentFormat.fileName(id);
        this.sizeBytes = sizeBytes;
    }

    void retain() {
        int v;
        do {
            v = live.get();
            if (v == DELETED) {
                throw new IllegalStateException("segment " + id + " was already deleted: retain all live records "
                        + "before the first settle()");
            }
            if (v == Integer.MAX_VALUE) {
                throw new IllegalStateException("segment " + id + " live count overflow");
            }
        } while (!live.compareAndSet(v, v + 1));
    }

    /** @return true if this settle brought the live count to zero */
    boolean settle() {
        int v;
        do {
            v = live.get();
            if (v == DELETED) {
                throw new IllegalStateException("segment " + id + " was already deleted; settle without a live record");
            }
            if (v == 0) {
                throw new IllegalStateException("segment " + id + " has no live record left to settle");
            }
        } while (!live.compareAndSet(v, v - 1));
        return v == 1;
    }

    /** Claims the segment for deletion if nothing in it is live; once claimed, it stays claimed. */
    boolean tryMarkDeleted() {
        return live.get() == DELETED || live.compareAndSet(0, DELETED);
    }

    int liveCount() {
        int v = live.get();
        return v == DELETED ? 0 : v;
    }
}
