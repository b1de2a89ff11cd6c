package io.holdfast.server.persistence;

import io.holdfast.core.Broker;
import io.holdfast.core.Queue;
import io.holdfast.core.QueueEntry;
import io.holdfast.core.VirtualHost;
import io.holdfast.store.Journal;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Gives disk space back when a few old messages pin it. The journal deletes only a prefix of fully
 * settled segments, so one long-lived message in the oldest segment would keep every newer segment
 * on disk. When the oldest closed segment holds few live records, their messages are written again
 * at the head and the old copies settled; the segment then goes. Broker thread only, one round at a
 * time.
 *
 * <p>Only a segment that is stuck is compacted: the oldest, with the same few live records at two checks in a
 * row. A segment whose records are being settled (the head of a backlog being drained) goes by itself soon;
 * rewriting it would read every one of its cold messages on the broker thread and write them again, just
 * before they are delivered, and stall every queue while it did (issue 10 item 3).
 */
public final class Compactor {
    private static final Logger log = LoggerFactory.getLogger(Compactor.class);
    /** Rewrite at most this many messages per round: cheap enough to do while serving. */
    static final int MAX_LIVE_TO_MOVE = 2000;

    private final Broker broker;
    private final Journal journal;
    private final JournalStore store;
    private int inFlight;
    /** Records the current round started moving (for its log line). */
    private int moved;
    /** The oldest closed segment at the previous check, or null. */
    private Journal.SegmentLiveness lastSeen;

    public Compactor(Broker broker, Journal journal, JournalStore store) {
        this.broker = broker;
        this.journal = journal;
        this.store = store;
    }

    /** Starts a round if the oldest segment is stuck and worth it and no round is running; returns messages moved. */
    public int maybeCompact() {
        if (inFlight > 0) {
            return 0;
        }
        Journal.SegmentLiveness oldest = journal.oldestClosedSegment();
        boolean stuck = oldest != null && oldest.equals(lastSeen);
        lastSeen = oldest;
        if (!stuck || oldest.liveRecords() == 0 || oldest.liveRecords() > MAX_LIVE_TO_MOVE) {
            return 0;
        }
        long segment = oldest.segmentId();
        moved = 0;
        for (VirtualHost v : broker.virtualHosts()) {
            for (Queue q : v.queues()) {
                if (q.durable()) {
                    q.forEachEntry(e -> {
                        if (!e.removed && in(segment, e.storeRef)) {
                            store.relocate(q, e, moving());
                        }
                    });
                }
            }
        }
        broker.delayedMessages().forEach((holding, e) -> {
            if (holding.durable() && !e.removed && in(segment, e.storeRef)) {
                store.relocate(holding, e, moving());
            }
        });
        broker.deduplication().forEach((q, id) -> {
            if (!id.forgotten && in(segment, id.storeRef)) {
                store.relocate(q, id, moving());
            }
        });
        if (moved > 0) {
            log.info("compacting journal segment {}: rewriting its {} live messages so it can be deleted", segment,
                    moved);
        }
        return moved;
    }

    /** True if the record at {@code storeRef} (-1: not written yet) lies in {@code segment}. */
    private static boolean in(long segment, long storeRef) {
        return storeRef >= 0 && Journal.segmentOf(storeRef) == segment;
    }

    /** Counts one more record of this round as being moved; the callback returned counts it done. */
    private Runnable moving() {
        moved++;
        inFlight++;
        return () -> inFlight--;
    }
}
