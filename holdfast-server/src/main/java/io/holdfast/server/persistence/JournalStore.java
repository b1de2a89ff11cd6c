package io.holdfast.server.persistence;

import io.holdfast.core.Deduplication;
import io.holdfast.core.IndexPages;
import io.holdfast.core.Message;
import io.holdfast.core.MessageStore;
import io.holdfast.core.Queue;
import io.holdfast.core.QueueEntry;
import io.holdfast.protocol.BasicProperties;
import io.holdfast.store.Journal;
import java.io.IOException;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Puts the core's persistent messages in the journal, and keeps memory bounded by paging their bodies
 * out. An enqueue record is "live" until the message leaves its queue; the write's completion comes
 * back to the broker thread, where it counts toward the {@link WriteBarrier} of the command that caused
 * it (so a confirm waits for the fsync).
 *
 * <p><b>Paging.</b> Once a message's record is written, the entry points at it ({@link QueueEntry#storeRef}
 * is the record's journal position). Stored messages stay in memory while their bodies fit in
 * {@code residentBytesMax}; beyond that a stored message is dropped from memory at once and read back
 * from the journal (CRC checked) when it is delivered. A queue that keeps up with its publishers never
 * reads the journal; a backlog costs memory only for its compact index. A record that no longer reads
 * back intact is never served: it is logged, counted, and the core drops the entry.
 *
 * <p><b>Reads.</b> Deliveries to consumers read on {@value #READER_THREADS} reader threads, ahead of the queue's
 * head ({@link ReadAhead}: up to {@value #READ_AHEAD_MESSAGES} messages or {@value #READ_AHEAD_QUEUE_MIB} MiB per
 * queue, {@value #READ_AHEAD_TOTAL_MIB} MiB in all), so a cold queue waits for the disk while the broker thread
 * serves the others. basic.get, dead-lettering and compaction still read on the broker thread (one message at a
 * time, or what the read-ahead already holds).
 *
 * <p>Broker thread only, apart from the journal's own callbacks and the reads, which hop back onto it.
 */
public final class JournalStore implements MessageStore, IndexPages {
    private static final Logger log = LoggerFactory.getLogger(JournalStore.class);
    static final int READER_THREADS = 2;
    static final int READ_AHEAD_MESSAGES = 2048;
    static final int READ_AHEAD_QUEUE_MIB = 8;
    static final int READ_AHEAD_TOTAL_MIB = 32;

    private final Journal journal;
    /** The broker thread: journal completions hop back onto it. */
    private final Executor loop;
    private final long residentBytesMax;
    private final JournalRecords.Names names = new JournalRecords.Names();
    private final DeduplicationJournal deduplication;
    private final ExecutorService readers;
    private final ReadAhead readAhead;
    /** Where queues page their index out, or null to keep it in memory. */
    private final IndexPageFiles pages;
    /** Entries compaction is writing again: their position is about to change, so they are not paged out. */
    private final Set<QueueEntry> relocating = Collections.newSetFromMap(new IdentityHashMap<>());
    private WriteBarrier barrier;
    /** Body bytes of stored messages kept in memory (not counting those whose write is in flight). */
    private long residentBytes;
    private long reads;
    /** Enqueue writes failed in a row; logged at the first and when they succeed again. */
    private long failedAppends;
    /** Written on the broker thread, read by the health check. */
    private volatile long readFailures;

    public JournalStore(Journal journal, Executor loop, long residentBytesMax) {
        this(journal, loop, residentBytesMax, null);
    }

    /** As above, with queues paging the index of a long backlog out to {@code pages} (null: not at all). */
    JournalStore(Journal journal, Executor loop, long residentBytesMax, IndexPageFiles pages) {
        this.journal = journal;
        this.pages = pages;
        this.loop = loop;
        this.residentBytesMax = residentBytesMax;
        this.deduplication = new DeduplicationJournal(journal, loop);
        AtomicInteger readerIds = new AtomicInteger();
        this.readers = Executors.newFixedThreadPool(READER_THREADS, r -> {
            Thread t = new Thread(r, "holdfast-journal-reader-" + readerIds.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        ThreadLocal<JournalRecords.Names> readerNames = ThreadLocal.withInitial(JournalRecords.Names::new);
        this.readAhead = new ReadAhead((q, e, position) -> read(q, e, position, readerNames.get()), readers, loop,
                READ_AHEAD_MESSAGES, (long) READ_AHEAD_QUEUE_MIB << 20, (long) READ_AHEAD_TOTAL_MIB << 20);
    }

    /** Called on the broker thread when messages a queue waited for have been read (see {@link #readable}). */
    public void onReadable(java.util.function.Consumer<Queue> listener) {
        readAhead.onArrival(listener);
    }

    /**
     * Opens the index pages under {@code dataDir} (deleting a previous run's: the journal is what recovery reads)
     * and a store whose queues page their index out there, in files of at most {@code pageFileBytesMax}.
     */
    public static JournalStore paging(Journal journal, Executor loop, long residentBytesMax, java.nio.file.Path dataDir,
                                      long pageFileBytesMax) throws IOException {
        return new JournalStore(journal, loop, residentBytesMax, IndexPageFiles.open(dataDir, pageFileBytesMax));
    }

    /** Stops the reader threads; reads in flight finish, and their results are not delivered. */
    public void close() {
        readers.shutdown();
    }

    /** Deletes the index pages, once the queues are no longer read (after the shutdown's last records). */
    public void closeIndexPages() {
        if (pages != null) {
            pages.close();
        }
    }

    @Override
    public IndexPages indexPages() {
        return pages == null ? null : this;
    }

    /**
     * Pages the entries out if each one's enqueue record is written and not being moved: their messages leave
     * memory, and the read-ahead forgets them (the queue gets new objects back).
     */
    @Override
    public long write(Queue queue, List<QueueEntry> entries) {
        for (QueueEntry e : entries) {
            if (e.storeRef < 0 || e.removed || !e.persistent() || relocating.contains(e)) {
                return -1;
            }
        }
        long page = pages.write(entries);
        if (page < 0) {
            return -1;
        }
        for (QueueEntry e : entries) {
            readAhead.forget(e);
            if (e.residentMessage() != null) {
                residentBytes -= e.sizeBytes();
                e.pageOut();
            }
        }
        return page;
    }

    @Override
    public List<QueueEntry> read(Queue queue, long page) {
        List<QueueEntry> out = pages.read(page);
        if (out == null) {
            readFailures = readFailures + 1;
        }
        return out;
    }

    @Override
    public void free(long page) {
        pages.free(page);
    }

    /** Index page files on disk (0 without paging). */
    public int indexPageFiles() {
        return pages == null ? 0 : pages.fileCount();
    }

    /** The barrier that writes issued from now on belong to, or null. */
    public void barrier(WriteBarrier b) {
        this.barrier = b;
    }

    /** The barrier set now, or null: writes made elsewhere for the same command (a cluster's commit) count in it. */
    public WriteBarrier currentBarrier() {
        return barrier;
    }

    @Override
    public void enqueued(Queue queue, QueueEntry entry) {
        WriteBarrier b = barrier;
        if (b != null) {
            b.writeStarted();
        }
        writeEnqueue(queue, entry, entry.residentMessage(), ok -> {
            if (b != null) {
                b.writeFinished(ok);
            }
        });
    }

    @Override
    public void removed(Queue queue, QueueEntry entry) {
        journal.append(JournalRecords.remove(queue, entry), false, (position, error) -> { });
        readAhead.forget(entry);
        if (entry.storeRef >= 0) {
            if (entry.residentMessage() != null) {
                residentBytes -= entry.sizeBytes();
            }
            journal.settle(entry.storeRef);
        }
    }

    /**
     * Records the entry's new delivery count (a DELIVERED record, not live: replay applies it to the
     * enqueue record before it, and compaction rewrites the enqueue record with the current count).
     */
    @Override
    public void returned(Queue queue, QueueEntry entry) {
        journal.append(JournalRecords.delivered(queue, entry), false, (position, error) -> { });
    }

    /**
     * As {@link #returned}, as a HELD record that also carries when the queue's backoff lets the entry go, so
     * that after a restart it is still held back until then.
     */
    @Override
    public void held(Queue queue, QueueEntry entry, long readyAtMillis) {
        journal.append(JournalRecords.held(queue, entry, readyAtMillis), false, (position, error) -> { });
    }

    @Override
    public void remembered(Queue queue, Deduplication.Remembered id) {
        deduplication.remembered(queue, id, barrier);
    }

    @Override
    public void forgotten(Queue queue, Deduplication.Remembered id) {
        deduplication.forgotten(id);
    }

    @Override
    public void duplicate(Queue queue, String messageId) {
        deduplication.duplicate(queue, messageId, barrier);
    }

    /** Compaction of a deduplication window's id (see {@link DeduplicationJournal#relocate}). */
    void relocate(Queue queue, Deduplication.Remembered id, Runnable done) {
        deduplication.relocate(queue, id, done);
    }

    @Override
    public boolean readable(Queue queue, QueueEntry head) {
        return readAhead.readable(queue, head);
    }

    /** The message read ahead for the entry, or else read now, on this thread. */
    @Override
    public Message load(Queue queue, QueueEntry entry) {
        reads++;
        ReadAhead.Outcome read = readAhead.take(entry);
        long position = read != null ? read.position() : entry.storeRef;
        try {
            if (read == null) {
                return read(queue, entry, position, names);
            }
            if (read.error() != null) {
                throw read.error();
            }
            return read.message();
        } catch (Exception e) {
            readFailures = readFailures + 1;
            log.error("message seq {} on queue '{}' in vhost '{}' cannot be read back from journal segment {} offset "
                    + "{} and is dropped, never delivered: {}", entry.seq(), queue.name(), queue.vhost(),
                    Journal.segmentOf(position), Journal.offsetOf(position), e.toString());
            return null;
        }
    }

    /** Reads and checks the entry's enqueue record at {@code position}; any thread, with its own {@code names}. */
    private Message read(Queue queue, QueueEntry entry, long position, JournalRecords.Names names) throws IOException {
        JournalRecords.Decoded r = JournalRecords.decode(journal.read(position), names, true);
        if (!r.isEnqueue() || r.seq() != entry.seq() || !r.queue().equals(queue.name())
                || !r.vhost().equals(queue.vhost())) {
            throw new IOException("the record there is " + (r.isEnqueue() ? "seq " + r.seq() + " of queue '"
                    + r.queue() + "'" : "not an enqueue record"));
        }
        return new Message(r.exchange(), r.routingKey(), r.properties(),
                BasicProperties.decode(r.properties()).headers(), true, Message.NO_EXPIRATION, r.body());
    }

    /**
     * Compaction of one entry: writes its enqueue record again at the head of the journal and, once
     * that copy is durable, settles the old one, so the old segment can go. Until then the old copy
     * stays live: a crash in between finds the message twice with one position, which replay merges.
     * A paged-out message is read back for the copy; one that no longer reads is left where it is (its
     * next delivery drops it).
     */
    void relocate(Queue queue, QueueEntry entry, Runnable done) {
        Message m = entry.residentMessage() != null ? entry.residentMessage() : load(queue, entry);
        if (m == null) {
            done.run();
            return;
        }
        relocating.add(entry);
        writeEnqueue(queue, entry, m, ok -> {
            relocating.remove(entry);
            done.run();
        });
        long heldUntil = queue.heldUntilMillis(entry);
        if (heldUntil >= 0) {
            held(queue, entry, heldUntil); // after the copy, which replay takes as the entry's new start
        }
    }

    /**
     * Once durable, the entry points at its new copy and any earlier copy is settled; if the entry left
     * its queue meanwhile (its removal settled the earlier copy), the new one is settled at once. On the
     * first write the message stays in memory if the budget allows, and is paged out otherwise.
     */
    private void stored(QueueEntry entry, long position) {
        if (entry.removed) {
            journal.settle(position);
            return;
        }
        long previous = entry.storeRef;
        entry.storeRef = position;
        if (previous >= 0) {
            journal.settle(previous);
        } else if (residentBytes + entry.sizeBytes() <= residentBytesMax) {
            residentBytes += entry.sizeBytes();
        } else {
            entry.pageOut();
        }
    }

    /** A full disk fails every write: say so once, and once more when writes work again. */
    private void appendFailed(Queue queue, Throwable error) {
        if (failedAppends++ == 0) {
            log.error("journal appends failing: publishes are nacked until they succeed again; first failure, for "
                    + "a message on queue '{}' in vhost '{}': {}", queue.name(), queue.vhost(), error.toString());
        }
    }

    private void appendSucceeded() {
        if (failedAppends > 0) {
            log.warn("journal appends succeed again after {} failed", failedAppends);
            failedAppends = 0;
        }
    }

    /** Body bytes of stored messages held in memory. */
    public long residentBytes() { return residentBytes; }

    /** Paged-out messages read back from the journal, since start. */
    public long reads() { return reads; }

    /** Paged-out messages, and index pages, that did not read back intact (never delivered), since start. */
    public long readFailures() { return readFailures; }

    /** Appends an enqueue record for the entry and, once it is durable, {@link #stored records where}. */
    private void writeEnqueue(Queue queue, QueueEntry entry, Message m, java.util.function.Consumer<Boolean> done) {
        journal.append(JournalRecords.enqueue(queue, entry, m), true, (position, error) -> loop.execute(() -> {
            if (error != null) {
                appendFailed(queue, error);
            } else {
                appendSucceeded();
                stored(entry, position);
            }
            done.accept(error == null);
        }));
    }
}
