package io.holdfast.server.persistence;

import io.holdfast.core.QueueEntry;
import io.holdfast.store.RecordVisitor;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Rebuilds, from the journal records in journal order, the index of what each queue held: ENQUEUE adds
 * an entry whose message stays on disk (paged out, read back when delivered), a later copy of the same
 * position (written by compaction) replaces the earlier one, DELIVERED and HELD amend, REMOVE deletes. Only the
 * compact index is kept in memory, never a body, so a backlog larger than the heap recovers.
 *
 * <p>Each queue's entries are kept as columns of primitives, not objects ({@link ReplayedQueue}): replay holds every
 * live entry at once, so their size is what bounds the backlog a given heap recovers (42 bytes an entry). Used once,
 * on the opening thread.
 */
public final class JournalReplay implements RecordVisitor {
    private static final Logger log = LoggerFactory.getLogger(JournalReplay.class);

    private final Map<String, Map<String, ReplayedQueue>> vhosts = new HashMap<>();
    private final JournalRecords.Names names = new JournalRecords.Names();
    private final boolean unclean;
    private long maxSeq;
    /** Ready times of the messages HELD records named (by position, unique broker-wide); few, kept small. */
    private final Map<Long, Long> heldUntil = new HashMap<>();
    /** The {@code x-message-deduplication} windows' ids. */
    public final DeduplicationReplay deduplication = new DeduplicationReplay();

    /**
     * @param unclean the broker did not shut down cleanly: any message may have been out for delivery,
     *     so every recovered one is flagged redelivered
     */
    public JournalReplay(boolean unclean) {
        this.unclean = unclean;
    }

    @Override
    public void record(long position, byte[] payload) {
        record(position, payload, 0, payload.length);
    }

    /** Decodes in place: nothing of the payload outlives the call (names come from {@link #names}). */
    @Override
    public void record(long position, byte[] data, int offset, int length) {
        if (JournalRecords.isDedup(data, offset, length)) {
            maxSeq = Math.max(maxSeq, deduplication.record(position, data, offset, length));
            return;
        }
        JournalRecords.Decoded r;
        try {
            r = JournalRecords.decode(data, offset, length, names, false);
        } catch (IllegalArgumentException e) {
            log.error("skipping an unreadable journal record at position {}: {}", position, e.getMessage());
            return;
        }
        maxSeq = Math.max(maxSeq, r.seq());
        if (r.isEnqueue()) {
            vhosts.computeIfAbsent(r.vhost(), v -> new HashMap<>()).computeIfAbsent(r.queue(), n -> new ReplayedQueue())
                    .put(QueueEntry.pagedOut(r.seq(), r.bodySize(), r.redelivered() || unclean, r.deliveryCount(),
                            r.enqueuedAtMillis(), r.expiresAtMillis(), position, r.priority()));
            return;
        }
        ReplayedQueue q = find(r.vhost(), r.queue());
        if (q == null) {
            return;
        }
        if (r.type() == JournalRecords.DELIVERED || r.type() == JournalRecords.HELD) {
            QueueEntry e = q.get(r.seq());
            if (e != null) {
                q.replace(QueueEntry.pagedOut(e.seq(), e.sizeBytes(), true,
                        Math.max(e.deliveryCount(), r.deliveryCount()), e.enqueuedAtMillis(), e.expiresAtMillis(),
                        e.storeRef, e.priority()));
                if (r.type() == JournalRecords.HELD) {
                    heldUntil.put(r.seq(), r.readyAtMillis());
                }
            }
        } else {
            q.remove(r.seq());
            heldUntil.remove(r.seq());
        }
    }

    private ReplayedQueue find(String vhost, String queue) {
        Map<String, ReplayedQueue> queues = vhosts.get(vhost);
        return queues == null ? null : queues.get(queue);
    }

    /**
     * The queue's recovered entries in position order (none if none), each pointing at its record and made as the
     * iteration reaches it (so a queue paging its index out never holds them all); each queue is taken once.
     */
    public Iterable<QueueEntry> take(String vhost, String queue) {
        Map<String, ReplayedQueue> queues = vhosts.get(vhost);
        ReplayedQueue q = queues == null ? null : queues.remove(queue);
        return q == null ? List.of() : q::entries;
    }

    /** What one queue's live records add up to (see {@link #contents}). */
    public record QueueContents(String vhost, String queue, long messages, long bodyBytes) {}

    /**
     * Every queue the journal holds live messages for, sorted by vhost and name, as replayed so far and
     * before any is {@link #take taken}: for {@code holdfast verify}.
     */
    public List<QueueContents> contents() {
        List<QueueContents> out = new ArrayList<>();
        for (var v : new TreeMap<>(vhosts).entrySet()) {
            for (var q : new TreeMap<>(v.getValue()).entrySet()) {
                long bytes = 0;
                for (Iterator<QueueEntry> it = q.getValue().entries(); it.hasNext(); ) {
                    bytes += it.next().sizeBytes();
                }
                if (q.getValue().size() > 0) {
                    out.add(new QueueContents(v.getKey(), q.getKey(), q.getValue().size(), bytes));
                }
            }
        }
        return out;
    }

    /**
     * When {@code x-redelivery-backoff} lets the message at {@code seq} go, from its last HELD record; -1 if it
     * was never held (a past time means it is due at once).
     */
    public long heldUntil(long seq) {
        return heldUntil.getOrDefault(seq, -1L);
    }

    /** The highest position any record named, so new positions are never reused. */
    public long maxSeq() {
        return maxSeq;
    }
}
