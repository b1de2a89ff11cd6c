package io.holdfast.store;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The fault-injecting twin of {@link FileStorage} (STYLE habit 3): real files underneath, plus counters
 * (fsyncs, directory syncs), injected failures (the n-th write, fsync or create fails), a gate that holds
 * fsyncs so a test can look at the journal while the writer is inside one, a simulated disk latency,
 * and a crash that loses whatever was never forced.
 */
final class FaultyStorage implements Storage {
    final AtomicInteger forces = new AtomicInteger();
    final AtomicInteger forcesEntered = new AtomicInteger();
    final AtomicInteger directorySyncs = new AtomicInteger();
    final Map<String, AtomicInteger> forcesByFile = new ConcurrentHashMap<>();
    /** Read-only handles opened by {@link #openForReading}, and how many of them are still open. */
    final AtomicInteger readersOpened = new AtomicInteger();
    final AtomicInteger readersOpen = new AtomicInteger();
    /** Positional reads made through read-only handles. */
    final AtomicInteger readerReads = new AtomicInteger();
    private final AtomicInteger forcesUntilFailure = new AtomicInteger(-1);
    private final AtomicInteger appendsUntilFailure = new AtomicInteger(-1);
    private final AtomicInteger createsUntilFailure = new AtomicInteger(-1);
    private volatile Error forceError;
    private volatile Semaphore forceGate;
    private volatile long forceLatencyMicros;
    private volatile boolean crashed;

    private final Path dir;
    private final FileStorage real;
    /** Bytes of each file that a force (or the crash model's start) made durable. */
    private final Map<String, Long> durableBytes = new ConcurrentHashMap<>();
    /** Files created since the last directory sync: a crash may forget them. */
    private final Set<String> unsyncedNames = ConcurrentHashMap.newKeySet();

    FaultyStorage(Path dir) throws IOException {
        this.dir = dir;
        this.real = new FileStorage(dir);
        for (String name : real.list()) {
            durableBytes.put(name, Files.size(dir.resolve(name)));
        }
    }

    /** The {@code n}-th fsync from now (1 = the next) throws. */
    void failForce(int n) {
        forcesUntilFailure.set(n);
    }

    void failAppend(int n) {
        appendsUntilFailure.set(n);
    }

    void failCreate(int n) {
        createsUntilFailure.set(n);
    }

    /** The next fsync throws this Error (a bug or a VM error, not an I/O error). */
    void breakForce(Error error) {
        forceError = error;
    }

    /** From now on every fsync waits for a permit; {@link #openGate()} lets them all through. */
    void closeGate() {
        forceGate = new Semaphore(0);
    }

    void openGate() {
        Semaphore gate = forceGate;
        forceGate = null;
        if (gate != null) {
            gate.release(Integer.MAX_VALUE / 2);
        }
    }

    void forceLatency(long micros) {
        forceLatencyMicros = micros;
    }

    /** Power cut, part 1: from now on every operation fails. Close the journal, then {@link #loseUnforcedBytes}. */
    void crash() {
        crashed = true;
    }

    /**
     * Power cut, part 2, once nothing uses the files: each file keeps its forced bytes plus a random prefix
     * of the rest; a file whose creation was never made durable by a directory sync may vanish; and the
     * newest file may have grown by zeros (its size was updated, its data never written).
     */
    void loseUnforcedBytes(Random random) throws IOException {
        String newest = durableBytes.keySet().stream().max(String::compareTo).orElse(null);
        for (Map.Entry<String, Long> file : durableBytes.entrySet()) {
            Path path = dir.resolve(file.getKey());
            if (!Files.exists(path)) {
                continue;
            }
            if (unsyncedNames.contains(file.getKey()) && random.nextBoolean()) {
                Files.delete(path);
                continue;
            }
            long size = Files.size(path);
            long durable = Math.min(file.getValue(), size);
            long keep = durable + (long) (random.nextDouble() * (size - durable + 1));
            try (FileChannel channel = FileChannel.open(path, StandardOpenOption.WRITE)) {
                channel.truncate(Math.min(keep, size));
                if (file.getKey().equals(newest) && random.nextBoolean()) {
                    channel.write(ByteBuffer.allocate(1 + random.nextInt(4096)), channel.size());
                }
            }
        }
    }

