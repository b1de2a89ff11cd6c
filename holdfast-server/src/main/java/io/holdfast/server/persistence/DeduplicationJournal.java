package io.holdfast.server.persistence;

import io.holdfast.core.Deduplication;
import io.holdfast.core.Queue;
import io.holdfast.store.Journal;
import java.util.concurrent.Executor;

/**
 * Keeps the {@code x-message-deduplication} windows of durable queues in the journal (the DEDUP and DUPLICATE
 * records of {@link JournalRecords}), for {@link JournalStore}.
 *
 * <p><b>Durability.</b> When a persistent message's id enters a durable queue's window, a live DEDUP record is
 * appended just before the message's enqueue record, and counted in the publish's {@link WriteBarrier}: the
 * confirm, which waits for both, implies the id survives a crash. The record is settled when the id leaves the
 * window (or once written, if it left meanwhile); replay rebuilds the windows ({@link DeduplicationReplay}) and
 * compaction rewrites the records still live ({@link #relocate}).
 *
 * <p><b>Confirm order.</b> A retried publish whose original is still being written must not be confirmed
 * first, or a crash could lose both while the publisher believes the message safe. The retry may come on
 * another channel or connection (its publisher reconnected), so the per-channel {@code ConfirmTracker} order is
 * not enough. A duplicate therefore appends a small DUPLICATE record, counted in its barrier: the journal
 * writes and completes appends in the order they were made, so that record is durable, and the retry's
 * confirm sent, only after the original's DEDUP and enqueue records. The record is never live, so it costs no
 * disk beyond its segment.
 *
 * <p>Broker thread only, apart from the journal's callbacks, which hop back onto it.
 */
final class DeduplicationJournal {
    private final Journal journal;
    /** The broker thread: journal completions hop back onto it. */
    private final Executor loop;

    DeduplicationJournal(Journal journal, Executor loop) {
        this.journal = journal;
        this.loop = loop;
    }

    /** Appends the DEDUP record of {@code id}, counted in {@code barrier} (null: none). */
    void remembered(Queue queue, Deduplication.Remembered id, WriteBarrier barrier) {
        if (barrier != null) {
            barrier.writeStarted();
        }
        write(queue, id, ok -> {
            if (barrier != null) {
                barrier.writeFinished(ok);
            }
        });
    }

    /** The id left its window: its record may go (if not yet written, it is settled once it is). */
    void forgotten(Deduplication.Remembered id) {
        if (id.storeRef >= 0) {
            journal.settle(id.storeRef);
            id.storeRef = -1;
        }
    }

    /** Appends a DUPLICATE record, counted in {@code barrier}, so the confirm follows every earlier write. */
    void duplicate(Queue queue, String messageId, WriteBarrier barrier) {
        if (barrier == null) {
            return; // no confirm waits for it
        }
        barrier.writeStarted();
        journal.append(JournalRecords.duplicate(queue, messageId), false,
                (position, error) -> loop.execute(() -> barrier.writeFinished(error == null)));
    }

    /**
     * Compaction: writes the id's record again at the head of the journal and, once that copy is durable,
     * settles the old one. Replay orders by position, not by journal order, so the copy keeps its place.
     */
    void relocate(Queue queue, Deduplication.Remembered id, Runnable done) {
        write(queue, id, ok -> done.run());
    }

    private void write(Queue queue, Deduplication.Remembered id, java.util.function.Consumer<Boolean> done) {
        journal.append(JournalRecords.dedup(queue, id), true, (position, error) -> loop.execute(() -> {
            if (error != null && id.storeRef < 0) {
                id.writeFailed = true; // never stored: a retry must be stored, not confirmed as a duplicate
            } else if (error == null) {
                if (id.forgotten) {
                    journal.settle(position);
                } else {
                    long previous = id.storeRef;
                    id.storeRef = position;
                    if (previous >= 0) {
                        journal.settle(previous);
                    }
                }
            }
            done.accept(error == null);
        }));
    }
}
