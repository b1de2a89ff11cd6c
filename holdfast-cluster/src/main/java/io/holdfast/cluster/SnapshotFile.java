package io.holdfast.cluster;

import io.holdfast.store.AtomicFile;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.util.zip.CRC32C;
import java.util.zip.CheckedInputStream;
import java.util.zip.CheckedOutputStream;
import org.apache.ratis.io.MD5Hash;
import org.apache.ratis.util.MD5FileUtil;

/**
 * One snapshot of a {@link ReplicatedState}: the state's own bytes framed with the log position they stand for,
 * written as a stream (a state may be larger than memory would like) and replaced atomically. Integers big-endian:
 *
 * <pre>
 *    0  u32  magic 0x48465353 ("HFSS")
 *    4  u16  format version, 1
 *    6  u16  reserved, 0
 *    8  i64  term of the last applied entry
 *   16  i64  index of the last applied entry
 *   24  i64  time (ms) given to the last applied command (the clamp that keeps time from going back)
 *   32  n    the state's bytes ({@link ReplicatedState#writeSnapshot})
 * 32+n  i64  n
 * 40+n  u32  CRC32C of bytes 0..40+n-1
 * </pre>
 *
 * <p>The file is named {@code snapshot.<term>_<index>}, as Ratis's {@code SimpleStateMachineStorage} expects,
 * and has a Ratis MD5 file beside it (Ratis keeps only snapshots that have one when it cleans up old ones, and
 * checks it when it sends the file to a follower). It is written to {@code <name>.tmp}, forced, and renamed over
 * the final name with the directory fsynced ({@link AtomicFile#replace}); a reader checks the whole file's CRC
 * before the state sees a byte.
 *
 * <p>Stateless; any thread may call it, but not two writes of the same file at once.
 */
final class SnapshotFile {
    static final int MAGIC = 0x48465353;
    static final short VERSION = 1;
    static final int HEADER_BYTES = 32;
    static final int TRAILER_BYTES = 12;

    private SnapshotFile() {}

    /** The log position and clamped time a snapshot stands for. */
    record Position(long term, long index, long timeMillis) {}

    /**
     * Writes {@code state} as the snapshot at {@code position} to {@code file}, durably and atomically.
     *
     * @return the file's MD5, as saved beside it for Ratis
     */
    static MD5Hash write(Path file, Position position, ReplicatedState state) throws IOException {
        Path temp = file.resolveSibling(file.getFileName() + ".tmp");
        MessageDigest md5 = MD5FileUtil.newMD5();
        CRC32C crc = new CRC32C();
        try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            CheckedOutputStream checked = new CheckedOutputStream(new DigestOutputStream(new BufferedOutputStream(
                    Channels.newOutputStream(channel), 1 << 16), md5), crc);
            DataOutputStream out = new DataOutputStream(checked);
            out.writeInt(MAGIC);
            out.writeShort(VERSION);
            out.writeShort(0);
            out.writeLong(position.term());
            out.writeLong(position.index());
            out.writeLong(position.timeMillis());
            CountingStream counted = new CountingStream(out);
            state.writeSnapshot(counted);
            out.writeLong(counted.count);
            out.flush();
            // The CRC covers everything before it; the MD5 covers the whole file, CRC included.
            new DataOutputStream(new DigestOutputStream(Channels.newOutputStream(channel), md5))
                    .writeInt((int) crc.getValue());
            channel.force(true);
        }
        AtomicFile.replace(temp, file);
        MD5Hash digest = MD5Hash.newInstance(md5.digest());
        MD5FileUtil.saveMD5File(file.toFile(), digest);
        return digest;
    }

    /**
     * Checks the whole file (magic, version, length, CRC) and then lets {@code state} read its bytes.
     *
     * @return the position the snapshot stands for
     * @throws IOException naming the file and what is wrong if it is damaged or the state does not read exactly
     *     its own bytes
     */
    static Position read(Path file, ReplicatedState state) throws IOException {
        long size = Files.size(file);
        if (size < HEADER_BYTES + TRAILER_BYTES) {
            throw damaged(file, "only " + size + " bytes, shorter than header and trailer");
        }
        long stateBytes = size - HEADER_BYTES - TRAILER_BYTES;
        verifyCrc(file, size, stateBytes);
        try (DataInputStream in = new DataInputStream(new BufferedInputStream(Files.newInputStream(file), 1 << 16))) {
            Position position = readHeader(file, in);
            BoundedStream bounded = new BoundedStream(in, stateBytes);
            state.readSnapshot(bounded);
            if (bounded.remaining != 0) {
                throw damaged(file, "the state left " + bounded.remaining + " of its " + stateBytes + " bytes unread");
            }
            return position;
        }
    }

    /** The first pass: the CRC and the recorded length, before any byte reaches the state. */
    private static void verifyCrc(Path file, long size, long stateBytes) throws IOException {
        CRC32C crc = new CRC32C();
        try (DataInputStream in = new DataInputStream(new CheckedInputStream(
                new BufferedInputStream(Files.newInputStream(file), 1 << 16), crc))) {
            readHeader(file, in);
            in.skipNBytes(stateBytes);
            long recorded = in.readLong();
            int computed = (int) crc.getValue();
            int stored = in.readInt();
            if (recorded != stateBytes) {
                throw damaged(file, "trailer records " + recorded + " state bytes, the file holds " + stateBytes
                        + " (" + size + " bytes in all)");
            }
            if (computed != stored) {
                throw damaged(file, "CRC mismatch");
            }
        }
    }

    private static Position readHeader(Path file, DataInputStream in) throws IOException {
        int magic = in.readInt();
        if (magic != MAGIC) {
            throw damaged(file, String.format("bad magic 0x%08X", magic));
        }
        int version = in.readUnsignedShort();
        if (version != VERSION) {
            throw damaged(file, "unsupported format version " + version);
        }
        in.readUnsignedShort();
        return new Position(in.readLong(), in.readLong(), in.readLong());
    }

    private static IOException damaged(Path file, String reason) {
        return new IOException("snapshot " + file + " is damaged (" + reason + "); not using it");
    }

    /** Counts what the state writes; closing it does not close the file (the writer finishes the frame). */
    private static final class CountingStream extends FilterOutputStream {
        long count;

        CountingStream(OutputStream out) {
            super(out);
        }

        @Override
        public void write(int b) throws IOException {
            out.write(b);
            count++;
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
            count += len;
        }

        @Override
        public void close() throws IOException {
            flush();
        }
    }

    /** The state's bytes and no more: the trailer stays out of its reach. */
    private static final class BoundedStream extends InputStream {
        private final InputStream in;
        long remaining;

        BoundedStream(InputStream in, long remaining) {
            this.in = in;
            this.remaining = remaining;
        }

        @Override
        public int read() throws IOException {
            if (remaining == 0) {
                return -1;
            }
            int b = in.read();
            if (b >= 0) {
                remaining--;
            }
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (remaining == 0) {
                return len == 0 ? 0 : -1;
            }
            int n = in.read(b, off, (int) Math.min(len, remaining));
            if (n > 0) {
                remaining -= n;
            }
            return n;
        }

        @Override
        public void close() {
            // the reader closes the file
        }
    }
}
