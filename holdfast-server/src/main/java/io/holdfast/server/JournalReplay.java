package io.holdfast.server;

import io.holdfast.store.RecordVisitor;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Rebuilds, from the journal records in journal order, what each queue held: ENQUEUE adds (a later
 * copy of the same position, written by compaction, replaces the earlier one), DELIVERED amends,
 * REMOVE deletes. Positions almost always arrive in order, so each queue keeps an insertion-ordered
 * map and is sorted only if compaction moved something. Used once, on the opening thread.
 */
final class JournalReplay implements RecordVisitor {
    private static final Logger log = LoggerFactory.getLogger(JournalReplay.class);

    /** A message recovered for a queue, and the segment holding its newest enqueue record. */
    record Recovered(JournalRecords.Decoded record, long segment) {}

    private static final class QueueLog {
        final LinkedHashMap<Long, Recovered> entries = new LinkedHashMap<>();
        long lastSeq;
        boolean inOrder = true;
    }

    private final Map<String, Map<String, QueueLog>> vhosts = new HashMap<>();
    private final JournalRecords.Names names = new JournalRecords.Names();
    private long maxSeq;

    @Override
    public void record(long segment, byte[] payload) {
        JournalRecords.Decoded r;
        try {
            r = JournalRecords.decode(payload, names);
        } catch (IllegalArgumentException e) {
            log.error("skipping an unreadable journal record in segment {}: {}", segment, e.getMessage());
            return;
        }
        maxSeq = Math.max(maxSeq, r.seq());
        if (r.isEnqueue()) {
            QueueLog q = vhosts.computeIfAbsent(r.vhost(), v -> new HashMap<>())
                    .computeIfAbsent(r.queue(), n -> new QueueLog());
            if (r.seq() <= q.lastSeq) {
                q.inOrder = false;
            }
            q.lastSeq = Math.max(q.lastSeq, r.seq());
            q.entries.put(r.seq(), new Recovered(r, segment));
            return;
        }
        QueueLog q = find(r.vhost(), r.queue());
        if (q == null) {
            return;
        }
        if (r.type() == JournalRecords.DELIVERED) {
            q.entries.computeIfPresent(r.seq(), (seq, e) -> new Recovered(e.record().deliveredAgain(r), e.segment()));
        } else {
            q.entries.remove(r.seq());
        }
    }

    private QueueLog find(String vhost, String queue) {
        Map<String, QueueLog> queues = vhosts.get(vhost);
        return queues == null ? null : queues.get(queue);
    }

    /** The queue's recovered messages in position order (empty if none); each queue is taken once. */
    List<Recovered> take(String vhost, String queue) {
        Map<String, QueueLog> queues = vhosts.get(vhost);
        QueueLog q = queues == null ? null : queues.remove(queue);
        if (q == null) {
            return List.of();
        }
        List<Recovered> out = new ArrayList<>(q.entries.values());
        if (!q.inOrder) {
            out.sort(Comparator.comparingLong(e -> e.record().seq()));
        }
        return out;
    }

    /** The highest position any record named, so new positions are never reused. */
    long maxSeq() {
        return maxSeq;
    }
}
