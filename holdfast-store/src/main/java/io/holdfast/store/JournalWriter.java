package io.holdfast.store;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.NoSuchFileException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The journal's single writer: drains the queue, writes each batch through one reusable direct buffer,
 * forces per the policy, runs the callbacks, rolls segments and deletes the settled prefix. Everything
 * here except the constructor runs on the writer thread, which is the only thread that writes, fsyncs
 * or deletes.
 */
final class JournalWriter implements Runnable {
    private static final Logger LOG = LoggerFactory.getLogger(Journal.class);
    private static final int BUFFER_BYTES = 256 << 10;

    private final Journal journal;
    private final Storage storage;
    private final FsyncPolicy policy;
    private final long segmentBytesMax;
    private final long intervalNanos;
    private final ConcurrentSkipListMap<Long, Segment> segments;
    private final ByteBuffer buffer = ByteBuffer.allocateDirect(BUFFER_BYTES);
    private final ByteBuffer recordHeader = ByteBuffer.allocate(SegmentFormat.RECORD_HEADER_BYTES);
    private final List<PendingAppend> batch = new ArrayList<>();

    private long nextSegmentId;
    /** The newest segment file on disk, named as predecessor in the next segment's header; -1 if none. */
    private long predecessorId;
    private Segment active;
    private boolean unforced;
    private long lastForceNanos;
    private boolean rolled;
    private volatile IOException closeFailure;
    private volatile long fsyncCount; // written only by the writer thread, so ++ loses nothing

    JournalWriter(Journal journal, Storage storage, JournalConfig config,
                  ConcurrentSkipListMap<Long, Segment> segments, long nextSegmentId, long predecessorId) {
        this.journal = journal;
        this.storage = storage;
        this.policy = config.fsync();
        this.segmentBytesMax = config.segmentBytesMax();
        this.intervalNanos = TimeUnit.MILLISECONDS.toNanos(config.fsyncIntervalMillis());
        this.segments = segments;
        this.nextSegmentId = nextSegmentId;
        this.predecessorId = predecessorId;
    }

    @Override
    public void run() {
        try {
            writeUntilClosed();
        } catch (Throwable t) {
            // A bug or an Error: without this, appenders would wait forever for their callbacks.
            LOG.error("journal: the writer stopped on an unexpected error; the journal refuses appends from now on", t);
            for (PendingAppend pending : batch) {
                if (!pending.completed) {
                    complete(pending, -1, t);
                }
            }
            journal.writerStopped(t);
        } finally {
            shutdown();
        }
    }

    private void writeUntilClosed() {
        lastForceNanos = System.nanoTime();
        boolean closing = false;
        while (!closing) {
            Journal.Work work = journal.awaitWork(batch, intervalWaitNanos());
            closing = work.closing();
            long bytes = 0;
            for (PendingAppend pending : batch) {
                bytes += pending.recordBytes();
            }
            writeBatch();
            batch.clear();
            journal.released(bytes);
            if (work.housekeeping() || rolled) {
                rolled = false;
                deleteSettledPrefix();
            }
            if (unforced && System.nanoTime() - lastForceNanos >= intervalNanos) {
                forceActive("interval fsync");
            }
        }
    }

    IOException closeFailure() {
        return closeFailure;
    }

    long fsyncCount() {
        return fsyncCount;
    }

    /** Under INTERVAL with unforced data, wake up in time to force it; otherwise wait for work. */
    private long intervalWaitNanos() {
        if (!unforced) {
            return -1;
        }
        return Math.max(0, lastForceNanos + intervalNanos - System.nanoTime());
    }

    /** Splits the batch into groups that fit the active segment; a group is written, forced, then completed. */
    private void writeBatch() {
        int from = 0;
        while (from < batch.size()) {
            try {
                makeRoomFor(batch.get(from).recordBytes());
                int to = groupEnd(from);
                writeGroup(from, to);
                complete(from, to, null);
                from = to;
            } catch (IOException | RuntimeException e) {
                if (active != null) {
                    abandonActive(e);
                }
                // The rest of the batch fails with it: those records were not written either.
                complete(from, batch.size(), e);
                return;
            }
        }
    }

    private int groupEnd(int from) {
        long size = active.sizeBytes;
        int to = from;
        while (to < batch.size() && size + batch.get(to).recordBytes() <= segmentBytesMax) {
            size += batch.get(to).recordBytes();
            to++;
        }
        return to;
    }

