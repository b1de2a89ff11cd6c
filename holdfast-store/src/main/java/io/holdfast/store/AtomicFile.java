package io.holdfast.store;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Objects;
import java.util.Optional;
import java.util.zip.CRC32C;

/**
 * A small file replaced as a whole, durably and atomically: after a crash a reader finds either the old
 * content or the new, never a mix, and damage is detected instead of returned. For metadata snapshots.
 *
 * <p>{@link #write} writes {@code <name>.tmp}, fsyncs it, renames it over {@code <name>} and fsyncs the
 * directory, so the rename itself survives a crash. Format, version 1, integers big-endian:
 *
 * <pre>
 *    0  u32  magic 0x48464146 ("HFAF")
 *    4  u16  format version, 1
 *    6  u16  reserved, 0
 *    8  u32  n, content length
 *   12  u32  CRC32C of bytes 0..11 followed by the n content bytes
 *   16  n    content
 * </pre>
 *
 * <p>Any thread may call these methods, but writes to one file must not run concurrently (they share the
 * temporary file name); the caller serialises them.
 */
public final class AtomicFile {
    static final int MAGIC = 0x48464146;
    static final short VERSION = 1;
    static final int HEADER_BYTES = 16;
    private static final String TEMP_SUFFIX = ".tmp";

    private AtomicFile() {}

    /** Replaces {@code file} with {@code content}; when this returns, the new content is durable. */
    public static void write(Path file, byte[] content) throws IOException {
        Objects.requireNonNull(content, "content");
        Path absolute = file.toAbsolutePath();
        Path temp = absolute.resolveSibling(absolute.getFileName() + TEMP_SUFFIX);
        ByteBuffer header = ByteBuffer.allocate(HEADER_BYTES);
        header.putInt(MAGIC).putShort(VERSION).putShort((short) 0).putInt(content.length);
        header.putInt(crc(header.array(), content));
        header.flip();
        try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer body = ByteBuffer.wrap(content);
            while (header.hasRemaining() || body.hasRemaining()) {
                channel.write(new ByteBuffer[] {header, body});
            }
            channel.force(true);
        }
        replace(temp, absolute);
    }

    /**
     * Renames {@code temp}, already written and forced by the caller, over {@code target} and fsyncs their
     * directory, so that after a crash {@code target} holds the old content or the new, and a completed
     * replacement survives. For files in other formats that are written as a stream (Raft snapshots).
     */
    public static void replace(Path temp, Path target) throws IOException {
        Path absolute = target.toAbsolutePath();
        Files.move(temp, absolute, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        FileStorage.syncDirectory(absolute.getParent());
    }

    /**
     * The content last written, or empty if the file does not exist.
     *
     * @throws IOException if the file is damaged (bad magic, version, length or CRC), naming the file
     */
    public static Optional<byte[]> read(Path file) throws IOException {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException missing) {
            return Optional.empty();
        }
        if (bytes.length < HEADER_BYTES) {
            throw damaged(file, "only " + bytes.length + " bytes, shorter than the header");
        }
        ByteBuffer header = ByteBuffer.wrap(bytes, 0, HEADER_BYTES);
        int magic = header.getInt();
        if (magic != MAGIC) {
            throw damaged(file, String.format("bad magic 0x%08X", magic));
        }
        int version = Short.toUnsignedInt(header.getShort());
        header.getShort();
        int length = header.getInt();
        if (length < 0 || length != bytes.length - HEADER_BYTES) {
            throw damaged(file, "header announces " + Integer.toUnsignedString(length) + " bytes of content, file has "
                    + (bytes.length - HEADER_BYTES));
        }
        byte[] content = new byte[length];
        System.arraycopy(bytes, HEADER_BYTES, content, 0, length);
        if (crc(bytes, content) != header.getInt()) {
            throw damaged(file, "CRC mismatch");
        }
        if (version != VERSION) {
            throw damaged(file, "unsupported format version " + version);
        }
        return Optional.of(content);
    }

    /** CRC32C over the first 12 header bytes and the content. */
    private static int crc(byte[] header, byte[] content) {
        CRC32C crc = new CRC32C();
        crc.update(header, 0, 12);
        crc.update(content, 0, content.length);
        return (int) crc.getValue();
    }

    private static IOException damaged(Path file, String reason) {
        return new IOException(file + " is damaged (" + reason + "); not using it");
    }
}
