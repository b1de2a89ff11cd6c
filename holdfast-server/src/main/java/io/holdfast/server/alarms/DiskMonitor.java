package io.holdfast.server.alarms;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The disk alarm: when free space in the data directory falls below {@code disk_free_limit.absolute},
 * every connection that publishes is sent connection.blocked and no longer read from (consumers on
 * other connections keep working); when space returns they get connection.unblocked. Checked once a
 * second by the caller's scheduler; the state change is logged once each way. Publishers stay blocked
 * while any other alarm ({@link ResourceAlarms}) is raised too.
 */
public final class DiskMonitor {
    private static final Logger log = LoggerFactory.getLogger(DiskMonitor.class);

    private final Path dataDir;
    private final ResourceAlarms alarms;
    private final LongSupplier freeBytes;
    private volatile long limitBytes;

    public DiskMonitor(Path dataDir, long limitBytes, ResourceAlarms alarms) {
        this.dataDir = dataDir;
        this.limitBytes = limitBytes;
        this.alarms = alarms;
        this.freeBytes = this::usableSpace;
    }

    private long usableSpace() {
        try {
            return Files.getFileStore(dataDir).getUsableSpace();
        } catch (IOException e) {
            log.warn("cannot read free disk space of {}: {}", dataDir, e.toString());
            return Long.MAX_VALUE;
        }
    }

    /** True while free disk space is below the limit (publishers are blocked). Any thread. */
    public boolean alarmed() {
        return alarms.alarmed(ResourceAlarms.Resource.DISK);
    }

    /** Changes the limit at run time, as {@code rabbitmqctl set_disk_free_limit} does; checks at once. */
    public void setLimitBytes(long bytes) {
        limitBytes = bytes;
        check();
    }

    /** Compares free space with the limit and raises or clears the alarm. */
    public synchronized void check() {
        long free = freeBytes.getAsLong();
        boolean low = free < limitBytes;
        if (!alarms.set(ResourceAlarms.Resource.DISK, low)) {
            return;
        }
        if (low) {
            log.warn("disk alarm: {} MB free in {} is below disk_free_limit.absolute ({} MB); blocking publishers",
                    free / 1_000_000, dataDir, limitBytes / 1_000_000);
        } else {
            log.info("disk alarm cleared: {} MB free in {}; unblocking publishers", free / 1_000_000, dataDir);
        }
    }
}
