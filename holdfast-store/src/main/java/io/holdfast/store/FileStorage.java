package io.holdfast.store;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/** {@link Storage} on a real directory through {@link FileChannel}. Same threading rules as the interface. */
final class FileStorage implements Storage {
    private final Path dir;

    /** Creates the directory (and makes its entry durable) if it does not exist. */
    FileStorage(Path dir) throws IOException {
        this.dir = dir;
        if (!Files.isDirectory(dir)) {
            Files.createDirectories(dir);
            Path parent = dir.toAbsolutePath().getParent();
            if (parent != null) {
                syncDirectory(parent);
            }
        }
    }

    @Override
    public List<String> list() throws IOException {
        List<String> names = new ArrayList<>();
        try (Stream<Path> files = Files.list(dir)) {
            files.forEach(file -> names.add(file.getFileName().toString()));
        }
        return names;
    }

    @Override
    public SegmentFile open(String name) throws IOException {
        return new ChannelFile(FileChannel.open(dir.resolve(name), StandardOpenOption.READ, StandardOpenOption.WRITE));
    }

    @Override
    public SegmentFile openForReading(String name) throws IOException {
        return new ChannelFile(FileChannel.open(dir.resolve(name), StandardOpenOption.READ));
    }

    @Override
    public SegmentFile create(String name) throws IOException {
        return new ChannelFile(FileChannel.open(dir.resolve(name),
                StandardOpenOption.CREATE_NEW, StandardOpenOption.READ, StandardOpenOption.WRITE));
    }

    @Override
    public void delete(String name) throws IOException {
        Files.delete(dir.resolve(name));
    }

    @Override
    public void syncDirectory() throws IOException {
        syncDirectory(dir);
    }

    /** Opening a directory read-only and forcing it is how the JDK reaches fsync(dirfd) on Linux. */
    static void syncDirectory(Path directory) throws IOException {
        try (FileChannel channel = FileChannel.open(directory, StandardOpenOption.READ)) {
            channel.force(true);
        }
    }

    private static final class ChannelFile implements SegmentFile {
        /**
         * A read into a heap buffer goes through a temporary direct buffer as large as the read, which the
         * JDK then caches per thread; reading in slices of this size keeps that cache small on threads that
         * read large records.
         */
        private static final int READ_SLICE_BYTES = 1 << 20;

        private final FileChannel channel;

        ChannelFile(FileChannel channel) throws IOException {
            this.channel = channel;
            channel.position(channel.size());
        }

        @Override
        public long size() throws IOException {
            return channel.size();
        }

        @Override
        public void read(ByteBuffer dst, long position) throws IOException {
            long at = position;
            ByteBuffer slice = dst.duplicate();
            while (dst.hasRemaining()) {
                slice.limit(dst.position() + Math.min(dst.remaining(), READ_SLICE_BYTES)).position(dst.position());
                int n = channel.read(slice, at);
                if (n < 0) {
                    return;
                }
                dst.position(dst.position() + n);
                at += n;
            }
        }

        @Override
        public void append(ByteBuffer src) throws IOException {
            while (src.hasRemaining()) {
                channel.write(src);
            }
        }

        @Override
        public void force() throws IOException {
            channel.force(false);
        }

        @Override
        public void truncate(long size) throws IOException {
            channel.truncate(size);
            channel.position(Math.min(channel.position(), size));
        }

        @Override
        public void close() throws IOException {
            channel.close();
        }
    }
}
