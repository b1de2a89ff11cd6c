package io.holdfast.protocol;

import static io.holdfast.protocol.ProtocolExceptions.assertSyntaxError;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class FieldTableTest {
    /** The entry key "k" as a short string. */
    private static final String K = "01 6b ";

    static Stream<Arguments> everyTag() {
        return Stream.of(
                Arguments.of("t true", "74 01", true),
                Arguments.of("t false", "74 00", false),
                Arguments.of("b int8", "62 ff", (byte) -1),
                Arguments.of("B uint8", "42 ff", new UnsignedByte(255)),
                Arguments.of("s int16", "73 8001", (short) 0x8001),
                Arguments.of("u uint16", "75 ffff", new UnsignedShort(0xFFFF)),
                Arguments.of("I int32", "49 80000000", Integer.MIN_VALUE),
                Arguments.of("i uint32", "69 ffffffff", new UnsignedInt(0xFFFF_FFFFL)),
                Arguments.of("l int64", "6c 8000000000000001", Long.MIN_VALUE + 1),
                Arguments.of("f float", "66 40600000", 3.5f),
                Arguments.of("f NaN with payload", "66 7fa00001", Float.intBitsToFloat(0x7fa00001)),
                Arguments.of("d double", "64 c00c000000000000", -3.5),
                Arguments.of("d NaN with payload", "64 7ff4000000000001", Double.longBitsToDouble(0x7ff4000000000001L)),
                Arguments.of("D decimal", "44 02 fffffc18", new BigDecimal("-10.00")),
                Arguments.of("S long string", "53 00000003 616263", LongString.of("abc")),
                Arguments.of("S not UTF-8", "53 00000002 fffe", LongString.of(new byte[] {-1, -2})),
                Arguments.of("T timestamp", "54 0000000065000000", new Timestamp(0x65000000L)),
                Arguments.of("F empty table", "46 00000000", new LinkedHashMap<>()),
                Arguments.of("F table", "46 00000004 01 61 74 01", new LinkedHashMap<>(Map.of("a", true))),
                Arguments.of("A empty array", "41 00000000", new ArrayList<>()),
                Arguments.of("A array", "41 0000000a 49 00000001 53 00000000", new ArrayList<>(List.of(1, LongString.of("")))),
                Arguments.of("V void", "56", null),
                Arguments.of("x byte array", "78 00000002 0102", new byte[] {1, 2}));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("everyTag")
    void everyTagReadsAsItsJavaTypeAndWritesBackTheSameBytes(String name, String entryValue, Object expected) {
        String wire = Hex.table(K + entryValue);

        Map<String, Object> table = FieldTable.read(Hex.buf(wire));

        assertThat(table).containsOnlyKeys("k");
        Object value = table.get("k");
        assertThat(value).isEqualTo(expected);
        if (expected != null) {
            assertThat(value).hasSameClassAs(expected);
        }
        assertThat(write(table)).isEqualTo(wire);
    }

    @Test
    void nestedTablesAndArraysWriteBackByteForByte() {
        String innerTable = Hex.table("01 64 44 03 000004d2" + "01 74 54 0000000000000001" + "01 78 78 00000001 ff");
        String array = "41 " + String.format("%08x", Hex.bytes(innerTable).length + 1 + 1 + 5)
                + "46" + innerTable + "56" + "41 00000000";
        String wire = Hex.table("05 6f75746572 46 " + Hex.table("05 6172726179 " + array) + K + "75 0102");

        Map<String, Object> table = FieldTable.read(Hex.buf(wire));

        assertThat(write(table)).isEqualTo(wire);
        assertThat(table).containsOnlyKeys("outer", "k");
        List<?> read = (List<?>) ((Map<?, ?>) table.get("outer")).get("array");
        assertThat(read).hasSize(3).element(1).isNull();
        Map<?, ?> first = (Map<?, ?>) read.get(0);
        assertThat(first.get("d")).isEqualTo(new BigDecimal("1.234"));
        assertThat(first.get("t")).isEqualTo(new Timestamp(1));
    }

    @Test
    void entriesKeepTheirWireOrder() {
        String wire = Hex.table("01 7a 56 01 61 56 01 6d 56");

        assertThat(FieldTable.read(Hex.buf(wire)).keySet()).containsExactly("z", "a", "m");
    }

    @Test
    void randomTablesWriteBackByteForByte() {
        Random random = new Random(42);
        for (int i = 0; i < 300; i++) {
            ByteBuf wire = Unpooled.buffer();
            FieldTable.write(wire, SampleValues.table(random, 0));
            String hex = Hex.of(wire);

            assertThat(write(FieldTable.read(wire))).isEqualTo(hex);
            assertThat(wire.isReadable()).isFalse();
        }
    }

    @Test
    void javaStringsAreWrittenAsLongStrings() {
        Map<String, Object> table = Map.of("k", "é");

        assertThat(write(table)).isEqualTo(Hex.table(K + "53 00000002 c3a9"));
    }

    @Test
    void nullTableIsWrittenEmpty() {
        assertThat(write(null)).isEqualTo("00000000");
    }

    @Test
    void nestingOfExactlyTheLimitIsAccepted() {
        assertThat(FieldTable.read(Hex.buf(nestedArrays(FieldTable.MAX_DEPTH)))).containsKey("k");
    }

    @Test
    void nestingBeyondTheLimitIsASyntaxError() {
        assertSyntaxError(() -> FieldTable.read(Hex.buf(nestedArrays(FieldTable.MAX_DEPTH + 1))))
                .hasMessageContaining("nesting deeper than 100");
    }

    static Stream<Arguments> malformedTables() {
        return Stream.of(
                Arguments.of("no length", ""),
                Arguments.of("short length", "000000"),
                Arguments.of("length past the end", "00000005 016b56"),
                Arguments.of("length 2^32-1", "ffffffff 016b56"),
                Arguments.of("length with the sign bit set", "80000000 016b56"),
                Arguments.of("key past the end of the table", Hex.table("05 6b")),
                Arguments.of("key without a value", Hex.table(K)),
                Arguments.of("unknown tag", Hex.table(K + "5a")),
                Arguments.of("0-9-1 spec tag U that RabbitMQ does not use", Hex.table(K + "55 0001")),
                Arguments.of("boolean other than 0 or 1", Hex.table(K + "74 02")),
                Arguments.of("key twice", Hex.table(K + "56" + K + "56")),
                Arguments.of("key not UTF-8", Hex.table("02 c328 56")),
                Arguments.of("long string past the end", Hex.table(K + "53 00000002 61")),
                Arguments.of("long string length 2^32-1", Hex.table(K + "53 ffffffff")),
                Arguments.of("byte array past the end", Hex.table(K + "78 00000009 61")),
                Arguments.of("array past the end", Hex.table(K + "41 00000009 56")),
                Arguments.of("array element truncated", Hex.table(K + "41 00000002 49 00")),
                Arguments.of("nested table past its parent", Hex.table(K + "46 00000005 01") + "6b56565656"),
                Arguments.of("decimal truncated", Hex.table(K + "44 02 0000")));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("malformedTables")
    void malformedTableIsASyntaxError(String name, String wire) {
        assertSyntaxError(() -> FieldTable.read(Hex.buf(wire)));
    }

    @ParameterizedTest
    @MethodSource("fixedSizeTags")
    void truncatedFixedSizeValueIsASyntaxError(char tag, int size) {
        for (int present = 0; present < size; present++) {
            String wire = Hex.table(K + String.format("%02x", (int) tag) + "00".repeat(present));
            assertSyntaxError(() -> FieldTable.read(Hex.buf(wire))).hasMessageContaining("'" + tag + "'");
        }
    }

    static Stream<Arguments> fixedSizeTags() {
        return Stream.of(Arguments.of('t', 1), Arguments.of('b', 1), Arguments.of('B', 1), Arguments.of('s', 2),
                Arguments.of('u', 2), Arguments.of('I', 4), Arguments.of('i', 4), Arguments.of('l', 8),
                Arguments.of('f', 4), Arguments.of('d', 8), Arguments.of('D', 5), Arguments.of('T', 8));
    }

    @Test
    void getStringAcceptsEveryStringForm() {
        Map<String, Object> table = Map.of("s", "a", "S", LongString.of("b"), "x", new byte[] {'c'});

        assertThat(FieldTable.getString(table, "s")).isEqualTo("a");
        assertThat(FieldTable.getString(table, "S")).isEqualTo("b");
        assertThat(FieldTable.getString(table, "x")).isEqualTo("c");
        assertThat(FieldTable.getString(table, "absent")).isNull();
    }

    @Test
    void getLongAcceptsEveryIntegralType() {
        Map<String, Object> table = new LinkedHashMap<>();
        table.put("b", (byte) -1);
        table.put("B", new UnsignedByte(255));
        table.put("s", (short) -2);
        table.put("u", new UnsignedShort(65535));
        table.put("I", -3);
        table.put("i", new UnsignedInt(0xFFFF_FFFFL));
        table.put("l", Long.MAX_VALUE);
        table.put("V", null);

        assertThat(List.of("b", "B", "s", "u", "I", "i", "l")).map(k -> FieldTable.getLong(table, k))
                .containsExactly(-1L, 255L, -2L, 65535L, -3L, 0xFFFF_FFFFL, Long.MAX_VALUE);
        assertThat(FieldTable.getLong(table, "absent")).isNull();
        assertThat(FieldTable.getLong(table, "V")).isNull();
    }

    @Test
    void argumentOfTheWrongTypeIsAPreconditionFailure() {
        Map<String, Object> table = Map.of("x-max-length", "10", "x-dead-letter-exchange", 5, "x-message-ttl", 1.5);

        assertThatThrownBy(() -> FieldTable.getLong(table, "x-max-length"))
                .isInstanceOfSatisfying(ProtocolException.class,
                        e -> assertThat(e.replyCode()).isEqualTo(ReplyCode.PRECONDITION_FAILED))
                .hasMessage("invalid arg 'x-max-length': expected an integer, got a value of field type 'S'");
        assertThatThrownBy(() -> FieldTable.getLong(table, "x-message-ttl")).isInstanceOf(ProtocolException.class);
        assertThatThrownBy(() -> FieldTable.getString(table, "x-dead-letter-exchange"))
                .isInstanceOf(ProtocolException.class).hasMessageContaining("expected a string");
    }

    @Test
    void valuesWithNoFieldTypeAreRefusedOnWrite() {
        assertThatThrownBy(() -> write(Map.of("k", new Object()))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> write(Map.of("k", new BigDecimal("1E+3")))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> write(Map.of("k", new BigDecimal("12345678901"))))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> write(Map.of("k".repeat(256), 1))).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void selfContainingMapFailsCleanlyOnWrite() {
        Map<String, Object> table = new LinkedHashMap<>();
        List<Object> list = new ArrayList<>();
        list.add(table);
        table.put("k", list);

        assertThatThrownBy(() -> write(table)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("nesting");
    }

    /** A table whose key "k" holds {@code depth} arrays, each inside the one before. */
    private static String nestedArrays(int depth) {
        String value = "56";
        for (int i = 0; i < depth; i++) {
            value = "41" + String.format("%08x", Hex.bytes(value).length) + value;
        }
        return Hex.table(K + value);
    }

    private static String write(Map<String, Object> table) {
        ByteBuf out = Unpooled.buffer();
        FieldTable.write(out, table);
        return Hex.of(out);
    }
}
