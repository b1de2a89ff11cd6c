package io.holdfast.server;

import io.holdfast.core.MessageStore;
import io.holdfast.core.Queue;
import io.holdfast.core.QueueEntry;
import io.holdfast.store.Journal;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Puts the core's persistent messages in the journal. An enqueue record is "live" until the message
 * leaves its queue; the write's completion comes back to the broker thread, where it counts toward
 * the {@link WriteBarrier} of the command that caused it (so a confirm waits for the fsync). Broker
 * thread only, apart from the journal's own callbacks which hop back onto it.
 */
final class JournalStore implements MessageStore {
    private static final Logger log = LoggerFactory.getLogger(JournalStore.class);

    private final Journal journal;
    private final BrokerLoop loop;
    private WriteBarrier barrier;

    JournalStore(Journal journal, BrokerLoop loop) {
        this.journal = journal;
        this.loop = loop;
    }

    /** The barrier that writes issued from now on belong to, or null. */
    void barrier(WriteBarrier b) {
        this.barrier = b;
    }

    @Override
    public void enqueued(Queue queue, QueueEntry entry) {
        WriteBarrier b = barrier;
        if (b != null) {
            b.writeStarted();
        }
        writeEnqueue(queue, entry, ok -> {
            if (b != null) {
                b.writeFinished(ok);
            }
        });
    }

    @Override
    public void removed(Queue queue, QueueEntry entry) {
        journal.append(JournalRecords.remove(queue, entry), false, (segment, error) -> { });
        if (entry.storeRef >= 0) {
            journal.settle(entry.storeRef);
        }
    }

    /**
     * Compaction of one entry: writes its enqueue record again at the head of the journal and, once
     * that copy is durable, settles the old one, so the old segment can go. Until then the old copy
     * stays live: a crash in between finds the message twice with one position, which replay merges.
     */
    void relocate(Queue queue, QueueEntry entry, Runnable done) {
        writeEnqueue(queue, entry, ok -> done.run());
    }

    /**
     * Appends an enqueue record for the entry; once it is durable (back on the broker thread) the entry
     * points at the new copy and any earlier copy is settled. If the entry left its queue meanwhile,
     * its removal settled the earlier copy and the new one is settled at once.
     */
    private void writeEnqueue(Queue queue, QueueEntry entry, java.util.function.Consumer<Boolean> done) {
        journal.append(JournalRecords.enqueue(queue, entry), true, (segment, error) -> loop.execute(() -> {
            if (error != null) {
                log.error("journal append failed for a message on queue '{}' in vhost '{}': {}", queue.name(),
                        queue.vhost(), error.toString());
            } else if (entry.removed) {
                journal.settle(segment);
            } else {
                long previous = entry.storeRef;
                entry.storeRef = segment;
                if (previous >= 0) {
                    journal.settle(previous);
                }
            }
            done.accept(error == null);
        }));
    }
}
