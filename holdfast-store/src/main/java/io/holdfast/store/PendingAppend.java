package io.holdfast.store;

import java.util.zip.CRC32C;

/** One record on its way to disk. Built on the appending thread (which pays for the CRC), then owned by the writer. */
final class PendingAppend {
    final byte[] payload;
    final int crc;
    final boolean live;
    final AppendCallback callback;
    /** Set by the writer when the record is refused before writing; writer thread only. */
    Throwable rejection;
    /** The record's {@link Journal#position position}, set when the writer lays it out; writer thread only. */
    long position = -1;
    /** Set once the callback has run; writer thread only. */
    boolean completed;

    PendingAppend(byte[] payload, boolean live, AppendCallback callback) {
        this.payload = payload;
        this.crc = SegmentFormat.recordCrc(new CRC32C(), payload.length, payload, 0);
        this.live = live;
        this.callback = callback;
    }

    long recordBytes() {
        return SegmentFormat.RECORD_HEADER_BYTES + (long) payload.length;
    }

    /** Checks data twice (STYLE habit 8): catches a caller that modified the array after append. */
    boolean crcStillMatches() {
        return SegmentFormat.recordCrc(new CRC32C(), payload.length, payload, 0) == crc;
    }
}
