package io.holdfast.store;

/**
 * Recovery's decision table: what {@link SegmentScanner} does with a segment header and with each record,
 * given what surrounds it. Pure; {@code RecoveryTableTest} enumerates every combination and also builds
 * each one as real bytes to check that the scanner does what the table says.
 *
 * <pre>
 * header | length | crc | tail            | last segment          | other segment
 * -------+--------+-----+-----------------+-----------------------+------------------------
 * TORN   |   any  | any | any             | DROP_SEGMENT          | SKIP_SEGMENT (damage)
 * BAD    |   any  | any | any             | SKIP_SEGMENT (damage) | SKIP_SEGMENT (damage)
 * OK     |   OK   | OK  | any             | DELIVER               | DELIVER
 * OK     |  else  |     | VALID_RECORD    | SKIP_TO_NEXT_VALID    | SKIP_TO_NEXT_VALID (damage)
 * OK     |  else  |     | EOF/ZEROS/GARB. | TRUNCATE (torn tail)  | SKIP_REST_OF_SEGMENT (damage)
 * </pre>
 *
 * <p>Why: only the last segment can be torn by a crash, because the writer forces a segment before it
 * moves on (under {@link FsyncPolicy#ALWAYS} and {@link FsyncPolicy#INTERVAL}). A bad record with no
 * checkable record after it in the last segment is the write that was cut off: cutting it off loses
 * nothing that was confirmed. Non-zero bytes after it (GARBAGE) are also torn-write leftovers (a
 * file system may persist a later page of a write before an earlier one); since no valid record follows,
 * truncating loses nothing readable. A bad record followed by a valid one is damage in the middle:
 * the reader resynchronises on the next offset whose length and CRC check out, and the skipped bytes
 * are reported, never delivered. Nothing here refuses to start: damage costs the damaged records only.
 */
final class RecoveryTable {

    /** The segment header: good, absent (a crash while the file was being created), or damaged. */
    enum Header {
        OK,
        /**
         * Part of the expected header (maybe none of it) and then only zeros: the file was created but its
         * header never fully landed.
         */
        TORN,
        /** Wrong magic, version, CRC or segment id. */
        BAD
    }

    /** A record's length field. */
    enum Length {
        /** The payload it announces fits in the file. */
        OK,
        /** It runs past the end of the file, or fewer than 8 bytes are left for the record header. */
        ABSURD
    }

    /** Whether the CRC over length and payload matches; meaningless when the length is absurd. */
    enum Crc { OK, BAD }

    /** What follows a bad record. */
    enum Tail {
        /** Nothing: the record reaches or runs past the end of the file. */
        EOF,
        /** Only zero bytes to the end of the file. */
        ZEROS,
        /** Non-zero bytes, but no offset after the bad record holds a record that checks out. */
        GARBAGE,
        /** Some later offset holds a record whose length and CRC check out. */
        VALID_RECORD
    }

    enum Action {
        /** Hand the payload to the visitor. */
        DELIVER,
        /** Cut the file at the bad record: a torn tail. Logged, counted in bytes, not damage. */
        TRUNCATE,
        /** Report the bad region as damage and continue at the next record that checks out. */
        SKIP_TO_NEXT_VALID,
        /** Report the rest of the segment as damage; keep the file as it is. */
        SKIP_REST_OF_SEGMENT,
        /** Delete the headerless last segment file: it never held a record. */
        DROP_SEGMENT,
        /** Report the whole segment as damage and leave the file untouched for an operator. */
        SKIP_SEGMENT
    }

    private RecoveryTable() {}

    /** Exhaustive by construction: a new enum constant fails compilation until it gets a row. */
    static Action decide(boolean lastSegment, Header header, Length length, Crc crc, Tail tail) {
        return switch (header) {
            case TORN -> lastSegment ? Action.DROP_SEGMENT : Action.SKIP_SEGMENT;
            case BAD -> Action.SKIP_SEGMENT;
            case OK -> decideRecord(lastSegment, length, crc, tail);
        };
    }

    private static Action decideRecord(boolean lastSegment, Length length, Crc crc, Tail tail) {
        if (length == Length.OK && crc == Crc.OK) {
            return Action.DELIVER;
        }
        return switch (tail) {
            case VALID_RECORD -> Action.SKIP_TO_NEXT_VALID;
            case EOF, ZEROS, GARBAGE -> lastSegment ? Action.TRUNCATE : Action.SKIP_REST_OF_SEGMENT;
        };
    }
}
