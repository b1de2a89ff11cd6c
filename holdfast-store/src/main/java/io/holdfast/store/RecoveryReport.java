package io.holdfast.store;

import java.util.List;

/**
 * What {@link Journal#open} found on disk. Immutable; safe to share between threads.
 *
 * @param segmentsScanned segment files examined
 * @param recordsRecovered records whose CRC checked out and that were handed to the visitor
 * @param tornTailBytesTruncated bytes cut from the end of the last segment (or a last segment file
 *     removed) because a write was interrupted: normal after a crash, not damage
 * @param corruptRecordsSkipped damaged regions skipped: one per corrupt stretch inside a segment (it may
 *     have held several records) and one per segment whose header is bad. Their bytes were never
 *     delivered
 * @param damage one entry per skipped region, {@code "file@offset: reason"}
 */
public record RecoveryReport(
        int segmentsScanned,
        long recordsRecovered,
        long tornTailBytesTruncated,
        long corruptRecordsSkipped,
        List<String> damage) {

    public RecoveryReport {
        damage = List.copyOf(damage);
    }

    /** True when records were lost to corruption (as opposed to a torn tail): an operator should look. */
    public boolean degraded() {
        return corruptRecordsSkipped > 0;
    }
}