    private void writeGroup(int from, int to) throws IOException {
        Segment segment = active;
        long start = segment.sizeBytes;
        long end = start;
        int written = 0;
        try {
            buffer.clear();
            for (int i = from; i < to; i++) {
                PendingAppend pending = batch.get(i);
                if (!pending.crcStillMatches()) {
                    pending.rejection = new IllegalStateException("payload modified after append; record not written");
                    continue;
                }
                pending.position = Journal.position(segment.id, end);
                recordHeader.clear();
                recordHeader.putInt(pending.payload.length).putInt(pending.crc).flip();
                put(recordHeader.array(), 0, SegmentFormat.RECORD_HEADER_BYTES);
                put(pending.payload, 0, pending.payload.length);
                end += pending.recordBytes();
                written++;
            }
            flush();
            if (policy == FsyncPolicy.ALWAYS) {
                segment.file.force();
                fsyncCount++;
            } else if (policy == FsyncPolicy.INTERVAL) {
                unforced = true;
            }
        } catch (IOException | RuntimeException e) {
            removeFailedBytes(segment, start);
            throw e;
        }
        segment.sizeBytes = end;
        segment.recordCount += written;
        for (int i = from; i < to; i++) {
            if (batch.get(i).live && batch.get(i).rejection == null) {
                segment.retain();
            }
        }
    }

    private void put(byte[] bytes, int offset, int length) throws IOException {
        int done = 0;
        while (done < length) {
            if (!buffer.hasRemaining()) {
                flush();
            }
            int n = Math.min(buffer.remaining(), length - done);
            buffer.put(bytes, offset + done, n);
            done += n;
        }
    }

    private void flush() throws IOException {
        buffer.flip();
        active.file.append(buffer);
        buffer.clear();
    }

    private void complete(int from, int to, Throwable error) {
        for (int i = from; i < to; i++) {
            PendingAppend pending = batch.get(i);
            Throwable failure = error != null ? error : pending.rejection;
            complete(pending, failure == null ? pending.position : -1, failure);
        }
    }

    static void complete(PendingAppend pending, long position, Throwable error) {
        pending.completed = true;
        try {
            pending.callback.completed(position, error);
        } catch (Throwable t) {
            LOG.error("journal: an append callback threw; the writer carries on", t);
        }
    }

    private void makeRoomFor(long recordBytes) throws IOException {
        if (active != null && active.sizeBytes + recordBytes > segmentBytesMax) {
            forceActive("segment roll");
            if (active != null) {
                sealActive(SegmentFormat.SEALED_AT_ROLL);
                closeActive();
            }
        }
        if (active == null) {
            createSegment();
        }
    }

    /**
     * A new segment's header is forced and its directory entry synced before any record goes in, so a
     * confirmed record is never in a file the directory may forget.
     */
    private void createSegment() throws IOException {
        if (nextSegmentId > Journal.SEGMENT_ID_MAX) {
            throw new IOException("segment ids are exhausted: " + nextSegmentId + " does not fit in a record position");
        }
        Segment segment = new Segment(nextSegmentId++, SegmentFormat.HEADER_BYTES);
        Storage.SegmentFile file = storage.create(segment.fileName);
        try {
            file.append(SegmentFormat.header(segment.id, SegmentFormat.VERSION, predecessorId));
            if (policy != FsyncPolicy.NEVER) {
                file.force();
                storage.syncDirectory();
            }
        } catch (IOException | RuntimeException e) {
            closeQuietly(file);
            try {
                storage.delete(segment.fileName);
            } catch (IOException deleteFailure) {
                e.addSuppressed(deleteFailure); // recovery reports it later as a headerless segment
            }
            throw e;
        }
        segment.file = file;
        segments.put(segment.id, segment);
        active = segment;
        predecessorId = segment.id;
    }

    /**
     * Appends the seal to the active segment and forces it (unless {@link FsyncPolicy#NEVER}), so that a
     * closed segment that loses its end is reported at the next open (see {@link RecoveryTable}). Its force
     * is not counted in {@link #fsyncCount}. A failure is logged: the segment's records are no less stored,
     * but the next open will report the segment as cut short.
     *
     * @return true if sealed
     */
    private boolean sealActive(int reason) {
        Segment segment = active;
        try {
            segment.file.append(SegmentFormat.seal(reason, segment.recordCount, segment.sizeBytes));
            if (policy != FsyncPolicy.NEVER) {
                segment.file.force();
            }
            segment.sizeBytes += SegmentFormat.SEAL_BYTES;
            return true;
        } catch (IOException | RuntimeException e) {
            LOG.error("journal: could not seal {}; its records stay, but the next open will report the segment as"
                    + " cut short", segment.fileName, e);
            return false;
        }
    }

