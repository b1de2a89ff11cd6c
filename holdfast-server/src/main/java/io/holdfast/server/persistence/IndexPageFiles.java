package io.holdfast.server.persistence;

import io.holdfast.core.QueueEntry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import java.util.zip.CRC32C;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The pages of the queues' paged-out index middles (see {@link io.holdfast.core.IndexPages}), in append-only files
 * under {@code <data>/index-pages}. They are a cache of the journal, which alone says what a queue holds: every
 * start deletes them, and replay rebuilds the queues from the journal's records (so a kill -9, a torn page or a
 * full disk here costs no message). No fsync: a page is read back only by the process that wrote it.
 *
 * <p>Format, integers big-endian. A file: {@code magic u32 "HFIP" | version u16 (1) | reserved u16}, then pages,
 * each {@code count u32 | crc32c u32 (of the entries) | count × entry}, an entry being
 *
 * <pre>
 * seq u64 | storeRef u64 | sizeBytes u32 | enqueuedAtMillis u64 | expiresAtMillis u64 | deliveryCount u32
 *         | flags u8 (bit 0 redelivered) | priority u8                                         = 42 bytes
 * </pre>
 *
 * A page's handle is its file's number (high 24 bits) and offset (low 40 bits). A file is deleted once every page
 * in it has been freed and it is no longer the one appended to; files are independent, so any may go first. A page
 * that does not read back (I/O error, short read, CRC or count mismatch) is reported as null: it is logged and
 * counted, and its messages, still live in the journal, come back with the next start.
 *
 * <p>Broker thread only (or the opening thread, before the broker runs).
 */
