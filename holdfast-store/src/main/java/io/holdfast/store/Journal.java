package io.holdfast.store;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.zip.CRC32C;

/**
 * An append-only journal of opaque records in numbered segment files, with group commit and
 * crash recovery.
 *
 * <p><b>Files.</b> {@code <dir>/NNNNNNNNNNNNNNNNNNNN.seg}, the segment id zero-padded to 20 digits. Each
 * starts with a 20-byte header (magic "HFJS", format version 2, the distance to the previous segment,
 * segment id, header CRC32C), then records {@code [length u32][crc32c u32][payload]} whose CRC32C covers
 * the length and the payload; a closed segment ends with a 32-byte seal stating its record count and
 * length, so a closed segment that was cut short is reported instead of silently losing its end. Version
 * 1 files (no seal, no predecessor) are still read. The byte layout is drawn in {@link SegmentFormat};
 * what recovery does with each kind of damage is the decision table in {@link RecoveryTable}.
 *
 * <p><b>Positions.</b> A record is named by its <em>position</em>, a long packing the segment id (high 32
 * bits, below 2<sup>31</sup>) and the byte offset of the record's {@code [length][crc]} header in the
 * segment file (low 32 bits): see {@link #position}, {@link #segmentOf}, {@link #offsetOf}. The
 * {@link AppendCallback} and the recovery {@link RecordVisitor} hand it out; {@link #read} reads the record
 * back, {@link #settle} and {@link #retain} count it toward its segment's live records. A position stays
 * valid, across restarts too, until its segment is deleted.
 *
 * <p><b>Durability.</b> One writer thread takes everything queued since its last write as one batch,
 * writes it, forces it once ({@link FsyncPolicy#ALWAYS}) and only then runs the batch's callbacks in
 * order. No timer decides the batch size: the batch is whatever arrived while the previous write and
 * fsync ran, so under load many records share one fsync and an idle journal forces a lone record
 * at once. If a write or fsync fails, every callback of that batch gets the error, the segment is
 * abandoned (a failed fsync is never retried, because a retry can "succeed" after the kernel dropped the
 * dirty pages) and later appends go to a fresh segment: the journal stays usable. Under
 * {@link FsyncPolicy#INTERVAL} and {@link FsyncPolicy#NEVER} callbacks run once the batch is written;
 * their loss windows are described there.
 *
 * <p><b>Backpressure.</b> {@link #append} blocks the calling thread while more than 64 MiB
 * ({@link #PENDING_BYTES_MAX}) of records wait to be written (a single larger record is still accepted
 * when nothing else waits). Callers on event-loop threads should watch {@link #queuedBytes()} and slow their
 * producers before that. Appends made from a callback (on the writer thread) never block.
 *
 * <p><b>Deletion, and why only a prefix.</b> A record appended with {@code live = true} counts toward
 * its segment's live count until the owner {@link #settle settles} it. The writer deletes a segment once
 * it is not the active one, its live count is 0 <em>and every older segment is already deleted</em>.
 * Deleting an idle newer segment first would be unsafe: it may hold the non-live record that settled a
 * message in an older, still present segment (an ack), and replay would then find the message without
 * its ack and bring it back. Deleting only a prefix keeps, for every record still on disk, every record
 * written after it. Each deletion is followed by a directory fsync so a crash cannot undo an older
 * deletion while keeping a newer one.
 *
 * <p><b>After a restart</b> every recovered segment starts with a live count of 0; the owner
 * {@link #retain retains} each replayed record it still considers live. Deletion stays off until the
 * first {@link #settle} (or from the start if nothing was recovered), so the owner must make all its
 * retains before its first settle.
 *
 * <p><b>Threads.</b> {@link #append}, {@link #read}, {@link #settle}, {@link #retain} and the accessors may be
 * called from any thread. {@link #close} from any thread but the writer (not from a callback).
 */
public final class Journal implements AutoCloseable {
    /** Bound on bytes queued for the writer, including the batch it is writing. */
    public static final long PENDING_BYTES_MAX = 64L << 20;

