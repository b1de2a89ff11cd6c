package io.holdfast.server.alarms;

import com.sun.management.GarbageCollectionNotificationInfo;
import com.sun.management.GcInfo;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.lang.management.MemoryUsage;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import javax.management.ListenerNotFoundException;
import javax.management.Notification;
import javax.management.NotificationEmitter;
import javax.management.NotificationListener;
import javax.management.openmbean.CompositeData;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The memory alarm, as RabbitMQ's {@code vm_memory_high_watermark}: when the heap still in use after a
 * garbage collection is above the watermark, every connection that publishes is sent connection.blocked
 * and no longer read from (consumers keep working); when it falls back they get connection.unblocked
 * (unless the disk alarm is raised too: {@link ResourceAlarms}). Logged once each way.
 *
 * <p>The measure is the heap occupancy after each collection, not the used heap, which includes garbage
 * not yet collected. It comes from the collectors' GC notifications: each one carries the usage of every
 * memory pool after that collection, and we sum the heap pools. With G1 (the default) young and mixed
 * collections are reported by "G1 Young Generation" and full collections by "G1 Old Generation", and all
 * of them include the old generation's usage, so the measure follows every collection and the alarm
 * clears as soon as a collection shows the heap below the watermark. (Polling
 * {@code MemoryPoolMXBean.getCollectionUsage()} instead would not do: G1's old generation pool only
 * updates it on full or mixed collections, so a raised alarm could stay raised.)
 *
 * <p>A collection only happens when something allocates, and an idle broker with blocked publishers may
 * allocate little; so while the alarm is raised and no collection has run for a while, {@link #tick()}
 * requests one ({@code System.gc()}), backing off from 10 s to 5 min while it stays raised.
 */
public final class MemoryMonitor implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(MemoryMonitor.class);
    private static final long FIRST_FORCED_GC_NANOS = TimeUnit.SECONDS.toNanos(10);
    private static final long MAX_FORCED_GC_NANOS = TimeUnit.MINUTES.toNanos(5);
    private static final long MIB = 1024 * 1024;

    private final ResourceAlarms alarms;
    private final Set<String> heapPools = new HashSet<>();
    private final List<NotificationEmitter> emitters = new ArrayList<>();
    private final NotificationListener listener = this::onNotification;
    private volatile long highWatermarkBytes;
    private volatile long heapAfterGcBytes;
    private volatile long lastGcNanos = System.nanoTime();
    private long forcedGcIntervalNanos = FIRST_FORCED_GC_NANOS; // guarded by this

    public MemoryMonitor(long highWatermarkBytes, ResourceAlarms alarms) {
        this.highWatermarkBytes = highWatermarkBytes;
        this.alarms = alarms;
        long collected = 0;
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() == MemoryType.HEAP) {
                heapPools.add(pool.getName());
                MemoryUsage u = pool.getCollectionUsage(); // a first estimate until the next GC reports
                if (u != null) {
                    collected += u.getUsed();
                }
            }
        }
        heapAfterGcBytes = collected;
    }

    /** Starts listening for GC notifications and checks the first estimate. */
    public void start() {
        for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            if (gc instanceof NotificationEmitter emitter) {
                emitter.addNotificationListener(listener, null, null);
                emitters.add(emitter);
            }
        }
        if (emitters.isEmpty()) {
            log.warn("no garbage collector reports collections; the memory alarm (vm_memory_high_watermark) is off");
        }
        check();
    }

    private void onNotification(Notification n, Object handback) {
        if (!GarbageCollectionNotificationInfo.GARBAGE_COLLECTION_NOTIFICATION.equals(n.getType())) {
            return;
        }
        GcInfo info = GarbageCollectionNotificationInfo.from((CompositeData) n.getUserData()).getGcInfo();
        long used = 0;
        for (Map.Entry<String, MemoryUsage> pool : info.getMemoryUsageAfterGc().entrySet()) {
            if (heapPools.contains(pool.getKey())) {
                used += pool.getValue().getUsed();
            }
        }
        heapAfterGcBytes = used;
        lastGcNanos = System.nanoTime();
        check();
    }

    /** True while the heap after GC is above the watermark (publishers are blocked). Any thread. */
    public boolean alarmed() {
        return alarms.alarmed(ResourceAlarms.Resource.MEMORY);
    }

    /** Heap bytes in use after the last garbage collection. Any thread. */
    public long heapUsedAfterGcBytes() {
        return heapAfterGcBytes;
    }

    public long highWatermarkBytes() {
        return highWatermarkBytes;
    }

    /** Changes the watermark at run time, as {@code rabbitmqctl set_vm_memory_high_watermark} does; checks the
     *  last after-GC measure against it at once. */
    public void setHighWatermarkBytes(long bytes) {
        highWatermarkBytes = bytes;
        check();
    }

    /** Once a second: while the alarm is raised and nothing has collected for a while, asks for a GC. */
    public void tick() {
        boolean force;
        synchronized (this) {
            force = alarmed() && System.nanoTime() - lastGcNanos > forcedGcIntervalNanos;
            if (force) {
                forcedGcIntervalNanos = Math.min(forcedGcIntervalNanos * 2, MAX_FORCED_GC_NANOS);
            }
        }
        if (force) {
            log.debug("memory alarm raised and no GC for a while; requesting one");
            lastGcNanos = System.nanoTime(); // in case explicit GC is disabled
            System.gc();
        }
    }

    /** Compares the last after-GC heap with the watermark and raises or clears the alarm. */
    synchronized void check() {
        long used = heapAfterGcBytes;
        long watermark = highWatermarkBytes;
        boolean high = used > watermark;
        if (!alarms.set(ResourceAlarms.Resource.MEMORY, high)) {
            return;
        }
        if (high) {
            log.warn("memory alarm: heap after GC {} MiB is above vm_memory_high_watermark ({} MiB); "
                    + "blocking publishers", used / MIB, watermark / MIB);
        } else {
            forcedGcIntervalNanos = FIRST_FORCED_GC_NANOS;
            log.info("memory alarm cleared: heap after GC {} MiB is below vm_memory_high_watermark ({} MiB); "
                    + "unblocking publishers", used / MIB, watermark / MIB);
        }
    }

    /** Stops listening for GC notifications. */
    @Override
    public void close() {
        for (NotificationEmitter e : emitters) {
            try {
                e.removeNotificationListener(listener);
            } catch (ListenerNotFoundException ignored) {
                // not registered: nothing to remove
            }
        }
        emitters.clear();
    }
}
