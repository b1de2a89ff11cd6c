package io.holdfast.store;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.TreeMap;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Opens the segments of a journal directory oldest first, replays every record that checks out, and
 * applies {@link RecoveryTable}'s file actions (truncate a torn tail, drop a headerless last file). Runs
 * once, on the thread calling {@link Journal#open}, before the writer thread exists; a read-ahead thread
 * ({@link ReadAhead}) loads the next segment while one is scanned, and is gone when this returns. I/O
 * errors while reading a segment count as damage to that segment; only a directory that cannot be listed
 * stops it. Records reach the visitor in place, in the read buffer ({@link RecordVisitor}), never copied
 * unless the visitor asks for a copy.
 */
final class JournalRecovery {
    private static final Logger LOG = LoggerFactory.getLogger(Journal.class);
    private static final long READABLE_BYTES_MAX = Integer.MAX_VALUE - 16;

    /**
     * The segments the journal manages from now on (oldest first), the id for the next new one, and the
     * id of the newest segment file left on disk (-1 if none): the predecessor the next new segment names.
     */
    record Recovered(List<Segment> segments, long nextSegmentId, long lastSegmentOnDisk, RecoveryReport report,
            List<String> repairs) {}

    /**
     * {@link #REPAIR}: what {@link Journal#open} does, cut torn tails, seal the crashed last segment, remove a
     * torn new one, logging each. {@link #INSPECT}: the same decisions, only listed in
     * {@link Recovered#repairs}, with every file opened read-only and nothing logged (for {@code holdfast
     * verify}, which reports them itself).
     */
    enum Mode { REPAIR, INSPECT }

    private JournalRecovery() {}

    static Recovered recover(Storage storage, RecordVisitor visitor) throws IOException {
        return recover(storage, visitor, Mode.REPAIR, (name, bytes) -> { });
    }

    /** As above, in either mode; {@code progress} hears of each segment once it is scanned. */
    static Recovered recover(Storage storage, RecordVisitor visitor, Mode mode, Journal.ScanProgress progress)
            throws IOException {
        boolean repair = mode == Mode.REPAIR;
        List<String> repairs = new ArrayList<>();
        TreeMap<Long, String> files = new TreeMap<>();
        for (String name : storage.list()) {
            OptionalLong id = SegmentFormat.parseFileName(name);
            if (id.isPresent() && id.getAsLong() > Journal.SEGMENT_ID_MAX) {
                // The journal never creates one: its records could not be named by a position.
                if (repair) {
                    LOG.warn("journal: ignoring {}: segment id beyond {}", name, Journal.SEGMENT_ID_MAX);
                }
            } else if (id.isPresent()) {
                files.put(id.getAsLong(), name);
            }
        }
        List<Segment> segments = new ArrayList<>();
        List<String> damage = new ArrayList<>();
        long recovered = 0;
        long tornBytes = 0;
        long corrupt = 0;
        long started = System.nanoTime();
        long previousId = -1;
        long lastOnDisk = files.isEmpty() ? -1 : files.lastKey();
        try (ReadAhead reader = new ReadAhead(storage, new ArrayList<>(files.values()), repair)) {
            for (Map.Entry<Long, String> file : files.entrySet()) {
                long id = file.getKey();
                String name = file.getValue();
                boolean last = id == files.lastKey();
                boolean drop = false;
                ReadAhead.Loaded loaded = reader.next();
                try (Storage.SegmentFile segment = loaded.file()) {
                    if (loaded.error() != null) {
                        throw loaded.error();
                    }
                    int length = loaded.length();
                    SegmentScanner.Result result = SegmentScanner.scan(name, id, loaded.data(), length, last, visitor);
                    recovered += result.recordsDelivered();
                    corrupt += result.corruptRegions();
                    damage.addAll(result.damage());
                    String missing = missingPredecessor(name, id, result.predecessorDistance(), previousId);
                    if (missing != null) {
                        corrupt++;
                        damage.add(missing);
                    }
                    switch (result.segmentAction()) {
                        case DROP_SEGMENT:
                            tornBytes += length;
                            drop = true;
                            repairs.add("remove " + name + " (" + length + " bytes), torn while being created: "
                                    + result.tornReason());
                            if (repair) {
                                LOG.warn("journal: removing last segment {} ({} bytes), torn while being created: {}",
                                        name, length, result.tornReason());
                            }
                            break;
                        case SKIP_SEGMENT:
                            break; // left on disk for an operator, outside the journal's bookkeeping
                        default:
                            long kept = length;
                            if (result.truncateAt() >= 0) {
                                tornBytes += length - result.truncateAt();
                                repairs.add("cut the torn tail of " + name + " at offset " + result.truncateAt() + " ("
                                        + (length - result.truncateAt()) + " bytes): " + result.tornReason());
                                kept = repair ? truncate(segment, name, result, length) : result.truncateAt();
                            }
                            if (result.sealNeeded() && (result.truncateAt() < 0 || kept == result.truncateAt())) {
                                repairs.add("seal " + name + " after its " + result.recordsDelivered() + " records");
                                if (repair) {
                                    kept = seal(segment, name, result.recordsDelivered(), kept);
                                }
                            }
                            segments.add(new Segment(id, kept));
                    }
                } catch (IOException e) {
                    corrupt++;
                    damage.add(name + "@0: cannot be read (" + e + "); segment skipped");
                } finally {
                    reader.release(loaded.data());
                }
                progress.segmentScanned(name, loaded.length());
                if (drop && repair && delete(storage, name)) {
                    lastOnDisk = previousId;
                }
                previousId = id;
            }
        }
        RecoveryReport report = new RecoveryReport(files.size(), recovered, tornBytes, corrupt, damage);
        if (!repair) {
            return new Recovered(List.of(), -1, -1, report, repairs);
        }
        for (String entry : damage) {
            LOG.error("journal damage: {}", entry);
        }
        LOG.info("journal recovered {} records from {} segments in {} ms ({} torn tail bytes cut, {} corrupt regions"
                + " skipped)", recovered, files.size(), (System.nanoTime() - started) / 1_000_000, tornBytes, corrupt);
        long nextId = files.isEmpty() ? 1 : files.lastKey() + 1;
        return new Recovered(segments, nextId, lastOnDisk, report, repairs);
    }

    /**
     * The damage entry for a missing middle segment, or null: segment {@code id}'s header names its
     * predecessor {@code id - distance}; if that file is absent while an older one ({@code previousId}) is
     * present, it was lost, since only a prefix is ever deleted. Ids between the two that the header does
     * not name may be creations that failed, so the entry names the range.
     */
    private static String missingPredecessor(String name, long id, int distance, long previousId) {
        if (distance <= 0 || previousId < 0 || previousId >= id - distance) {
            return null;
        }
        long predecessor = id - distance;
        String range = previousId + 1 == predecessor ? SegmentFormat.fileName(predecessor)
                : SegmentFormat.fileName(previousId + 1) + " to " + SegmentFormat.fileName(predecessor);
        return SegmentFormat.fileName(predecessor) + "@0: missing: " + name + " follows " + SegmentFormat.fileName(predecessor)
                + ", which is absent while the older " + SegmentFormat.fileName(previousId) + " is present (only a"
                + " prefix of segments is ever deleted); lost: " + range;
    }

    /** Appends a seal to the last segment (see {@link RecoveryTable}); returns the file's size after. */
    private static long seal(Storage.SegmentFile segment, String name, long records, long size) {
        try {
            segment.append(SegmentFormat.seal(SegmentFormat.SEALED_BY_RECOVERY, records, size));
            segment.force();
            return size + SegmentFormat.SEAL_BYTES;
        } catch (IOException e) {
            // The next open, once a newer segment exists, reports this segment as cut short: an operator looks.
            LOG.error("journal: could not seal {} at offset {}; the next open will report it as damage", name, size, e);
            try {
                return segment.size();
            } catch (IOException sizeFailure) {
                return size;
            }
        }
    }

    /**
     * Opens and reads the segments, oldest first, on a thread of its own, so that reading segment N+1
     * overlaps scanning segment N. At most one segment ahead: it holds two buffers, one being scanned and
     * one being filled, reused from segment to segment (grown when a segment is larger). Only this thread
     * opens files while it runs; each handle passes to the opening thread with its bytes, which then alone
     * uses (truncates) and closes it. Truncating and deleting happen only to the last segment, once this
     * thread has opened every file.
     */
    private static final class ReadAhead implements AutoCloseable {
        /**
         * One segment: its open handle (null if it could not be opened) and its bytes {@code data[0,
         * length)}, or the error that kept them from being read. {@code data} goes back through
         * {@link #release} in every case.
         */
        record Loaded(Storage.SegmentFile file, byte[] data, int length, IOException error) {}

        private static final int BUFFERS = 2;

        private final Storage storage;
        private final List<String> names;
        /** Handles that may be truncated (repair), or read-only ones (inspect). */
        private final boolean writable;
        private final BlockingQueue<byte[]> free = new ArrayBlockingQueue<>(BUFFERS);
        /** Never fuller than {@link #BUFFERS}, as each entry holds a buffer: adding never blocks. */
        private final BlockingQueue<Object> ready = new ArrayBlockingQueue<>(BUFFERS);
        private final Thread thread;

        ReadAhead(Storage storage, List<String> names, boolean writable) {
            this.storage = storage;
            this.names = names;
            this.writable = writable;
            for (int i = 0; i < BUFFERS; i++) {
                free.add(new byte[0]);
            }
            thread = new Thread(this::run, "holdfast-journal-read-ahead");
            thread.setDaemon(true);
            if (!names.isEmpty()) {
                thread.start();
            }
        }

        private void run() {
            try {
                for (String name : names) {
                    byte[] buffer;
                    try {
                        buffer = free.take();
                    } catch (InterruptedException closed) {
                        return;
                    }
                    ready.add(load(name, buffer));
                }
            } catch (RuntimeException | Error e) {
                ready.add(e); // rethrown by next() on the opening thread, as if it had read the file itself
            }
        }

        private Loaded load(String name, byte[] buffer) {
            Storage.SegmentFile file = null;
            try {
                file = writable ? storage.open(name) : storage.openForReading(name);
                long size = file.size();
                if (size > READABLE_BYTES_MAX) {
                    throw new IOException("segment of " + size + " bytes is too large to read");
                }
                byte[] data = buffer.length >= size ? buffer : new byte[(int) size];
                ByteBuffer dst = ByteBuffer.wrap(data, 0, (int) size);
                file.read(dst, 0);
                return new Loaded(file, data, dst.position(), null);
            } catch (IOException e) {
                return new Loaded(file, buffer, 0, e);
            } catch (RuntimeException | Error e) {
                closeQuietly(file);
                throw e;
            }
        }

        private static void closeQuietly(Storage.SegmentFile file) {
            if (file != null) {
                try {
                    file.close();
                } catch (IOException ignored) {
                    // nothing was written through it
                }
            }
        }

        /** The next segment, in the order of the names given. */
        Loaded next() throws IOException {
            Object next;
            try {
                next = ready.take();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted while recovering the journal");
            }
            if (next instanceof RuntimeException e) {
                throw e;
            }
            if (next instanceof Error e) {
                throw e;
            }
            return (Loaded) next;
        }

        /** Hands a buffer back once its segment is scanned; the thread then reads the next segment into it. */
        void release(byte[] buffer) {
            free.add(buffer);
        }

        /** Stops the thread (early, if the visitor threw) and closes any handle it opened that was not taken. */
        @Override
        public void close() {
            thread.interrupt();
            boolean interrupted = false;
            while (thread.isAlive()) {
                try {
                    thread.join();
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            for (Object left : ready) {
                if (left instanceof Loaded loaded) {
                    closeQuietly(loaded.file());
                }
            }
            ready.clear();
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static long truncate(Storage.SegmentFile segment, String name, SegmentScanner.Result result, int length) {
        LOG.warn("journal: truncating torn tail of {} at offset {} ({} bytes): {}",
                name, result.truncateAt(), length - result.truncateAt(), result.tornReason());
        try {
            segment.truncate(result.truncateAt());
            segment.force();
            return result.truncateAt();
        } catch (IOException e) {
            // The next open sees this file as a middle segment and reports the tail as damage; nothing is lost.
            LOG.error("journal: could not truncate {}; its torn tail stays on disk", name, e);
            return length;
        }
    }

    /** @return true if the file is gone (its directory entry may not be synced yet) */
    private static boolean delete(Storage storage, String name) {
        try {
            storage.delete(name);
        } catch (IOException e) {
            // New segments get higher ids, so the next open reports this file as a headerless middle segment.
            LOG.error("journal: could not remove {}", name, e);
            return false;
        }
        try {
            storage.syncDirectory();
        } catch (IOException e) {
            LOG.error("journal: directory sync after removing {} failed", name, e);
        }
        return true;
    }
}
