package io.holdfast.store;

import io.holdfast.store.RecoveryTable.Action;
import io.holdfast.store.RecoveryTable.Crc;
import io.holdfast.store.RecoveryTable.End;
import io.holdfast.store.RecoveryTable.Header;
import io.holdfast.store.RecoveryTable.Length;
import io.holdfast.store.RecoveryTable.Tail;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * Reads the bytes of one segment as {@link RecoveryTable} says: delivers every record whose length and
 * CRC check out, in file order, and says where to truncate and what to report. No I/O, so every case is
 * testable on byte arrays. Called by {@link JournalRecovery} on the opening thread.
 */
final class SegmentScanner {

    /**
     * What a segment held.
     *
     * @param segmentAction {@link Action#DELIVER} when the header was good and the records were read;
     *     {@link Action#DROP_SEGMENT} or {@link Action#SKIP_SEGMENT} when the header decided for the file
     * @param truncateAt the offset of a torn tail to cut, or -1
     * @param tornReason why the tail is torn (for the log line), or null
     * @param formatVersion the header's format version, or 0 if the header decided for the file
     * @param predecessorDistance from a v2 header (see {@link SegmentFormat}), else 0
     * @param sealNeeded the last v2 segment has no seal (after cutting its torn tail, if any): recovery
     *     appends one ({@link Action#SEAL})
     */
    record Result(Action segmentAction, long recordsDelivered, int truncateAt, String tornReason,
                  long corruptRegions, List<String> damage, int formatVersion, int predecessorDistance,
                  boolean sealNeeded) {}

    /** One record header examined at an offset. */
    private record Probe(Length length, Crc crc, int payloadLength, int end, String problem) {
        boolean good() {
            return length == Length.OK && crc == Crc.OK;
        }
    }

    private SegmentScanner() {}

    static Result scan(String fileName, long segmentId, byte[] data, int size, boolean lastSegment,
                       RecordVisitor visitor) {
        String headerProblem = SegmentFormat.headerProblem(data, size, segmentId);
        Header header = headerProblem == null ? Header.OK
                : SegmentFormat.isTornHeader(data, size, segmentId) ? Header.TORN : Header.BAD;
        // A header row of the table ignores the record columns; with a good header it answers DELIVER.
        Action segmentAction = RecoveryTable.decide(lastSegment, header, Length.OK, Crc.OK, Tail.EOF);
        if (segmentAction == Action.DROP_SEGMENT) {
            return new Result(segmentAction, 0, -1, "incomplete header, then nothing but zeros (" + headerProblem + ")",
                    0, List.of(), 0, 0, false);
        }
        if (segmentAction == Action.SKIP_SEGMENT) {
            String reason = header == Header.TORN ? "no segment header (" + headerProblem + "), not the last segment"
                    : headerProblem;
            return new Result(segmentAction, 0, -1, null, 1, List.of(fileName + "@0: " + reason + "; segment skipped"),
                    0, 0, false);
        }
        int version = SegmentFormat.version(data);
        int distance = SegmentFormat.predecessorDistance(data);
        boolean sealed = version != SegmentFormat.VERSION_1;

        CRC32C crc = new CRC32C();
        List<String> damage = new ArrayList<>();
        long delivered = 0;
        int p = SegmentFormat.HEADER_BYTES;
        SegmentFormat.Seal seal = null;
        int sealAt = -1;
        while (p < size) {
            if (sealed && (seal = SegmentFormat.parseSeal(data, size, p, crc)) != null) {
                sealAt = p;
                p += SegmentFormat.SEAL_BYTES;
                break;
            }
            Probe probe = probe(data, size, p, crc, sealed);
            if (probe.good()) { // the table's row OK/OK: DELIVER whatever follows, so no tail to classify
                int from = p + SegmentFormat.RECORD_HEADER_BYTES;
                visitor.record(Journal.position(segmentId, p), data, from, probe.payloadLength());
                delivered++;
                p = probe.end();
                continue;
            }
            int next = nextValidRecord(data, size, p + 1, crc, sealed);
            Tail tail = next >= 0 ? Tail.VALID_RECORD : tailAfter(data, size, probe.end());
            Action action = RecoveryTable.decide(lastSegment, Header.OK, probe.length(), probe.crc(), tail);
            switch (action) {
                case TRUNCATE:
                    return new Result(Action.DELIVER, delivered, p, probe.problem() + ", " + describe(tail),
                            damage.size(), damage, version, distance,
                            RecoveryTable.decideEnd(true, version, End.UNSEALED) == Action.SEAL);
                case SKIP_TO_NEXT_VALID:
                    damage.add(fileName + "@" + p + ": " + probe.problem() + "; skipped " + (next - p)
                            + " bytes to the next valid record");
                    p = next;
                    break;
                case SKIP_REST_OF_SEGMENT:
                    damage.add(fileName + "@" + p + ": " + probe.problem() + "; skipped the rest of the segment ("
                            + (size - p) + " bytes), " + describe(tail));
                    return new Result(Action.DELIVER, delivered, -1, null, damage.size(), damage, version, distance,
                            false); // the seal, if any, was in the skipped region: the end is already reported
                default:
                    throw new IllegalStateException("decision table gave " + action + " for a bad record");
            }
        }
        End end;
        if (seal == null) {
            end = End.UNSEALED;
        } else if (seal.offset() != sealAt || (damage.isEmpty() && seal.records() != delivered)) {
            end = End.SEAL_DISAGREES; // after skipped damage the count cannot agree; that loss is reported already
        } else {
            end = p < size ? End.BYTES_AFTER_SEAL : End.SEALED;
        }
        int truncateAt = -1;
        String tornReason = null;
        switch (RecoveryTable.decideEnd(lastSegment, version, end)) {
            case DELIVER, SEAL:
                break;
            case REPORT_END:
                if (seal == null) {
                    damage.add(fileName + "@" + size + ": the closed segment ends without its seal after " + delivered
                            + " records: it was cut short, so the records written after offset " + size
                            + " are lost");
                } else {
                    damage.add(fileName + "@" + sealAt + ": the seal states " + seal.records() + " records in "
                            + seal.offset() + " bytes, the segment holds " + delivered + " records in " + sealAt
                            + " bytes: records are lost");
                }
                break;
            case TRUNCATE:
                truncateAt = p;
                tornReason = (size - p) + " bytes after the segment's seal";
                break;
            case SKIP_REST_OF_SEGMENT:
                damage.add(fileName + "@" + p + ": " + (size - p) + " bytes after the segment's seal; skipped");
                break;
            default:
                throw new IllegalStateException("decision table gave an unexpected action for the end " + end);
        }
        return new Result(Action.DELIVER, delivered, truncateAt, tornReason, damage.size(), damage, version, distance,
                RecoveryTable.decideEnd(lastSegment, version, end) == Action.SEAL);
    }

