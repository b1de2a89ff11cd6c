package io.holdfast.server.alarms;

import java.util.EnumSet;

/**
 * The resource alarms (disk, memory) combined, as RabbitMQ does: a publishing connection is blocked
 * (connection.blocked) while any alarm is raised, and unblocked (connection.unblocked) only when all
 * have cleared. The monitors ({@link DiskMonitor}, {@link MemoryMonitor}) raise and clear their own
 * resource here; connections are told only when the combined state changes.
 */
public final class ResourceAlarms {
    /** A resource that can run short, with the reason connection.blocked gives (RabbitMQ's wording). */
    public enum Resource {
        DISK("low on disk"), MEMORY("low on memory");

        private final String blockedReason;

        Resource(String blockedReason) {
            this.blockedReason = blockedReason;
        }
    }

    /** Who is told when publishing must stop or may resume: the AMQP connections. */
    public interface Listener {
        /** Called under the alarms' lock, in the order changes happen; must not block. */
        void resourceAlarmChanged(boolean alarmed, String reason);
    }

    private final Iterable<? extends Listener> listeners;
    private final EnumSet<Resource> raised = EnumSet.noneOf(Resource.class); // guarded by this
    private volatile String reason; // null while no alarm is raised

    /** {@code listeners} is read at each change, so it may be a live, concurrent set. */
    public ResourceAlarms(Iterable<? extends Listener> listeners) {
        this.listeners = listeners;
    }

    /** True while any alarm is raised, so publishers are blocked. Any thread. */
    public boolean alarmed() {
        return reason != null;
    }

    /** True while the given resource's alarm is raised. Any thread. */
    public synchronized boolean alarmed(Resource r) {
        return raised.contains(r);
    }

    /** The connection.blocked reason while an alarm is raised (the first resource's), else null. */
    public String reason() {
        return reason;
    }

    /**
     * Raises or clears one resource's alarm; tells every connection if that changes the combined state.
     * Returns true if the resource's own alarm changed, so its monitor logs each change once.
     */
    synchronized boolean set(Resource r, boolean on) {
        boolean changed = on ? raised.add(r) : raised.remove(r);
        if (!changed) {
            return false;
        }
        boolean wasAlarmed = reason != null;
        reason = raised.isEmpty() ? null : raised.iterator().next().blockedReason;
        boolean alarmed = reason != null;
        if (alarmed != wasAlarmed) {
            // Under the lock, so each connection sees raise/clear in the order they happened.
            for (Listener l : listeners) {
                l.resourceAlarmChanged(alarmed, reason);
            }
        }
        return true;
    }
}
