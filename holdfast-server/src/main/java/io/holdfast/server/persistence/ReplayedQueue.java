package io.holdfast.server.persistence;

import io.holdfast.core.QueueEntry;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.TreeMap;

/**
 * One queue's entries as replay rebuilds them (see {@link JournalReplay}), kept as columns of primitives (42 bytes
 * an entry, in blocks, so that growing never copies the lot) rather than as objects (about 75 bytes with their
 * list): replay holds every live entry of the journal at once, so this is what bounds the backlog a heap recovers.
 * Entries come out, in position order, as objects made one at a time ({@link #entries}), so a queue that pages its
 * index out never holds them all.
 *
 * <p>A queue's enqueue records come in position order, apart from compaction copies: the columns are sorted by
 * position (found by binary search) and a small map holds copies whose original is no longer on disk. Removed
 * entries are swept out of the columns once they are half of them. Used once, on the opening thread.
 */
final class ReplayedQueue {
    private static final int BLOCK_BITS = 13;
    private static final int BLOCK = 1 << BLOCK_BITS;
    private static final int MASK = BLOCK - 1;
    private static final byte REDELIVERED = 1;
    private static final byte REMOVED = 2;

    /** Per block: seq, storeRef, enqueuedAtMillis, expiresAtMillis of each entry, interleaved. */
    private final List<long[]> longs = new ArrayList<>();
    /** Per block: sizeBytes, deliveryCount. */
    private final List<int[]> ints = new ArrayList<>();
    /** Per block: flags ({@link #REDELIVERED}, {@link #REMOVED}), priority. */
    private final List<byte[]> bytes = new ArrayList<>();
    private int count;
    private int removed;
    private final TreeMap<Long, QueueEntry> moved = new TreeMap<>();

    private long seq(int i) {
        return longs.get(i >>> BLOCK_BITS)[(i & MASK) * 4];
    }

    private boolean isRemoved(int i) {
        return (bytes.get(i >>> BLOCK_BITS)[(i & MASK) * 2] & REMOVED) != 0;
    }

    private void set(int i, QueueEntry e) {
        long[] l = longs.get(i >>> BLOCK_BITS);
        int[] n = ints.get(i >>> BLOCK_BITS);
        byte[] b = bytes.get(i >>> BLOCK_BITS);
        int at = i & MASK;
        l[at * 4] = e.seq();
        l[at * 4 + 1] = e.storeRef;
        l[at * 4 + 2] = e.enqueuedAtMillis();
        l[at * 4 + 3] = e.expiresAtMillis();
        n[at * 2] = e.sizeBytes();
        n[at * 2 + 1] = e.deliveryCount();
        b[at * 2] = e.redelivered() ? REDELIVERED : 0;
        b[at * 2 + 1] = (byte) e.priority();
    }

    private QueueEntry entry(int i) {
        long[] l = longs.get(i >>> BLOCK_BITS);
        int[] n = ints.get(i >>> BLOCK_BITS);
        byte[] b = bytes.get(i >>> BLOCK_BITS);
        int at = i & MASK;
        return QueueEntry.pagedOut(l[at * 4], n[at * 2], (b[at * 2] & REDELIVERED) != 0, n[at * 2 + 1],
                l[at * 4 + 2], l[at * 4 + 3], l[at * 4 + 1], b[at * 2 + 1] & 0xFF);
    }

    /** Copies entry {@code from} over entry {@code to} (for the sweep). */
    private void move(int from, int to) {
        long[] lf = longs.get(from >>> BLOCK_BITS);
        long[] lt = longs.get(to >>> BLOCK_BITS);
        System.arraycopy(lf, (from & MASK) * 4, lt, (to & MASK) * 4, 4);
        System.arraycopy(ints.get(from >>> BLOCK_BITS), (from & MASK) * 2, ints.get(to >>> BLOCK_BITS), (to & MASK) * 2, 2);
        System.arraycopy(bytes.get(from >>> BLOCK_BITS), (from & MASK) * 2, bytes.get(to >>> BLOCK_BITS),
                (to & MASK) * 2, 2);
    }

    private void append(QueueEntry e) {
        if ((count & MASK) == 0 && count >>> BLOCK_BITS == longs.size()) {
            longs.add(new long[BLOCK * 4]);
            ints.add(new int[BLOCK * 2]);
            bytes.add(new byte[BLOCK * 2]);
        }
        set(count++, e);
    }

    /** Index of the live or removed entry at {@code seq}, or -1. */
    private int find(long seq) {
        int lo = 0;
        int hi = count - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            long s = seq(mid);
            if (s < seq) {
                lo = mid + 1;
            } else if (s > seq) {
                hi = mid - 1;
            } else {
                return mid;
            }
        }
        return -1;
    }

    /** An enqueue record: a new entry, or a later copy of one, which replaces it. */
    void put(QueueEntry e) {
        if (count == 0 || e.seq() > seq(count - 1)) {
            append(e);
            return;
        }
        replace(e);
    }

    /** The live entry at {@code seq} (a new object), or null. */
    QueueEntry get(long seq) {
        int i = find(seq);
        return i >= 0 && !isRemoved(i) ? entry(i) : moved.get(seq);
    }

    /**
     * The live entry at {@code e.seq()} becomes {@code e} (a later copy, or a DELIVERED or HELD record amended it);
     * with none live in the columns, {@code e} goes to the map of moved entries.
     */
    void replace(QueueEntry e) {
        int i = find(e.seq());
        if (i >= 0 && !isRemoved(i)) {
            set(i, e);
        } else {
            moved.put(e.seq(), e);
        }
    }

    void remove(long seq) {
        if (moved.remove(seq) != null) {
            return;
        }
        int i = find(seq);
        if (i >= 0 && !isRemoved(i)) {
            bytes.get(i >>> BLOCK_BITS)[(i & MASK) * 2] |= REMOVED;
            if (++removed > count / 2) {
                sweep();
            }
        }
    }

    /** Drops the removed entries from the columns, keeping the order, and the blocks no longer needed. */
    private void sweep() {
        int kept = 0;
        for (int i = 0; i < count; i++) {
            if (!isRemoved(i)) {
                if (i != kept) {
                    move(i, kept);
                }
                kept++;
            }
        }
        count = kept;
        removed = 0;
        int blocks = (count + MASK) >>> BLOCK_BITS;
        while (longs.size() > blocks) {
            longs.remove(longs.size() - 1);
            ints.remove(ints.size() - 1);
            bytes.remove(bytes.size() - 1);
        }
    }

    /** How many live entries there are. */
    int size() {
        return count - removed + moved.size();
    }

    /** The live entries in position order, each made when it is reached; valid until this changes. */
    Iterator<QueueEntry> entries() {
        Iterator<QueueEntry> extra = moved.values().iterator();
        return new Iterator<>() {
            private int i;
            private QueueEntry nextMoved = extra.hasNext() ? extra.next() : null;

            @Override
            public boolean hasNext() {
                while (i < count && isRemoved(i)) {
                    i++;
                }
                return i < count || nextMoved != null;
            }

            @Override
            public QueueEntry next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                if (nextMoved != null && (i >= count || nextMoved.seq() < seq(i))) {
                    QueueEntry out = nextMoved;
                    nextMoved = extra.hasNext() ? extra.next() : null;
                    return out;
                }
                return entry(i++);
            }
        };
    }
}