    /** The largest segment id a {@link #position} can hold; the writer refuses to create a segment past it. */
    static final long SEGMENT_ID_MAX = (1L << 31) - 1;
    private static final long OFFSET_MAX = (1L << 32) - 1;

    private final JournalConfig config;
    private final Storage storage;
    private final RecoveryReport report;
    private final ConcurrentSkipListMap<Long, Segment> segments = new ConcurrentSkipListMap<>();
    private final long pendingBytesMax;
    private final JournalWriter writer;
    private final Thread writerThread;
    private volatile boolean deletionAllowed;

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition workAvailable = lock.newCondition();
    private final Condition spaceAvailable = lock.newCondition();
    private final ArrayDeque<PendingAppend> queue = new ArrayDeque<>(); // guarded by lock
    private long queuedBytes; // guarded by lock
    private boolean closed; // guarded by lock
    private boolean housekeepingRequested; // guarded by lock
    private boolean closeReported; // guarded by lock

    private Journal(JournalConfig config, Storage storage, JournalRecovery.Recovered recovered, long pendingBytesMax) {
        this.config = config;
        this.storage = storage;
        this.report = recovered.report();
        this.pendingBytesMax = pendingBytesMax;
        for (Segment segment : recovered.segments()) {
            segments.put(segment.id, segment);
        }
        this.deletionAllowed = segments.isEmpty();
        this.writer = new JournalWriter(this, storage, config, segments, recovered.nextSegmentId(),
                recovered.lastSegmentOnDisk());
        this.writerThread = new Thread(writer, "holdfast-journal-writer");
        writerThread.setDaemon(true);
    }

    /**
     * Opens the journal in {@code config.dir()} (creating the directory if absent): verifies every record's
     * CRC, truncates a torn tail, skips and reports corrupt records, hands every good record to
     * {@code replay} in journal order on this thread, then starts the writer thread. Damage never makes it
     * fail (see {@link #recoveryReport()}); it throws only if the directory cannot be created or listed, or
     * if {@code replay} throws.
     */
    public static Journal open(JournalConfig config, RecordVisitor replay) throws IOException {
        return open(config, replay, new FileStorage(config.dir()), PENDING_BYTES_MAX);
    }

    /** Hears, during {@link #inspect}, of each segment once it has been scanned. */
    @FunctionalInterface
    public interface ScanProgress {
        void segmentScanned(String name, long bytes);
    }

    /**
     * What {@link #inspect} found: the report {@link #open} would give, and what {@link #open} would change on
     * disk (cut a torn tail, seal the crashed last segment, remove a torn new segment), one line each.
     */
    public record Inspection(RecoveryReport report, List<String> repairs) {
        public Inspection {
            repairs = List.copyOf(repairs);
        }
    }

    /**
     * Reads the journal in {@code dir} as {@link #open} would, record by record with the same CRC checks and
     * the same decisions, and hands every good record to {@code visitor}, but changes nothing: every file is
     * opened read-only, nothing is cut, sealed or removed, nothing is logged. Safe on the directory of a
     * running broker (its newest segment may then show a torn tail: a write in progress). On the calling
     * thread (plus a read-ahead thread while it runs).
     *
     * @throws NoSuchFileException if {@code dir} does not exist
     */
    public static Inspection inspect(Path dir, RecordVisitor visitor, ScanProgress progress) throws IOException {
        if (!Files.isDirectory(dir)) {
            throw new NoSuchFileException(dir.toString(), null, "not a journal directory");
        }
        JournalRecovery.Recovered r = JournalRecovery.recover(new FileStorage(dir), visitor,
                JournalRecovery.Mode.INSPECT, progress);
        return new Inspection(r.report(), r.repairs());
    }

    /** The test seam: any {@link Storage}, any queue bound. */
    static Journal open(JournalConfig config, RecordVisitor replay, Storage storage, long pendingBytesMax)
            throws IOException {
        Objects.requireNonNull(replay, "replay");
        JournalRecovery.Recovered recovered = JournalRecovery.recover(storage, replay);
        Journal journal = new Journal(config, storage, recovered, pendingBytesMax);
        journal.writerThread.start();
        return journal;
    }

