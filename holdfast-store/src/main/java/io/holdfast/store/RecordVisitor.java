package io.holdfast.store;

import java.util.Arrays;

/**
 * Receives recovered records during {@link Journal#open}, on the thread that called {@code open}, in
 * journal order (segment by segment, oldest first; within a segment in append order). Every payload has
 * passed its CRC check. An exception thrown here aborts {@code open} and is rethrown to its caller.
 *
 * <p>Recovery calls {@link #record(long, byte[], int, int)}, which hands over the record in place, in the
 * buffer the segment was read into; its default copies the bytes and calls {@link #record(long, byte[])}.
 * A visitor that reads a payload only during the call overrides the in-place method and saves a copy
 * (and an allocation) per record.
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

    /**
     * The record in place: its payload is {@code data[offset, offset + length)}. The array is recovery's
     * read buffer: valid only during this call (it is reused for the next segment), not to be modified,
     * and it holds other records around the payload. Copy what must outlive the call.
     *
     * @param position as in {@link #record(long, byte[])}
     */
    default void record(long position, byte[] data, int offset, int length) {
        record(position, Arrays.copyOfRange(data, offset, offset + length));
    }
}
