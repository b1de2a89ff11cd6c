package io.holdfast.protocol;

import static io.holdfast.protocol.WireFormat.requireReadable;

import io.netty.buffer.ByteBuf;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The AMQP field-table codec, with RabbitMQ's type tags (those of its errata and of the Java client,
 * not the 0-9-1 spec's, which clash on {@code s}).
 *
 * <pre>
 * table = length:u32 { key:shortstr tag:u8 value }*      array = length:u32 { tag:u8 value }*
 *
 * tag  wire                    Java               tag  wire                    Java
 *  t   u8 0 or 1               Boolean             f   IEEE 754 binary32       Float
 *  b   i8                      Byte                d   IEEE 754 binary64       Double
 *  B   u8                      UnsignedByte        D   scale:u8 unscaled:i32   BigDecimal
 *  s   i16                     Short               S   length:u32 bytes        LongString (String when writing)
 *  u   u16                     UnsignedShort       T   u64 seconds             Timestamp
 *  I   i32                     Integer             F   table                   Map (LinkedHashMap, in wire order)
 *  i   u32                     UnsignedInt         A   array                   List
 *  l   i64                     Long                V   nothing                 null
 *                                                  x   length:u32 bytes        byte[]
 * </pre>
 *
 * <p>Guarantees: whatever {@link #read} accepts, {@link #write} turns back into the same bytes. To
 * keep that promise, input with no exact Java form is rejected: a boolean octet other than 0 or 1, a
 * key that is not valid UTF-8 (see {@link WireFormat}), a key given twice (RabbitMQ and its Java
 * client would keep the first; no client we know sends one). Every malformed input throws {@link
 * ProtocolException} with {@link ReplyCode#SYNTAX_ERROR}; a declared length is checked against the
 * bytes present before anything is allocated, and nesting is limited to {@value #MAX_DEPTH} levels.
 * Writing a value of another Java type throws {@link IllegalArgumentException}.
 *
 * <p>Stateless; any thread may call it.
 */
public final class FieldTable {
    /** Deepest nesting of tables and arrays below the outer table; bounds recursion on bad input. */
    public static final int MAX_DEPTH = 100;

    private FieldTable() {}

    /** Reads a table (length and entries). */
    public static Map<String, Object> read(ByteBuf in) {
        return readTable(in, 0);
    }

    /** Writes {@code table}, in its iteration order; {@code null} is written as an empty table. */
    public static void write(ByteBuf out, Map<String, Object> table) {
        writeTable(out, table, 0);
    }

    /** Reads one tagged value, as found in a table entry or an array. */
    public static Object readValue(ByteBuf in) {
        return readValue(in, 0);
    }

    /** Writes one tagged value; the tag is chosen by the value's Java type (see the class comment). */
    public static void writeValue(ByteBuf out, Object value) {
        writeValue(out, value, 0);
    }

    /**
     * The string at {@code key}: a String, or a long string or byte array decoded as UTF-8.
     *
     * @return null when the key is absent
     * @throws ProtocolException {@link ReplyCode#PRECONDITION_FAILED} when the value has another type,
     *     as RabbitMQ answers a queue argument of the wrong type
     */
    public static String getString(Map<String, Object> table, String key) {
        Object value = table.get(key);
        if (value == null) {
            return null;
        } else if (value instanceof String s) {
            return s;
        } else if (value instanceof LongString s) {
            return s.toString();
        } else if (value instanceof byte[] b) {
            return new String(b, StandardCharsets.UTF_8);
        }
        throw wrongType(key, "a string", value);
    }

    /**
     * The integer at {@code key}, of any integral field type, signed or unsigned.
     *
     * @return null when the key is absent
     * @throws ProtocolException {@link ReplyCode#PRECONDITION_FAILED} when the value has another type
     *     (floating point and decimals included: RabbitMQ refuses them for integer arguments too)
     */
    public static Long getLong(Map<String, Object> table, String key) {
        Object value = table.get(key);
        if (value == null) {
            return null;
        } else if (value instanceof Long || value instanceof Integer || value instanceof Short || value instanceof Byte) {
            return ((Number) value).longValue();
        } else if (value instanceof UnsignedByte u) {
            return (long) u.value();
        } else if (value instanceof UnsignedShort u) {
            return (long) u.value();
        } else if (value instanceof UnsignedInt u) {
            return u.value();
        }
        throw wrongType(key, "an integer", value);
    }

    private static ProtocolException wrongType(String key, String expected, Object value) {
        return new ProtocolException(ReplyCode.PRECONDITION_FAILED, "invalid arg '" + key + "': expected "
                + expected + ", got a value of field type '" + tagOf(value) + "'");
    }

    private static Map<String, Object> readTable(ByteBuf in, int depth) {
        ByteBuf entries = readSized(in, "field table");
        Map<String, Object> table = new LinkedHashMap<>();
        while (entries.isReadable()) {
            String key = WireFormat.readShortString(entries);
            Object value = readValue(entries, depth);
            if (table.containsKey(key)) {
                throw syntaxError("field table has the key '" + key + "' twice");
            }
            table.put(key, value);
        }
        return table;
    }

    private static List<Object> readArray(ByteBuf in, int depth) {
        ByteBuf values = readSized(in, "field array");
        List<Object> list = new ArrayList<>();
        while (values.isReadable()) {
            list.add(readValue(values, depth));
        }
        return list;
    }

    /** The body of a u32-length-prefixed structure, as a slice, so that its parts cannot read past it. */
    private static ByteBuf readSized(ByteBuf in, String what) {
        long length = requireReadable(in, 4, what).readUnsignedInt();
        return requireReadable(in, length, what).readSlice((int) length);
    }

    private static Object readValue(ByteBuf in, int depth) {
        int tag = requireReadable(in, 1, "field value type").readUnsignedByte();
        return switch (tag) {
            case 't' -> readBoolean(in);
            case 'b' -> fixed(in, 1, tag).readByte();
            case 'B' -> new UnsignedByte(fixed(in, 1, tag).readUnsignedByte());
            case 's' -> fixed(in, 2, tag).readShort();
            case 'u' -> new UnsignedShort(fixed(in, 2, tag).readUnsignedShort());
            case 'I' -> fixed(in, 4, tag).readInt();
            case 'i' -> new UnsignedInt(fixed(in, 4, tag).readUnsignedInt());
            case 'l' -> fixed(in, 8, tag).readLong();
            case 'f' -> Float.intBitsToFloat(fixed(in, 4, tag).readInt());
            case 'd' -> Double.longBitsToDouble(fixed(in, 8, tag).readLong());
            case 'D' -> readDecimal(in);
            case 'S' -> LongString.wrap(WireFormat.readLongString(in));
            case 'T' -> new Timestamp(fixed(in, 8, tag).readLong());
            case 'F' -> readTable(in, nested(depth));
            case 'A' -> readArray(in, nested(depth));
            case 'V' -> null;
            case 'x' -> WireFormat.readLongString(in);
            default -> throw syntaxError("unknown field value type " + describeTag(tag));
        };
    }

    private static ByteBuf fixed(ByteBuf in, int size, int tag) {
        // The message is built only on failure: this runs for every value of every table.
        return in.readableBytes() >= size ? in : requireReadable(in, size, "field value of type '" + (char) tag + "'");
    }

    private static Boolean readBoolean(ByteBuf in) {
        int octet = fixed(in, 1, 't').readUnsignedByte();
        if (octet > 1) {
            throw syntaxError("boolean field value must be 0 or 1, got " + octet);
        }
        return octet == 1;
    }

    private static BigDecimal readDecimal(ByteBuf in) {
        fixed(in, 5, 'D');
        int scale = in.readUnsignedByte();
        return new BigDecimal(BigInteger.valueOf(in.readInt()), scale);
    }

    private static int nested(int depth) {
        if (depth >= MAX_DEPTH) {
            throw syntaxError("field table nesting deeper than " + MAX_DEPTH + " levels");
        }
        return depth + 1;
    }

    private static String describeTag(int tag) {
        String hex = String.format("0x%02x", tag);
        return tag >= 0x21 && tag <= 0x7E ? "'" + (char) tag + "' (" + hex + ")" : hex;
    }

    private static ProtocolException syntaxError(String text) {
        return new ProtocolException(ReplyCode.SYNTAX_ERROR, text);
    }

    private static void writeTable(ByteBuf out, Map<?, ?> table, int depth) {
        int lengthIndex = out.writerIndex();
        out.writeInt(0);
        if (table != null) {
            for (Map.Entry<?, ?> e : table.entrySet()) {
                if (!(e.getKey() instanceof String key)) {
                    throw new IllegalArgumentException("field table key is not a String: " + e.getKey());
                }
                WireFormat.writeShortString(out, key);
                writeValue(out, e.getValue(), depth);
            }
        }
        out.setInt(lengthIndex, out.writerIndex() - lengthIndex - 4);
    }

    private static void writeArray(ByteBuf out, List<?> list, int depth) {
        int lengthIndex = out.writerIndex();
        out.writeInt(0);
        for (Object value : list) {
            writeValue(out, value, depth);
        }
        out.setInt(lengthIndex, out.writerIndex() - lengthIndex - 4);
    }

    private static void writeValue(ByteBuf out, Object value, int depth) {
        char tag = tagOf(value);
        out.writeByte(tag);
        switch (tag) {
            case 't' -> out.writeByte((Boolean) value ? 1 : 0);
            case 'b' -> out.writeByte((Byte) value);
            case 'B' -> out.writeByte(((UnsignedByte) value).value());
            case 's' -> out.writeShort((Short) value);
            case 'u' -> out.writeShort(((UnsignedShort) value).value());
            case 'I' -> out.writeInt((Integer) value);
            case 'i' -> out.writeInt((int) ((UnsignedInt) value).value());
            case 'l' -> out.writeLong((Long) value);
            case 'f' -> out.writeInt(Float.floatToRawIntBits((Float) value));
            case 'd' -> out.writeLong(Double.doubleToRawLongBits((Double) value));
            case 'D' -> writeDecimal(out, (BigDecimal) value);
            case 'S' -> WireFormat.writeLongString(out, value instanceof LongString s
                    ? s.unsafeBytes() : WireFormat.utf8((String) value));
            case 'T' -> out.writeLong(((Timestamp) value).seconds());
            case 'F' -> writeTable(out, (Map<?, ?>) value, writeNested(depth));
            case 'A' -> writeArray(out, (List<?>) value, writeNested(depth));
            case 'x' -> WireFormat.writeLongString(out, (byte[]) value);
            default -> { } // 'V': the tag is the whole value
        }
    }

    /** The tag a value is written with; the one place that maps Java types to wire types. */
    private static char tagOf(Object value) {
        if (value == null) {
            return 'V';
        } else if (value instanceof String || value instanceof LongString) {
            return 'S';
        } else if (value instanceof Boolean) {
            return 't';
        } else if (value instanceof Byte) {
            return 'b';
        } else if (value instanceof UnsignedByte) {
            return 'B';
        } else if (value instanceof Short) {
            return 's';
        } else if (value instanceof UnsignedShort) {
            return 'u';
        } else if (value instanceof Integer) {
            return 'I';
        } else if (value instanceof UnsignedInt) {
            return 'i';
        } else if (value instanceof Long) {
            return 'l';
        } else if (value instanceof Float) {
            return 'f';
        } else if (value instanceof Double) {
            return 'd';
        } else if (value instanceof BigDecimal) {
            return 'D';
        } else if (value instanceof Timestamp) {
            return 'T';
        } else if (value instanceof Map) {
            return 'F';
        } else if (value instanceof List) {
            return 'A';
        } else if (value instanceof byte[]) {
            return 'x';
        }
        throw new IllegalArgumentException("a field table cannot hold a " + value.getClass().getName());
    }

    private static void writeDecimal(ByteBuf out, BigDecimal value) {
        BigInteger unscaled = value.unscaledValue();
        if (value.scale() < 0 || value.scale() > 0xFF || unscaled.bitLength() > 31) {
            throw new IllegalArgumentException("decimal " + value
                    + " needs a scale of 0 to 255 and an unscaled value that fits 32 bits");
        }
        out.writeByte(value.scale());
        out.writeInt(unscaled.intValue());
    }

    /** Same limit as reading, so that a self-containing map fails cleanly instead of overflowing the stack. */
    private static int writeNested(int depth) {
        if (depth >= MAX_DEPTH) {
            throw new IllegalArgumentException("field table nesting deeper than " + MAX_DEPTH + " levels");
        }
        return depth + 1;
    }
}