    private void checkAlive() throws IOException {
        if (crashed) {
            throw new IOException("simulated power cut");
        }
    }

    private static boolean fires(AtomicInteger countdown) {
        return countdown.get() > 0 && countdown.decrementAndGet() == 0;
    }

    @Override
    public List<String> list() throws IOException {
        checkAlive();
        return real.list();
    }

    @Override
    public SegmentFile open(String name) throws IOException {
        checkAlive();
        return new FaultyFile(name, real.open(name), false);
    }

    @Override
    public SegmentFile openForReading(String name) throws IOException {
        checkAlive();
        SegmentFile file = real.openForReading(name);
        readersOpened.incrementAndGet();
        readersOpen.incrementAndGet();
        return new FaultyFile(name, file, true);
    }

    @Override
    public SegmentFile create(String name) throws IOException {
        checkAlive();
        if (fires(createsUntilFailure)) {
            throw new IOException("injected create failure");
        }
        SegmentFile file = real.create(name);
        unsyncedNames.add(name);
        durableBytes.put(name, 0L);
        return new FaultyFile(name, file, false);
    }

    @Override
    public void delete(String name) throws IOException {
        checkAlive();
        real.delete(name);
        durableBytes.remove(name);
        unsyncedNames.remove(name);
    }

    @Override
    public void syncDirectory() throws IOException {
        checkAlive();
        real.syncDirectory();
        unsyncedNames.clear();
        directorySyncs.incrementAndGet();
    }

    private final class FaultyFile implements SegmentFile {
        private final String name;
        private final SegmentFile file;
        private final boolean readOnly;
        private final AtomicInteger closes = new AtomicInteger();

        FaultyFile(String name, SegmentFile file, boolean readOnly) {
            this.name = name;
            this.file = file;
            this.readOnly = readOnly;
        }

        @Override
        public long size() throws IOException {
            checkAlive();
            return file.size();
        }

        @Override
        public void read(ByteBuffer dst, long position) throws IOException {
            checkAlive();
            if (readOnly) {
                readerReads.incrementAndGet();
            }
            file.read(dst, position);
        }

        @Override
        public void append(ByteBuffer src) throws IOException {
            checkAlive();
            if (fires(appendsUntilFailure)) {
                // A short write first, as a full disk would leave it.
                ByteBuffer half = src.duplicate();
                half.limit(src.position() + src.remaining() / 2);
                file.append(half);
                throw new IOException("injected write failure");
            }
            file.append(src);
        }

        @Override
        public void force() throws IOException {
            forcesEntered.incrementAndGet();
            Semaphore gate = forceGate;
            if (gate != null) {
                gate.acquireUninterruptibly();
            }
            checkAlive();
            Error error = forceError;
            if (error != null) {
                forceError = null;
                throw error;
            }
            if (forceLatencyMicros > 0) {
                try {
                    TimeUnit.MICROSECONDS.sleep(forceLatencyMicros); // a slower disk, for the batching test
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            if (fires(forcesUntilFailure)) {
                throw new IOException("injected fsync failure");
            }
            synchronized (FaultyStorage.this) {
                file.force();
                durableBytes.put(name, file.size());
            }
            forces.incrementAndGet();
            forcesByFile.computeIfAbsent(name, k -> new AtomicInteger()).incrementAndGet();
        }

        @Override
        public void truncate(long size) throws IOException {
            checkAlive();
            file.truncate(size);
            durableBytes.computeIfPresent(name, (k, durable) -> Math.min(durable, size));
        }

        @Override
        public void close() throws IOException {
            if (readOnly && closes.getAndIncrement() == 0) {
                readersOpen.decrementAndGet();
            }
            file.close();
        }
    }
}
