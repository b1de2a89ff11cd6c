package io.holdfast.server.persistence;

import io.holdfast.core.Message;
import io.holdfast.core.Queue;
import io.holdfast.core.QueueEntry;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Consumer;

/**
 * Reads paged-out messages back on reader threads, ahead of their delivery, so that a queue draining a cold
 * backlog waits for the disk alone while every other queue goes on. When a queue's paged-out head is asked
 * for and not here yet, the reads start with it and take the entries that follow it in delivery order, within
 * bounds (per queue, messages and bytes; over all queues, bytes): that is the backpressure, a queue is read
 * ahead only as far as it delivers. The results come back to the broker thread keyed by entry, so the order in
 * which reads finish does not matter: the queue delivers from its head, in order, as far as its entries are
 * here, and is told to deliver again ({@link #onArrival}) when more arrive.
 *
 * <p>An entry that leaves its queue while its read is in flight ({@link #forget}: acked, expired, purged, its
 * queue deleted) is dropped when the read returns, whatever the read found: its record may already be settled
 * and its segment deleted. A read that failed at a position the entry no longer has (compaction moved it) is
 * forgotten so that the next ask reads the new place. Only a failure at the entry's current position is kept,
 * for the store to report and the core to drop: damaged bytes are never served.
 *
 * <p>Broker thread only; the reads run on {@code readers} and hop back with {@code loop}.
 */
final class ReadAhead {
    /** Reads the message of an entry at a position; called on a reader thread. */
    interface Reader {
        Message read(Queue queue, QueueEntry entry, long position) throws Exception;
    }

    /** What a read found, for the store: the message, or why it could not be read at {@code position}. */
    record Outcome(Message message, Exception error, long position) {}

    /** Reads one task takes at most, so that the first results come back while the rest are read. */
    private static final int BATCH_MAX = 64;

    private final Reader reader;
    private final Executor readers;
    private final Executor loop;
    private final int queueMessagesMax;
    private final long queueBytesMax;
    private final long totalBytesMax;
    private final Map<QueueEntry, Slot> slots = new IdentityHashMap<>();
    private final Map<Queue, Window> windows = new IdentityHashMap<>();
    private long totalBytes;
    private Consumer<Queue> arrived = q -> { };

    /** One entry asked for: in flight until {@link #done}. */
    private static final class Slot {
        final Queue queue;
        final long position;
        boolean done;
        Outcome outcome;

        Slot(Queue queue, long position) {
            this.queue = queue;
            this.position = position;
        }
    }

    /** What a queue has asked for and not yet taken. */
    private static final class Window {
        int messages;
        long bytes;
    }

    ReadAhead(Reader reader, Executor readers, Executor loop, int queueMessagesMax, long queueBytesMax,
              long totalBytesMax) {
        this.reader = reader;
        this.readers = readers;
        this.loop = loop;
        this.queueMessagesMax = queueMessagesMax;
        this.queueBytesMax = queueBytesMax;
        this.totalBytesMax = totalBytesMax;
    }

    /** Called on the broker thread when reads for a queue came back: it may deliver again. */
    void onArrival(Consumer<Queue> listener) {
        this.arrived = listener;
    }

    /**
     * True if the message of {@code head}, the paged-out entry {@code queue} delivers next, has been read (or
     * found unreadable); {@link #take} then gives it. Otherwise starts reading it, if it is not being read, and
     * answers false. Either way tops up the reads ahead of it, once a batch's worth of room is free: reads are
     * kept that far ahead, so that a reader thread slow to be scheduled does not leave the queue waiting.
     */
    boolean readable(Queue queue, QueueEntry head) {
        Slot s = slots.get(head);
        Window w = windows.get(queue);
        if (s == null || w == null || w.messages <= queueMessagesMax - Math.min(BATCH_MAX, queueMessagesMax / 2)) {
            readAhead(queue, head);
        }
        return s != null && s.done;
    }

