package io.holdfast.server;

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
 */
final class Compactor {
    private static final Logger log = LoggerFactory.getLogger(Compactor.class);
    /** Rewrite at most this many messages per round: cheap enough to do while serving. */
    static final int MAX_LIVE_TO_MOVE = 2000;

    private final Broker broker;
    private final Journal journal;
    private final JournalStore store;
    private int inFlight;

    Compactor(Broker broker, Journal journal, JournalStore store) {
        this.broker = broker;
        this.journal = journal;
        this.store = store;
    }

    /** Starts a round if the oldest segment is worth it and no round is running; returns messages moved. */
    int maybeCompact() {
        if (inFlight > 0) {
            return 0;
        }
        Journal.SegmentLiveness oldest = journal.oldestClosedSegment();
        if (oldest == null || oldest.liveRecords() == 0 || oldest.liveRecords() > MAX_LIVE_TO_MOVE) {
            return 0;
        }
        long segment = oldest.segmentId();
        int moved = 0;
        for (VirtualHost v : broker.virtualHosts()) {
            for (Queue q : v.queues()) {
                if (!q.durable()) {
                    continue;
                }
                int[] count = {0};
                q.forEachEntry(e -> {
                    if (e.storeRef >= 0 && Journal.segmentOf(e.storeRef) == segment && !e.removed) {
                        count[0]++;
                        inFlight++;
                        store.relocate(q, e, () -> inFlight--);
                    }
                });
                moved += count[0];
            }
        }
        int[] delayed = {0};
        broker.delayedMessages().forEach((holding, e) -> {
            if (holding.durable() && e.storeRef >= 0 && Journal.segmentOf(e.storeRef) == segment && !e.removed) {
                delayed[0]++;
                inFlight++;
                store.relocate(holding, e, () -> inFlight--);
            }
        });
        moved += delayed[0];
        int[] ids = {0};
        broker.deduplication().forEach((q, id) -> {
            if (id.storeRef >= 0 && Journal.segmentOf(id.storeRef) == segment && !id.forgotten) {
                ids[0]++;
                inFlight++;
                store.relocate(q, id, () -> inFlight--);
            }
        });
        moved += ids[0];
        if (moved > 0) {
            log.info("compacting journal segment {}: rewriting its {} live messages so it can be deleted", segment,
                    moved);
        }
        return moved;
    }
}