    /**
     * The position of the record whose header is at byte {@code offset} of segment {@code segmentId}:
     * {@code segmentId << 32 | offset}. Never negative.
     *
     * @throws IllegalArgumentException if {@code segmentId} is not in [0, 2<sup>31</sup>) or {@code offset}
     *     not in [0, 2<sup>32</sup>)
     */
    public static long position(long segmentId, long offset) {
        if (segmentId < 0 || segmentId > SEGMENT_ID_MAX) {
            throw new IllegalArgumentException("segment id " + segmentId + " is out of range [0, "
                    + SEGMENT_ID_MAX + "]");
        }
        if (offset < 0 || offset > OFFSET_MAX) {
            throw new IllegalArgumentException("offset " + offset + " is out of range [0, " + OFFSET_MAX + "]");
        }
        return segmentId << 32 | offset;
    }

    /** The segment id of a {@link #position}. */
    public static long segmentOf(long position) {
        return position >>> 32;
    }

    /** The byte offset within its segment file of a {@link #position}. */
    public static long offsetOf(long position) {
        return position & OFFSET_MAX;
    }

    /** What the last {@link #open} found and did. */
    public RecoveryReport recoveryReport() {
        return report;
    }

    /**
     * Queues one record; order of appends from one thread is their order on disk. The journal keeps a
     * reference to {@code payload} until the callback runs: do not modify the array. Blocks while the queue
     * is full (see the class comment).
     *
     * @param live whether the record counts toward its segment's live count until {@link #settle}d
     * @param callback runs on the writer thread once the record is stored per the policy, or failed
     * @throws IllegalArgumentException if the payload is larger than {@link JournalConfig#payloadBytesMax()}
     * @throws IllegalStateException if the journal is closed
     */
    public void append(byte[] payload, boolean live, AppendCallback callback) {
        Objects.requireNonNull(payload, "payload");
        Objects.requireNonNull(callback, "callback");
        if (payload.length > config.payloadBytesMax()) {
            throw new IllegalArgumentException("record of " + payload.length + " bytes is larger than "
                    + config.payloadBytesMax() + ", the most a segment of " + config.segmentBytesMax() + " bytes holds");
        }
        PendingAppend pending = new PendingAppend(payload, live, callback);
        boolean mayBlock = Thread.currentThread() != writerThread;
        lock.lock();
        try {
            while (mayBlock && !closed && queuedBytes > 0 && queuedBytes + pending.recordBytes() > pendingBytesMax) {
                spaceAvailable.awaitUninterruptibly();
            }
            if (closed) {
                throw new IllegalStateException("journal is closed");
            }
            queue.add(pending);
            queuedBytes += pending.recordBytes();
            workAvailable.signal();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Reads back the record at {@code position} and returns a fresh copy of its payload, after checking
     * that its length fits in the segment and in {@link JournalConfig#payloadBytesMax()} and that its
     * CRC32C matches (the check recovery makes). Any thread, concurrently with appends and other reads.
     * Valid for every record whose {@link AppendCallback} has run without error (its bytes are written,
     * though under {@link FsyncPolicy#NEVER} or {@link FsyncPolicy#INTERVAL} maybe not yet forced) and
     * every record replayed at open, until the segment holding it is deleted. Costs two positional
     * reads of a file handle the journal opens on the segment's first read and shares between threads.
     *
     * @throws CorruptRecordException if the bytes at {@code position} do not check out (its message
     *     names the segment file and offset)
     * @throws IOException if the segment is not in the journal (never existed, or settled and deleted),
     *     the position lies outside the segment's records, the journal is closed, or the read failed
     */
    public byte[] read(long position) throws IOException {
        long segmentId = segmentOf(position);
        long offset = offsetOf(position);
        Segment segment = segments.get(segmentId);
        if (segment == null) {
            throw new IOException("no record at " + SegmentFormat.fileName(segmentId) + "@" + offset + ": segment "
                    + segmentId + " is not in the journal (never existed or deleted)");
        }
        for (boolean retried = false; ; retried = true) {
            Storage.SegmentFile file = segment.reader(storage);
            try {
                return readRecord(segment, file, offset);
            } catch (ClosedChannelException e) {
                // Closed under us: by deletion or close (the retry then reports that), or by an interrupt of
                // some reading thread, which closes a FileChannel for every thread sharing it.
                segment.discardReader(file);
                if (retried || Thread.currentThread().isInterrupted()) {
                    throw e;
                }
            }
        }
    }

    private byte[] readRecord(Segment segment, Storage.SegmentFile file, long offset) throws IOException {
        long size = segment.sizeBytes;
        if (offset < SegmentFormat.HEADER_BYTES || offset > size - SegmentFormat.RECORD_HEADER_BYTES) {
            throw new IOException("no record at " + segment.fileName + "@" + offset + ": outside the segment's "
                    + size + " bytes of records");
        }
        ByteBuffer header = ByteBuffer.allocate(SegmentFormat.RECORD_HEADER_BYTES);
        file.read(header, offset);
        if (header.hasRemaining()) {
            throw new CorruptRecordException(segment.fileName, offset, "the file ends inside the record header");
        }
        int length = header.getInt(0);
        int storedCrc = header.getInt(4);
        if (length == SegmentFormat.SEAL_TAG) {
            throw new IOException("no record at " + segment.fileName + "@" + offset + ": that is the segment's seal,"
                    + " which follows its last record");
        }
        long room = size - offset - SegmentFormat.RECORD_HEADER_BYTES;
        if (length < 0 || length > room || length > config.payloadBytesMax()) {
            throw new CorruptRecordException(segment.fileName, offset, "length " + Integer.toUnsignedString(length)
                    + " runs past the end of the segment (" + room + " bytes left) or exceeds the largest payload ("
                    + config.payloadBytesMax() + " bytes)");
        }
        byte[] payload = new byte[length];
        ByteBuffer body = ByteBuffer.wrap(payload);
        if (length > 0) {
            file.read(body, offset + SegmentFormat.RECORD_HEADER_BYTES);
        }
        if (body.hasRemaining()) {
            throw new CorruptRecordException(segment.fileName, offset, "the file ends inside the payload (length "
                    + length + ", " + body.position() + " bytes read)");
        }
        if (!SegmentFormat.recordCrcMatches(new CRC32C(), length, storedCrc, payload, 0)) {
            throw new CorruptRecordException(segment.fileName, offset, "CRC mismatch (length " + length + ")");
        }
        return payload;
    }

    /**
     * Marks one live record settled: the record at {@code position}, as the {@link AppendCallback} or the
     * replay gave it; only its segment ({@link #segmentOf}) counts. The segment may then be deleted (on
     * the writer thread), after which its records can no longer be {@link #read}. The first call also
     * ends the retain phase after a restart.
     *
     * @throws IllegalStateException if the segment has no live record left or is gone: a bookkeeping bug
     */
    public void settle(long position) {
        boolean reachedZero = segment(segmentOf(position)).settle();
        if (!deletionAllowed) {
            deletionAllowed = true;
            requestHousekeeping();
        } else if (reachedZero) {
            requestHousekeeping();
        }
    }

    /**
     * After replay, re-marks the record at {@code position} (as the {@link RecordVisitor} got it) as live:
     * its segment ({@link #segmentOf}) counts one more live record. Make every retain before the first
     * {@link #settle}.
     *
     * @throws IllegalStateException if the segment is unknown or was already deleted
     */
    public void retain(long position) {
        segment(segmentOf(position)).retain();
    }

    /** Bytes of the journal's segment files (damaged files left for an operator are not counted). */
    public long diskBytes() {
        long total = 0;
        for (Segment segment : segments.values()) {
            total += segment.sizeBytes;
        }
        return total;
    }

    /** A closed segment and how many live records still hold it. */
    public record SegmentLiveness(long segmentId, int liveRecords) {}

    /**
     * The oldest segment, if it is not the one being written: it is what blocks space from coming
     * back, so it is the one worth compacting (re-appending its few live records and settling them).
     * Null if there is only the active segment.
     */
    public SegmentLiveness oldestClosedSegment() {
        if (segments.size() < 2) {
            return null;
        }
        var first = segments.firstEntry();
        return first == null ? null : new SegmentLiveness(first.getKey(), first.getValue().liveCount());
    }

    /**
     * Completed fsyncs of record data since open: one per written group under {@link FsyncPolicy#ALWAYS},
     * one per interval or roll fsync under {@link FsyncPolicy#INTERVAL}. Header, directory, truncate and
     * close fsyncs are not counted. Counted before the group's callbacks run. For benchmarks and metrics.
     */
    public long fsyncCount() {
        return writer.fsyncCount();
    }

    /** Number of segment files the journal manages. */
    public int segmentCount() {
        return segments.size();
    }

    /** Bytes of records appended but not yet written (including the batch being written). */
    public long queuedBytes() {
        lock.lock();
        try {
            return queuedBytes;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Stops accepting appends, writes and completes everything already queued, forces the active segment
     * (under every policy) and closes it, then closes the handles {@link #read} opened; reads fail from
     * then on. Idempotent.
     *
     * @throws IOException if the final fsync or close failed
     * @throws IllegalStateException if called from an append callback
     */
    @Override
    public void close() throws IOException {
        if (Thread.currentThread() == writerThread) {
            throw new IllegalStateException("close() from an append callback would wait for itself");
        }
        boolean report;
        lock.lock();
        try {
            closed = true;
            workAvailable.signal();
            spaceAvailable.signalAll();
            report = !closeReported;
            closeReported = true;
        } finally {
            lock.unlock();
        }
        joinWriter();
        for (Segment segment : segments.values()) {
            segment.closeReader("the journal is closed");
        }
        IOException failure = writer.closeFailure();
        if (report && failure != null) {
            throw failure;
        }
    }

    private void joinWriter() {
        boolean interrupted = false;
        while (writerThread.isAlive()) {
            try {
                writerThread.join();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    private Segment segment(long segmentId) {
        Segment segment = segments.get(segmentId);
        if (segment == null) {
            throw new IllegalStateException("segment " + segmentId + " is not in the journal (never existed or deleted)");
        }
        return segment;
    }

    private void requestHousekeeping() {
        lock.lock();
        try {
            housekeepingRequested = true;
            workAvailable.signal();
        } finally {
            lock.unlock();
        }
    }

    // ---- the writer's side of the queue ----

    /** What the writer should do after {@link #awaitWork}. */
    record Work(boolean housekeeping, boolean closing) {}

    /**
     * Blocks until records are queued, housekeeping is requested, the journal closes, or {@code timeoutNanos}
     * passes (negative: no timeout), then moves every queued record into {@code batch}.
     */
    Work awaitWork(List<PendingAppend> batch, long timeoutNanos) {
        lock.lock();
        try {
            long deadline = System.nanoTime() + timeoutNanos;
            while (queue.isEmpty() && !closed && !housekeepingRequested) {
                if (timeoutNanos < 0) {
                    workAvailable.awaitUninterruptibly();
                    continue;
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    break;
                }
                try {
                    workAvailable.awaitNanos(left);
                } catch (InterruptedException e) {
                    // Swallowed on purpose: with the flag set, the next FileChannel call would close the channel.
                }
            }
            batch.addAll(queue);
            queue.clear();
            Work work = new Work(housekeepingRequested, closed);
            housekeepingRequested = false;
            return work;
        } finally {
            lock.unlock();
        }
    }

    /** The writer has finished with {@code bytes} of records: wake blocked appenders. */
    void released(long bytes) {
        lock.lock();
        try {
            queuedBytes -= bytes;
            spaceAvailable.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** The writer thread is gone for good: refuse appends from now on and fail the queued ones. */
    void writerStopped(Throwable cause) {
        List<PendingAppend> orphans;
        lock.lock();
        try {
            closed = true;
            orphans = new ArrayList<>(queue);
            queue.clear();
            spaceAvailable.signalAll();
        } finally {
            lock.unlock();
        }
        for (PendingAppend pending : orphans) {
            JournalWriter.complete(pending, -1, cause);
        }
    }

    boolean deletionAllowed() {
        return deletionAllowed;
    }
}