    /**
     * What was read for {@code entry}, or null if nothing was (not asked for, or still in flight); either way the
     * entry is no longer read ahead, and a read still in flight is dropped when it returns.
     */
    Outcome take(QueueEntry entry) {
        Slot s = forget(entry);
        return s != null && s.done ? s.outcome : null;
    }

    /** The entry left its queue: what was read for it goes, and a read in flight is dropped when it returns. */
    Slot forget(QueueEntry entry) {
        Slot s = slots.remove(entry);
        if (s != null) {
            Window w = windows.get(s.queue);
            w.messages--;
            w.bytes -= entry.sizeBytes();
            totalBytes -= entry.sizeBytes();
            if (w.messages == 0) {
                windows.remove(s.queue);
            }
        }
        return s;
    }

    /** Entries asked for and not yet taken or forgotten, over all queues. */
    int size() {
        return slots.size();
    }

    /** Body bytes asked for and not yet taken or forgotten, over all queues. */
    long bytes() {
        return totalBytes;
    }

    /**
     * Asks for {@code head} (always, so that a queue makes progress whatever the bounds) and the paged-out entries
     * after it, in delivery order, that are not asked for yet, while the bounds allow.
     */
    private void readAhead(Queue queue, QueueEntry head) {
        Window w = windows.computeIfAbsent(queue, q -> new Window());
        List<QueueEntry> batch = new ArrayList<>();
        int looked = 0;
        for (Iterator<QueueEntry> it = queue.readyInOrder(); it.hasNext() && looked < 2 * queueMessagesMax; looked++) {
            QueueEntry e = it.next();
            if (e.residentMessage() != null || e.storeRef < 0 || slots.containsKey(e)) {
                continue;
            }
            if (e != head && (w.messages >= queueMessagesMax || w.bytes + e.sizeBytes() > queueBytesMax
                    || totalBytes + e.sizeBytes() > totalBytesMax)) {
                break;
            }
            slots.put(e, new Slot(queue, e.storeRef));
            w.messages++;
            w.bytes += e.sizeBytes();
            totalBytes += e.sizeBytes();
            batch.add(e);
            if (batch.size() == BATCH_MAX) {
                submit(queue, batch);
                batch = new ArrayList<>();
            }
        }
        if (!batch.isEmpty()) {
            submit(queue, batch);
        }
        if (w.messages == 0) {
            windows.remove(queue);
        }
    }

    private void submit(Queue queue, List<QueueEntry> batch) {
        long[] positions = new long[batch.size()];
        for (int i = 0; i < positions.length; i++) {
            positions[i] = slots.get(batch.get(i)).position;
        }
        try {
            readers.execute(() -> {
                Outcome[] outcomes = new Outcome[positions.length];
                for (int i = 0; i < positions.length; i++) {
                    outcomes[i] = read(queue, batch.get(i), positions[i]);
                }
                loop.execute(() -> arrived(queue, batch, outcomes));
            });
        } catch (RejectedExecutionException e) {
            batch.forEach(this::forget); // shutting down: the queue stops delivering, as the broker does
        }
    }

    private Outcome read(Queue queue, QueueEntry entry, long position) {
        try {
            return new Outcome(reader.read(queue, entry, position), null, position);
        } catch (Exception e) {
            return new Outcome(null, e, position);
        }
    }

    /** Keeps what was read; the queue is told even when nothing was kept, since its head may be read again now. */
    private void arrived(Queue queue, List<QueueEntry> batch, Outcome[] outcomes) {
        for (int i = 0; i < outcomes.length; i++) {
            QueueEntry e = batch.get(i);
            Slot s = slots.get(e);
            if (s == null || s.done) {
                continue; // taken (read again by the store itself) or forgotten meanwhile
            }
            if (e.removed || (outcomes[i].error() != null && e.storeRef != s.position)) {
                forget(e); // gone, or moved by compaction: the failure says nothing of the copy it has now
            } else {
                s.done = true;
                s.outcome = outcomes[i];
            }
        }
        arrived.accept(queue);
    }
}