    private static Probe probe(byte[] data, int size, int p, CRC32C crc, boolean sealed) {
        int left = size - p;
        if (sealed && left >= 4 && SegmentFormat.readInt(data, p) == SegmentFormat.SEAL_TAG) {
            // Not a valid seal (the caller tried): a partial one, or one whose CRC or magic is off.
            return left < SegmentFormat.SEAL_BYTES
                    ? new Probe(Length.ABSURD, Crc.BAD, 0, size, "partial seal (" + left + " bytes)")
                    : new Probe(Length.OK, Crc.BAD, 0, p + SegmentFormat.SEAL_BYTES, "seal CRC or magic mismatch");
        }
        if (left < SegmentFormat.RECORD_HEADER_BYTES) {
            return new Probe(Length.ABSURD, Crc.BAD, 0, size, "partial record header (" + left + " bytes)");
        }
        int length = SegmentFormat.readInt(data, p);
        int room = left - SegmentFormat.RECORD_HEADER_BYTES;
        if (length < 0 || length > room) {
            return new Probe(Length.ABSURD, Crc.BAD, 0, p + SegmentFormat.RECORD_HEADER_BYTES,
                    "length " + Integer.toUnsignedString(length) + " runs past the end of the file (" + room
                            + " bytes left)");
        }
        int from = p + SegmentFormat.RECORD_HEADER_BYTES;
        boolean crcOk = SegmentFormat.recordCrcMatches(crc, length, SegmentFormat.readInt(data, p + 4), data, from);
        return new Probe(Length.OK, crcOk ? Crc.OK : Crc.BAD, length, from + length,
                crcOk ? null : "CRC mismatch (length " + length + ")");
    }

    /**
     * The first offset at or after {@code from} holding a record that checks out, or -1. Byte by byte,
     * because a damaged length says nothing about where the next record starts. A candidate costs a CRC
     * over its announced length, so a large damaged region can take a while; it stops at the first hit.
     */
    static int nextValidRecord(byte[] data, int size, int from, CRC32C crc) {
        return nextValidRecord(data, size, from, crc, false);
    }

    /** As above; with {@code sealed} (a v2 segment) a valid seal also counts. */
    static int nextValidRecord(byte[] data, int size, int from, CRC32C crc, boolean sealed) {
        for (int q = from; q <= size - SegmentFormat.RECORD_HEADER_BYTES; q++) {
            if (sealed && SegmentFormat.parseSeal(data, size, q, crc) != null) {
                return q;
            }
            int length = SegmentFormat.readInt(data, q);
            int payloadFrom = q + SegmentFormat.RECORD_HEADER_BYTES;
            if (length >= 0 && length <= size - payloadFrom && SegmentFormat.recordCrcMatches(
                    crc, length, SegmentFormat.readInt(data, q + 4), data, payloadFrom)) {
                return q;
            }
        }
        return -1;
    }

    private static String describe(Tail tail) {
        return switch (tail) {
            case EOF -> "at the end of the file";
            case ZEROS -> "followed by zeros only";
            case GARBAGE -> "followed by non-zero bytes but no valid record";
            case VALID_RECORD -> "followed by a valid record";
        };
    }

    private static Tail tailAfter(byte[] data, int size, int from) {
        if (from >= size) {
            return Tail.EOF;
        }
        return allZero(data, from, size) ? Tail.ZEROS : Tail.GARBAGE;
    }

    private static boolean allZero(byte[] data, int from, int to) {
        for (int i = from; i < to; i++) {
            if (data[i] != 0) {
                return false;
            }
        }
        return true;
    }
}
