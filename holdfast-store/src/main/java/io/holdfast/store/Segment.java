package io.holdfast.store;

import java.io.IOException;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One segment file as the journal tracks it: its size and how many of its records the owner still
 * holds live. The live count is changed from any thread ({@link Journal#settle}, {@link Journal#retain})
 * and by the writer thread; {@link #DELETED} is a terminal value the writer claims with a CAS, so a
 * retain racing with deletion fails loudly instead of pointing at a file that is gone.
 *
 * <p>It also owns the read-only handle {@link Journal#read} shares between threads: opened on the first
 * read, closed for good ({@link #closeReader}) when the writer claims the segment for deletion or the
 * journal closes, after which reads of the segment fail with an {@link IOException}.
 */
final class Segment {
    private static final Logger LOG = LoggerFactory.getLogger(Journal.class);
    private static final int DELETED = Integer.MIN_VALUE;

    final long id;
    final String fileName;
    private final AtomicInteger live = new AtomicInteger();
    /** Written by the writer thread (or the opening thread before the writer starts); read by anyone. */
    volatile long sizeBytes;
    /** Records written to the active segment, for its seal; writer thread only. */
    long recordCount;
    /** The open file of the active segment; writer thread only. Recovered segments stay closed. */
    Storage.SegmentFile file;

    private final Object readerLock = new Object();
    /** The shared read-only handle, or null until the first read; guarded by readerLock. */
    private Storage.SegmentFile reader;
    /** Why reads are refused for good (deleted, journal closed), or null; guarded by readerLock. */
    private String readsRefused;

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

    /** The read-only handle, opened on first use. Any thread. */
    Storage.SegmentFile reader(Storage storage) throws IOException {
        synchronized (readerLock) {
            if (readsRefused != null) {
                throw new IOException("cannot read segment " + fileName + ": " + readsRefused);
            }
            if (reader == null) {
                reader = storage.openForReading(fileName);
            }
            return reader;
        }
    }

    /**
     * Forgets a handle that was closed under its readers without {@link #closeReader} (an interrupted
     * reading thread closes a FileChannel for every thread), so the next read opens a fresh one.
     */
    void discardReader(Storage.SegmentFile broken) {
        synchronized (readerLock) {
            if (reader != broken) {
                return;
            }
            reader = null;
        }
        closeQuietly(broken);
    }

    /** Closes the read-only handle, if open, and refuses reads from now on. Idempotent; any thread. */
    void closeReader(String why) {
        Storage.SegmentFile open;
        synchronized (readerLock) {
            if (readsRefused == null) {
                readsRefused = why;
            }
            open = reader;
            reader = null;
        }
        if (open != null) {
            closeQuietly(open);
        }
    }

    private void closeQuietly(Storage.SegmentFile handle) {
        try {
            handle.close();
        } catch (IOException e) {
            LOG.warn("journal: closing the read handle of {} failed", fileName, e); // read-only: nothing is lost
        }
    }
}
