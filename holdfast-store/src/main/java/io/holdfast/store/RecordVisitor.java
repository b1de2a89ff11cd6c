package io.holdfast.store;

/**
 * Receives recovered records during {@link Journal#open}, on the thread that called {@code open}, in
 * journal order (segment by segment, oldest first; within a segment in append order). Every payload has
 * passed its CRC check. An exception thrown here aborts {@code open} and is rethrown to its caller.
 */
@FunctionalInterface
public interface RecordVisitor {
    /**
     * @param position the record's {@link Journal#position position}, the same its {@link AppendCallback}
     *     got when it was appended: {@link Journal#retain retain} it after open if the record is still
     *     live; once open returns, {@link Journal#read} reads the record at it again
     * @param payload a fresh copy of the record's bytes, owned by the visitor
     */
    void record(long position, byte[] payload);
}
