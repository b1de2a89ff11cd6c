package io.holdfast.store;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.store.RecoveryTable.Action;
import io.holdfast.store.RecoveryTable.Crc;
import io.holdfast.store.RecoveryTable.Header;
import io.holdfast.store.RecoveryTable.Length;
import io.holdfast.store.RecoveryTable.Tail;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;

/** STYLE habit 6: the recovery decision table is complete, unambiguous, and what the scanner really does. */
class RecoveryTableTest {

    /**
     * The product's promise, written independently of {@link RecoveryTable}: position, header, length, crc,
     * tail (a|b means either, * means any) and the action.
     */
    private static final String[] PROMISE = {
        "last  TORN * *   *                   DROP_SEGMENT",
        "other TORN * *   *                   SKIP_SEGMENT",
        "*     BAD  * *   *                   SKIP_SEGMENT",
        "*     OK   OK     OK  *               DELIVER",
        "*     OK   OK     BAD VALID_RECORD    SKIP_TO_NEXT_VALID",
        "*     OK   ABSURD *   VALID_RECORD    SKIP_TO_NEXT_VALID",
        "last  OK   OK     BAD EOF|ZEROS|GARBAGE TRUNCATE",
        "last  OK   ABSURD *   EOF|ZEROS|GARBAGE TRUNCATE",
        "other OK   OK     BAD EOF|ZEROS|GARBAGE SKIP_REST_OF_SEGMENT",
        "other OK   ABSURD *   EOF|ZEROS|GARBAGE SKIP_REST_OF_SEGMENT",
    };

    private record Combination(boolean last, Header header, Length length, Crc crc, Tail tail) {}

    private static List<Combination> everyCombination() {
        List<Combination> all = new ArrayList<>();
        for (boolean last : new boolean[] {true, false}) {
            for (Header header : Header.values()) {
                for (Length length : Length.values()) {
                    for (Crc crc : Crc.values()) {
                        for (Tail tail : Tail.values()) {
                            all.add(new Combination(last, header, length, crc, tail));
                        }
                    }
                }
            }
        }
        return all;
    }

    private static Action promised(Combination c) {
        List<Action> matches = new ArrayList<>();
        for (String row : PROMISE) {
            String[] f = row.trim().split("\\s+");
            if (matches(f[0], c.last() ? "last" : "other") && matches(f[1], c.header().name())
                    && matches(f[2], c.length().name()) && matches(f[3], c.crc().name())
                    && matches(f[4], c.tail().name())) {
                matches.add(Action.valueOf(f[5]));
            }
        }
        assertThat(matches).as("rows of the promise matching %s", c).hasSize(1);
        return matches.get(0);
    }

    private static boolean matches(String pattern, String value) {
        return pattern.equals("*") || Arrays.asList(pattern.split("\\|")).contains(value);
    }

    @Test
    void everyCombinationMatchesExactlyOneRowAndTheTableAgrees() {
        List<Combination> all = everyCombination();
        assertThat(all).hasSize(2 * 3 * 2 * 2 * 4);
        for (Combination c : all) {
            assertThat(RecoveryTable.decide(c.last(), c.header(), c.length(), c.crc(), c.tail()))
                    .as("%s", c).isEqualTo(promised(c));
        }
    }

    @Test
    void theScannerDoesWhatTheTableSaysOnRealBytes() {
        int checked = 0;
        for (Combination c : everyCombination()) {
            if (c.length() == Length.ABSURD && c.crc() == Crc.OK) {
                continue; // a CRC cannot be checked, let alone match, when the length is impossible
            }
            checkScanner(c, promised(c));
            checked++;
        }
        assertThat(checked).isEqualTo(72);
    }

    private static final long ID = 5;
    private static final String NAME = SegmentFormat.fileName(ID);

