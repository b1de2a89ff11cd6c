package io.holdfast.store;

import java.nio.file.Path;
import java.util.Objects;

/**
 * How a {@link Journal} lays out and forces its files. Immutable; checked when built.
 *
 * @param dir the journal's own directory (created if absent); files in it that are not named like
 *     segments are ignored
 * @param segmentBytesMax a segment is closed and a new one started when the next record would make the
 *     file larger than this (a closed segment then gets its 32-byte seal on top, see {@link SegmentFormat});
 *     also bounds the largest record (see {@link #payloadBytesMax()}). Between
 *     {@value #SEGMENT_BYTES_MIN} bytes and 1 GiB: recovery reads one whole segment into memory.
 * @param fsync when records are forced to stable storage
 * @param fsyncIntervalMillis for {@link FsyncPolicy#INTERVAL}: the longest time written records stay
 *     unforced; ignored by the other policies
 */
public record JournalConfig(Path dir, long segmentBytesMax, FsyncPolicy fsync, long fsyncIntervalMillis) {

    /** Room for the segment header and one small record. */
    public static final long SEGMENT_BYTES_MIN = SegmentFormat.HEADER_BYTES + SegmentFormat.RECORD_HEADER_BYTES + 1;

    /** Keeps a segment readable into one byte array during recovery. */
    public static final long SEGMENT_BYTES_LIMIT = 1L << 30;

    public JournalConfig {
        Objects.requireNonNull(dir, "dir");
        Objects.requireNonNull(fsync, "fsync");
        if (segmentBytesMax < SEGMENT_BYTES_MIN || segmentBytesMax > SEGMENT_BYTES_LIMIT) {
            throw new IllegalArgumentException("segmentBytesMax must be between " + SEGMENT_BYTES_MIN
                    + " and " + SEGMENT_BYTES_LIMIT + ", was " + segmentBytesMax);
        }
        if (fsyncIntervalMillis < 1) {
            throw new IllegalArgumentException("fsyncIntervalMillis must be at least 1, was " + fsyncIntervalMillis);
        }
    }

    /** 64 MiB segments, {@link FsyncPolicy#ALWAYS}, 200 ms interval (used only if the policy changes). */
    public static JournalConfig defaults(Path dir) {
        return new JournalConfig(dir, 64L << 20, FsyncPolicy.ALWAYS, 200);
    }

    /** The largest payload {@link Journal#append} accepts: one record filling a fresh segment. */
    public int payloadBytesMax() {
        return (int) (segmentBytesMax - SegmentFormat.HEADER_BYTES - SegmentFormat.RECORD_HEADER_BYTES);
    }

    public JournalConfig withFsync(FsyncPolicy policy) {
        return new JournalConfig(dir, segmentBytesMax, policy, fsyncIntervalMillis);
    }

    public JournalConfig withSegmentBytesMax(long bytes) {
        return new JournalConfig(dir, bytes, fsync, fsyncIntervalMillis);
    }
}
