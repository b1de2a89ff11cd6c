package io.holdfast.store;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * The journal's only window on the file system: one flat directory of segment files. Narrow on purpose,
 * so tests can count fsyncs, inject failures and simulate a crash that loses unforced bytes (see
 * {@code FaultyStorage} in the tests); {@link FileStorage} is the real thing. Used during recovery (by the
 * opening thread and its read-ahead thread, which opens and reads the segments and hands each handle over
 * to the opening thread: a handle is never used by both at once) and by the writer thread afterwards,
 * never by two threads at once; the one exception is
 * {@link #openForReading} and the {@link SegmentFile#read}s on the handles it returns, which any thread
 * calling {@link Journal#read} uses, concurrently with the writer and with each other.
 */
interface Storage {

    /** Names of the files in the directory. */
    List<String> list() throws IOException;

    /** Opens an existing file for reading and writing; appends go to its end. */
    SegmentFile open(String name) throws IOException;

    /**
     * Opens an existing file read-only, for {@link Journal#read}. May be called from any thread; the
     * handle's {@link SegmentFile#read} must be safe to call from several threads at once (positional
     * reads, as {@link java.nio.channels.FileChannel#read(ByteBuffer, long)}). Only {@code read},
     * {@code size} and {@code close} are used on it.
     */
    SegmentFile openForReading(String name) throws IOException;

    /** Creates a new, empty file; fails if it exists. The caller syncs the directory. */
    SegmentFile create(String name) throws IOException;

    void delete(String name) throws IOException;

    /** Makes creations and deletions in the directory durable. */
    void syncDirectory() throws IOException;

    /** One open file. */
    interface SegmentFile extends Closeable {
        long size() throws IOException;

        /**
         * Fills {@code dst} from {@code position} on, or stops early at the end of the file. Does not use
         * or move a file position, so a read-only handle may be shared by threads.
         */
        void read(ByteBuffer dst, long position) throws IOException;

        /** Writes every remaining byte of {@code src} at the end of the file. */
        void append(ByteBuffer src) throws IOException;

        /** Forces written data to stable storage ({@code fdatasync}). */
        void force() throws IOException;

        void truncate(long size) throws IOException;
    }
}