    /** Forces unforced data (INTERVAL) of the active segment; a failure abandons the segment. */
    private void forceActive(String why) {
        if (!unforced || active == null) {
            return;
        }
        try {
            active.file.force();
            fsyncCount++;
            unforced = false;
            lastForceNanos = System.nanoTime();
        } catch (IOException e) {
            LOG.error("journal: {} of {} failed; records confirmed since the last fsync may be lost", why,
                    active.fileName, e);
            abandonActive(e);
        }
    }

    /**
     * After a failed write or fsync: the file's state is unknown and a later fsync could report success
     * for pages the kernel already dropped, so it takes no more records.
     */
    private void abandonActive(Throwable cause) {
        LOG.error("journal: giving up on segment {} after an I/O error; continuing in a new segment",
                active.fileName, cause);
        sealAbandoned();
        closeActive();
    }

    /**
     * Seals an abandoned segment if its file holds exactly the records written before the failure (the
     * failed bytes were cut), so that it does not read as cut short later. The seal's fsync is not a retry
     * that could vouch for dropped pages: every record keeps its own CRC, which recovery checks. If the
     * file's size is off or the seal fails, the segment stays unsealed and the next open reports it.
     */
    private void sealAbandoned() {
        long size;
        try {
            size = active.file.size();
        } catch (IOException | RuntimeException e) {
            size = -1;
        }
        if (size != active.sizeBytes) {
            LOG.error("journal: abandoned segment {} holds {} bytes, not the {} written before the failure; left"
                    + " unsealed, the next open will report it", active.fileName, size, active.sizeBytes);
            return;
        }
        sealActive(SegmentFormat.SEALED_WHEN_ABANDONED);
    }

    /** Best effort: cut the failed group so its (failed, unconfirmed) records do not come back on replay. */
    private void removeFailedBytes(Segment segment, long start) {
        try {
            segment.file.truncate(start);
            if (policy != FsyncPolicy.NEVER) {
                segment.file.force();
            }
        } catch (IOException | RuntimeException e) {
            LOG.warn("journal: could not cut failed records from {}; they may be replayed", segment.fileName, e);
        }
    }

    private void closeActive() {
        closeQuietly(active.file);
        active.file = null;
        active = null;
        unforced = false;
        rolled = true;
    }

    /** Deletes settled segments from the oldest on; stops at the first that is live or active. */
    private void deleteSettledPrefix() {
        if (!journal.deletionAllowed()) {
            return;
        }
        for (Segment segment : segments.values()) {
            if (segment == active || !segment.tryMarkDeleted()) {
                return;
            }
            segment.closeReader("it was settled and deleted");
            try {
                storage.delete(segment.fileName);
            } catch (NoSuchFileException alreadyGone) {
                // a retry after a failed directory sync: the unlink itself had worked
            } catch (IOException e) {
                LOG.warn("journal: could not delete settled segment {}; will retry", segment.fileName, e);
                return;
            }
            try {
                if (policy != FsyncPolicy.NEVER) {
                    storage.syncDirectory();
                }
            } catch (IOException e) {
                LOG.warn("journal: directory sync after deleting {} failed; will retry", segment.fileName, e);
                return; // the segment stays listed (marked deleted) so the next round syncs again before going on
            }
            segments.remove(segment.id);
        }
    }

    private void shutdown() {
        if (active == null) {
            return;
        }
        try {
            active.file.append(SegmentFormat.seal(SegmentFormat.SEALED_AT_CLOSE, active.recordCount, active.sizeBytes));
            active.sizeBytes += SegmentFormat.SEAL_BYTES;
        } catch (IOException | RuntimeException e) {
            // Recovery seals it, as after a crash (cutting whatever part of the seal landed as a torn tail).
            LOG.warn("journal: could not seal {} at close; the next open seals it", active.fileName, e);
        }
        try {
            active.file.force();
        } catch (IOException e) {
            LOG.error("journal: final fsync of {} failed", active.fileName, e);
            closeFailure = e;
        }
        closeQuietly(active.file);
        active.file = null;
        active = null;
    }

    private static void closeQuietly(Storage.SegmentFile file) {
        try {
            file.close();
        } catch (IOException e) {
            LOG.warn("journal: closing a segment file failed", e);
        }
    }
}