    private static void checkScanner(Combination c, Action action) {
        byte[] good1 = "good one".getBytes(StandardCharsets.UTF_8);
        byte[] probed = "the record under test".getBytes(StandardCharsets.UTF_8);
        byte[] good2 = "good two".getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream file = new ByteArrayOutputStream();
        file.writeBytes(SegmentFormat.header(ID, SegmentFormat.VERSION_1, -1).array()); // v1: the record rules alone
        file.writeBytes(record(good1));
        int probedAt = file.size();
        if (c.length() == Length.ABSURD) {
            file.writeBytes(ByteBuffer.allocate(8).putInt(0x7FFF_FFF0).putInt(0x1234_5678).array());
        } else {
            byte[] bytes = record(probed);
            if (c.crc() == Crc.BAD) {
                bytes[bytes.length - 1] ^= 0x01;
            }
            file.writeBytes(bytes);
        }
        switch (c.tail()) {
            case EOF -> { }
            case ZEROS -> file.writeBytes(new byte[24]);
            case GARBAGE -> {
                byte[] garbage = new byte[24];
                Arrays.fill(garbage, (byte) 0xFF);
                file.writeBytes(garbage);
            }
            case VALID_RECORD -> file.writeBytes(record(good2));
        }
        byte[] data = file.toByteArray();
        switch (c.header()) {
            case OK -> { }
            case TORN -> Arrays.fill(data, 9, data.length, (byte) 0); // the header's first 9 bytes landed
            case BAD -> data[1] ^= 0x40;
        }

        Replay replay = new Replay();
        SegmentScanner.Result result = SegmentScanner.scan(NAME, ID, data, data.length, c.last(), replay);
        String what = c + " -> " + action + ", got " + result;
        switch (action) {
            case DELIVER -> {
                assertThat(replay.payloads).as(what).hasSizeGreaterThanOrEqualTo(2);
                assertThat(replay.payloads.subList(0, 2)).as(what).containsExactly(good1, probed);
            }
            case TRUNCATE -> {
                assertThat(replay.payloads).as(what).containsExactly(good1);
                assertThat(result.truncateAt()).as(what).isEqualTo(probedAt);
                assertThat(result.damage()).as(what).isEmpty();
                assertThat(result.corruptRegions()).as(what).isZero();
            }
            case SKIP_TO_NEXT_VALID -> {
                assertThat(replay.payloads).as(what).containsExactly(good1, good2);
                assertThat(result.truncateAt()).as(what).isEqualTo(-1);
                assertThat(result.corruptRegions()).as(what).isEqualTo(1);
                assertThat(result.damage()).as(what).singleElement().asString().startsWith(NAME + "@" + probedAt + ": ");
            }
            case SKIP_REST_OF_SEGMENT -> {
                assertThat(replay.payloads).as(what).containsExactly(good1);
                assertThat(result.truncateAt()).as(what).isEqualTo(-1);
                assertThat(result.corruptRegions()).as(what).isEqualTo(1);
                assertThat(result.damage()).as(what).singleElement().asString().startsWith(NAME + "@" + probedAt + ": ");
            }
            case DROP_SEGMENT -> {
                assertThat(result.segmentAction()).as(what).isEqualTo(Action.DROP_SEGMENT);
                assertThat(replay.payloads).as(what).isEmpty();
                assertThat(result.damage()).as(what).isEmpty();
            }
            case SKIP_SEGMENT -> {
                assertThat(result.segmentAction()).as(what).isEqualTo(Action.SKIP_SEGMENT);
                assertThat(replay.payloads).as(what).isEmpty();
                assertThat(result.corruptRegions()).as(what).isEqualTo(1);
                assertThat(result.damage()).as(what).singleElement().asString().startsWith(NAME + "@0: ");
            }
        }
    }

    @Test
    void aPartialRecordHeaderAtTheEndIsATornTail() {
        byte[] data = Arrays.copyOf(SegmentFormat.header(ID).array(), SegmentFormat.HEADER_BYTES + 5);
        data[SegmentFormat.HEADER_BYTES] = 1;
        SegmentScanner.Result result = SegmentScanner.scan(NAME, ID, data, data.length, true, new Replay());
        assertThat(result.truncateAt()).isEqualTo(SegmentFormat.HEADER_BYTES);
        assertThat(result.tornReason()).contains("partial record header");
    }

    @Test
    void anEmptyOrAllZeroFileIsATornCreationButAnyOtherByteMakesTheHeaderBad() {
        for (byte[] data : new byte[][] {new byte[0], new byte[3], new byte[4096]}) {
            assertThat(SegmentScanner.scan(NAME, ID, data, data.length, true, new Replay()).segmentAction())
                    .isEqualTo(Action.DROP_SEGMENT);
        }
        byte[] data = new byte[4096];
        data[4000] = 1;
        assertThat(SegmentScanner.scan(NAME, ID, data, data.length, true, new Replay()).segmentAction())
                .isEqualTo(Action.SKIP_SEGMENT);
    }

    @Test
    void aHeaderNamingAnotherSegmentIsBad() {
        byte[] data = SegmentFormat.header(ID + 1).array();
        SegmentScanner.Result result = SegmentScanner.scan(NAME, ID, data, data.length, true, new Replay());
        assertThat(result.segmentAction()).isEqualTo(Action.SKIP_SEGMENT);
        assertThat(result.damage()).singleElement().asString().contains("header names segment 6");
    }

    @Test
    void zeroBytesNeverFormAValidRecord() {
        CRC32C crc = new CRC32C();
        crc.update(new byte[4]);
        assertThat(crc.getValue()).isNotZero();
        byte[] zeros = new byte[64];
        assertThat(SegmentScanner.nextValidRecord(zeros, zeros.length, 0, new CRC32C())).isEqualTo(-1);
    }

    static byte[] record(byte[] payload) {
        int crc = SegmentFormat.recordCrc(new CRC32C(), payload.length, payload, 0);
        return ByteBuffer.allocate(8 + payload.length).putInt(payload.length).putInt(crc).put(payload).array();
    }
}
