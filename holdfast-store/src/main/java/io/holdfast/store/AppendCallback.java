package io.holdfast.store;

/**
 * Learns the fate of one {@link Journal#append appended} record.
 *
 * <p>Runs on the journal's writer thread, once per record, in append order. It must be quick and must not
 * block (hand work to another thread): while it runs, no other batch is written. It may call
 * {@link Journal#append}, {@link Journal#read}, {@link Journal#settle} and {@link Journal#retain}, but not
 * {@link Journal#close}.
 */
@FunctionalInterface
public interface AppendCallback {
    /**
     * @param position the record's {@link Journal#position position} (segment id and offset); meaningful
     *     only when {@code errorOrNull} is null, -1 otherwise. From the moment this runs, any thread may
     *     {@link Journal#read read} the record at it; pass it to {@link Journal#settle} when a live record
     *     stops being live
     * @param errorOrNull null when the record is stored as the journal's {@link FsyncPolicy} promises;
     *     otherwise the I/O error that kept it from being stored. A failed record was not confirmed;
     *     the journal tries to remove its bytes, but if that also fails it may come back on replay
     *     (at least once, never corrupt).
     */
    void completed(long position, Throwable errorOrNull);
}
