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
 * (In a v2 segment a valid seal counts as a valid record for the tail: a bad record right before the seal
 * is damage, not a torn tail, since a sealed segment was complete.)
 *
 * <p><b>The end of a segment</b> ({@link #decideEnd}), once its records are read. A v2 segment that was
 * closed ends with a seal ({@link SegmentFormat}); a v1 segment has none and is accepted as it ends, as
 * before. Not evaluated when the records already skipped the rest of the segment (the seal, if any, was
 * in the reported region) or the last segment's torn tail was cut (it is then UNSEALED).
 *
 * <pre>
 * format | end              | last segment              | other segment
 * -------+------------------+---------------------------+-------------------------------------
 * v1     | any              | DELIVER (nothing to do)   | DELIVER (nothing to do)
 * v2     | SEALED           | DELIVER (nothing to do)   | DELIVER (nothing to do)
 * v2     | UNSEALED         | SEAL                      | REPORT_END (damage: cut short)
 * v2     | SEAL_DISAGREES   | REPORT_END (damage)       | REPORT_END (damage)
 * v2     | BYTES_AFTER_SEAL | TRUNCATE (after the seal) | SKIP_REST_OF_SEGMENT (damage)
 * </pre>
 *
 * <p>Why: the writer seals a segment and forces the seal before it creates the next one (roll), at
 * close, and when it abandons a segment after an I/O error if the file still holds exactly the confirmed
 * records; recovery seals the last segment (after cutting its torn tail) because the next segment the
 * writer creates makes it an older one. So the only v2 segment that may lack its seal is the last, and a
 * closed segment without one was cut short, at a record boundary or not: records are gone, and that is
 * damage even though every remaining record checks out. The exceptions are logged where they happen: a
 * seal that could not be written (write or fsync failed at a roll, at close or by recovery, or an
 * abandoned segment whose failed bytes could not be cut) leaves a segment the next open reports; that
 * errs on the side of an operator looking. Nothing is written after a seal, so bytes after it in the
 * last segment hold no confirmed record and are cut like a torn tail; elsewhere they are reported.
 *
 * <p><b>Missing segments</b> (checked by {@link JournalRecovery}, not by this table). Only a prefix is
 * ever deleted, and a v2 header names its predecessor (by distance, so ids skipped by failed creations
 * are not mistaken for lost files). If a v2 segment's predecessor is absent while an older segment file
 * is present, the missing file(s) are reported as one damage entry. v1 segments carry no predecessor and
 * are not checked. A missing <em>last</em> segment cannot be detected.
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

    /** How a segment's records end (v2; see the class comment). */
    enum End {
        /** A seal that checks out, agrees with the records read, and nothing after it. */
        SEALED,
        /** No seal: the records simply stop (or the torn tail was cut). */
        UNSEALED,
        /** A seal that checks out but states another record count or offset than what was read. */
        SEAL_DISAGREES,
        /** A good seal followed by more bytes. */
        BYTES_AFTER_SEAL
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
        SKIP_SEGMENT,
        /** Append a seal to the last segment: it is closed, the next segment will be created after it. */
        SEAL,
        /** Report that the segment's end is missing or inconsistent (records were lost); keep the file. */
        REPORT_END
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

    /** What to do with how a segment ends, {@code formatVersion} 1 or 2. Exhaustive by construction. */
    static Action decideEnd(boolean lastSegment, int formatVersion, End end) {
        if (formatVersion == SegmentFormat.VERSION_1) {
            return Action.DELIVER;
        }
        return switch (end) {
            case SEALED -> Action.DELIVER;
            case UNSEALED -> lastSegment ? Action.SEAL : Action.REPORT_END;
            case SEAL_DISAGREES -> Action.REPORT_END;
            case BYTES_AFTER_SEAL -> lastSegment ? Action.TRUNCATE : Action.SKIP_REST_OF_SEGMENT;
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
