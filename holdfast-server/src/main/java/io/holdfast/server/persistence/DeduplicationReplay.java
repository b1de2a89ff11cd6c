package io.holdfast.server.persistence;

import io.holdfast.core.Deduplication;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Collects, during a journal replay, the DEDUP records of each queue's {@code x-message-deduplication} window
 * (see {@link JournalRecords}): per message-id the record with the highest position (for one position, the
 * latest copy, written by compaction). Records of ids that had left their window are among them, since
 * evictions are not recorded: {@link Deduplication#restore} applies each window's bound again and says which
 * to keep. Used once, on the opening thread.
 */
public final class DeduplicationReplay {
    private static final Logger log = LoggerFactory.getLogger(DeduplicationReplay.class);

    private final Map<String, Map<String, Map<String, Deduplication.Remembered>>> vhosts = new HashMap<>();
    private final JournalRecords.Names names = new JournalRecords.Names();

    /** Takes a DEDUP or DUPLICATE record; returns the position it names (0 for none). */
    long record(long position, byte[] data, int offset, int length) {
        JournalRecords.DedupDecoded r;
        try {
            r = JournalRecords.decodeDedup(data, offset, length, names);
        } catch (IllegalArgumentException e) {
            log.error("skipping an unreadable journal record at position {}: {}", position, e.getMessage());
            return 0;
        }
        if (r.type() != JournalRecords.DEDUP) {
            return 0; // DUPLICATE only ordered a confirm
        }
        Map<String, Deduplication.Remembered> ids = vhosts.computeIfAbsent(r.vhost(), v -> new HashMap<>())
                .computeIfAbsent(r.queue(), q -> new HashMap<>());
        Deduplication.Remembered seen = ids.get(r.messageId());
        if (seen == null || r.seq() >= seen.seq()) {
            ids.put(r.messageId(), Deduplication.Remembered.recovered(r.messageId(), r.seq(), r.timeMillis(),
                    position));
        }
        return r.seq();
    }

    /** The ids recorded for the queue (in no particular order; empty if none); each queue is taken once. */
    public List<Deduplication.Remembered> take(String vhost, String queue) {
        Map<String, Map<String, Deduplication.Remembered>> queues = vhosts.get(vhost);
        Map<String, Deduplication.Remembered> ids = queues == null ? null : queues.remove(queue);
        return ids == null ? List.of() : new ArrayList<>(ids.values());
    }
}