final class IndexPageFiles implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(IndexPageFiles.class);
    static final String DIRECTORY = "index-pages";
    static final int MAGIC = 0x48464950; // "HFIP"
    static final short VERSION = 1;
    static final int FILE_HEADER_BYTES = 8;
    static final int PAGE_HEADER_BYTES = 8;
    static final int ENTRY_BYTES = 42;
    private static final int OFFSET_BITS = 40;

    private final Path dir;
    private final long fileBytesMax;
    private final Map<Long, FileChannel> files = new HashMap<>();
    /** Pages not yet freed, per file. */
    private final Map<Long, Integer> livePages = new HashMap<>();
    private long active = -1;
    private long activeEnd;
    private long writeFailures;
    private long readFailures;

    /** Opens the directory under {@code dataDir}, deleting what a previous run left there. */
    static IndexPageFiles open(Path dataDir, long fileBytesMax) throws IOException {
        Path dir = dataDir.resolve(DIRECTORY);
        Files.createDirectories(dir);
        try (Stream<Path> old = Files.list(dir)) {
            for (Path p : (Iterable<Path>) old::iterator) {
                Files.delete(p);
            }
        }
        return new IndexPageFiles(dir, fileBytesMax);
    }

    private IndexPageFiles(Path dir, long fileBytesMax) {
        this.dir = dir;
        this.fileBytesMax = fileBytesMax;
    }

    /** Writes the entries as a page; returns its handle, or -1 if the write failed (logged once per run of them). */
    long write(List<QueueEntry> entries) {
        int bytes = PAGE_HEADER_BYTES + entries.size() * ENTRY_BYTES;
        ByteBuffer b = ByteBuffer.allocate(bytes);
        b.position(PAGE_HEADER_BYTES);
        for (QueueEntry e : entries) {
            b.putLong(e.seq()).putLong(e.storeRef).putInt(e.sizeBytes()).putLong(e.enqueuedAtMillis())
                    .putLong(e.expiresAtMillis()).putInt(e.deliveryCount()).put((byte) (e.redelivered() ? 1 : 0))
                    .put((byte) e.priority());
        }
        CRC32C crc = new CRC32C();
        crc.update(b.array(), PAGE_HEADER_BYTES, bytes - PAGE_HEADER_BYTES);
        b.putInt(0, entries.size()).putInt(4, (int) crc.getValue());
        b.position(0);
        try {
            if (active < 0 || activeEnd + bytes > fileBytesMax) {
                roll();
            }
            long offset = activeEnd;
            FileChannel ch = files.get(active);
            while (b.hasRemaining()) {
                ch.write(b, offset + b.position());
            }
            activeEnd += bytes;
            livePages.merge(active, 1, Integer::sum);
            if (writeFailures > 0) {
                log.warn("index pages are written again after {} failed writes", writeFailures);
                writeFailures = 0;
            }
            return active << OFFSET_BITS | offset;
        } catch (IOException | UncheckedIOException e) {
            if (writeFailures++ == 0) {
                log.warn("cannot write an index page to {} ({}): the backlog's index stays in memory until it can",
                        dir, e.toString());
            }
            return -1;
        }
    }

    /** Starts a new file; the old active one goes if no page in it is live. */
    private void roll() throws IOException {
        long previous = active;
        long id = active + 1;
        FileChannel ch = FileChannel.open(path(id), StandardOpenOption.CREATE_NEW,
                StandardOpenOption.READ, StandardOpenOption.WRITE);
        ByteBuffer header = ByteBuffer.allocate(FILE_HEADER_BYTES).putInt(MAGIC).putShort(VERSION).putShort((short) 0);
        header.flip();
        while (header.hasRemaining()) {
            ch.write(header, header.position());
        }
        files.put(id, ch);
        active = id;
        activeEnd = FILE_HEADER_BYTES;
        if (previous >= 0 && !livePages.containsKey(previous)) {
            delete(previous);
        }
    }

    /** The page's entries, new objects, or null if it does not read back intact (logged and counted). */
    List<QueueEntry> read(long page) {
        long file = page >>> OFFSET_BITS;
        long offset = page & ((1L << OFFSET_BITS) - 1);
        try {
            FileChannel ch = files.get(file);
            if (ch == null) {
                throw new IOException("file " + file + " is gone");
            }
            ByteBuffer header = readFully(ch, offset, PAGE_HEADER_BYTES);
            int count = header.getInt(0);
            if (count <= 0 || (long) count * ENTRY_BYTES > fileBytesMax) {
                throw new IOException("page header says " + count + " entries");
            }
            ByteBuffer body = readFully(ch, offset + PAGE_HEADER_BYTES, count * ENTRY_BYTES);
            CRC32C crc = new CRC32C();
            crc.update(body.array(), 0, body.capacity());
            if ((int) crc.getValue() != header.getInt(4)) {
                throw new IOException("CRC mismatch");
            }
            List<QueueEntry> out = new ArrayList<>(count);
            for (int i = 0; i < count; i++) {
                long seq = body.getLong();
                long storeRef = body.getLong();
                int size = body.getInt();
                long enqueuedAt = body.getLong();
                long expiresAt = body.getLong();
                int deliveryCount = body.getInt();
                boolean redelivered = (body.get() & 1) != 0;
                int priority = body.get() & 0xFF;
                out.add(QueueEntry.pagedOut(seq, size, redelivered, deliveryCount, enqueuedAt, expiresAt, storeRef,
                        priority));
            }
            return out;
        } catch (IOException | UncheckedIOException e) {
            readFailures++;
            log.error("index page at file {} offset {} in {} does not read back ({}): its messages are not "
                    + "delivered until the next start rebuilds the queue from the journal", file, offset, dir,
                    e.toString());
            return null;
        }
    }

    private static ByteBuffer readFully(FileChannel ch, long position, int bytes) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(bytes);
        while (b.hasRemaining()) {
            if (ch.read(b, position + b.position()) < 0) {
                throw new IOException("short read at " + position);
            }
        }
        b.flip();
        return b;
    }

    /** The page is no longer needed; its file goes once it holds no live page and is not the active one. */
    void free(long page) {
        long file = page >>> OFFSET_BITS;
        Integer left = livePages.computeIfPresent(file, (f, n) -> n > 1 ? n - 1 : null);
        if (left == null && file != active) {
            delete(file);
        }
    }

    private void delete(long file) {
        FileChannel ch = files.remove(file);
        try {
            if (ch != null) {
                ch.close();
            }
            Files.deleteIfExists(path(file));
        } catch (IOException e) {
            log.warn("cannot delete index page file {} in {}: {}", file, dir, e.toString());
        }
    }

    private Path path(long file) {
        return dir.resolve(String.format("%020d.idx", file));
    }

    /** Files on disk (for tests and metrics). */
    int fileCount() {
        return files.size();
    }

    /** Pages that did not read back, since start. */
    long readFailures() {
        return readFailures;
    }

    @Override
    public void close() {
        for (long f : new ArrayList<>(files.keySet())) {
            delete(f);
        }
    }
}
