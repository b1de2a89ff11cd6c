package io.holdfast.protocol;

import java.lang.reflect.RecordComponent;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/** Seeded random protocol values for round-trip and fuzz tests: field values of every tag, tables, methods. */
final class SampleValues {
    /** Every field-table tag Holdfast reads and writes. */
    static final String TAGS = "tbBsuIilfdDSTFAVx";

    /** The only octet-sized int fields of any method; every other int is a 16-bit short. */
    private static final Set<String> OCTET_FIELDS = Set.of("versionMajor", "versionMinor");
    /** The only 64-bit long fields; every other long is a 32-bit unsigned long. */
    private static final Set<String> LONGLONG_FIELDS = Set.of("deliveryTag");
    private static final String ALPHABET = "abcxyz-_.:/ 09éß€中😀";

    private SampleValues() {}

    static Map<String, Object> table(Random r, int depth) {
        return table(r, depth, TAGS);
    }

    /** A table of values with the given tags only, nested at most 3 deep. */
    static Map<String, Object> table(Random r, int depth, String tags) {
        Map<String, Object> table = new LinkedHashMap<>();
        int size = r.nextInt(depth == 0 ? 8 : 4);
        for (int i = 0; i < size; i++) {
            table.put(string(r, 12) + i, fieldValue(r, depth, tags)); // the index keeps keys distinct
        }
        return table;
    }

    private static Object fieldValue(Random r, int depth, String tags) {
        String allowed = depth >= 3 ? tags.replace("F", "").replace("A", "") : tags;
        return fieldValue(r, allowed.charAt(r.nextInt(allowed.length())), depth, tags);
    }

    private static Object fieldValue(Random r, char tag, int depth, String tags) {
        return switch (tag) {
            case 't' -> r.nextBoolean();
            case 'b' -> (byte) r.nextInt();
            case 'B' -> new UnsignedByte(r.nextInt(0x100));
            case 's' -> (short) r.nextInt();
            case 'u' -> new UnsignedShort(r.nextInt(0x10000));
            case 'I' -> r.nextInt();
            case 'i' -> new UnsignedInt(r.nextLong(1L << 32));
            case 'l' -> r.nextLong();
            case 'f' -> Float.intBitsToFloat(r.nextInt());
            case 'd' -> Double.longBitsToDouble(r.nextLong());
            case 'D' -> new BigDecimal(BigInteger.valueOf(r.nextInt()), r.nextInt(0x100));
            case 'S' -> LongString.wrap(bytes(r, 24));
            case 'T' -> new Timestamp(r.nextLong());
            case 'F' -> table(r, depth + 1, tags);
            case 'A' -> array(r, depth + 1, tags);
            case 'V' -> null;
            case 'x' -> bytes(r, 24);
            default -> throw new IllegalArgumentException("tag " + tag);
        };
    }

    private static List<Object> array(Random r, int depth, String tags) {
        List<Object> list = new ArrayList<>();
        int size = r.nextInt(5);
        for (int i = 0; i < size; i++) {
            list.add(fieldValue(r, depth, tags));
        }
        return list;
    }

    /** A string of 1 to {@code maxChars} code points, ASCII and not, at most 4 UTF-8 bytes each. */
    static String string(Random r, int maxChars) {
        StringBuilder s = new StringBuilder();
        int[] codePoints = ALPHABET.codePoints().toArray();
        for (int n = 1 + r.nextInt(maxChars); n > 0; n--) {
            s.appendCodePoint(codePoints[r.nextInt(codePoints.length)]);
        }
        return s.toString();
    }

    static byte[] bytes(Random r, int maxLength) {
        byte[] b = new byte[r.nextInt(maxLength + 1)];
        r.nextBytes(b);
        return b;
    }

    @SuppressWarnings("unchecked")
    static List<Class<? extends Method>> methodTypes() {
        List<Class<? extends Method>> types = new ArrayList<>();
        for (Class<?> type : Method.class.getPermittedSubclasses()) {
            types.add((Class<? extends Method>) type);
        }
        return types;
    }

    /** An instance of {@code type} with random arguments, each within its wire type's range and none empty or zero. */
    static Method method(Class<? extends Method> type, Random r) {
        return method(type, r, TAGS);
    }

    /** As {@link #method(Class, Random)}, with tables of values with the given tags only. */
    static Method method(Class<? extends Method> type, Random r, String tags) {
        RecordComponent[] components = type.getRecordComponents();
        Class<?>[] types = new Class<?>[components.length];
        Object[] args = new Object[components.length];
        for (int i = 0; i < components.length; i++) {
            types[i] = components[i].getType();
            args[i] = argument(components[i], r, tags);
        }
        try {
            return type.getDeclaredConstructor(types).newInstance(args);
        } catch (ReflectiveOperationException e) {
            throw new AssertionError(e);
        }
    }

    private static Object argument(RecordComponent c, Random r, String tags) {
        Class<?> t = c.getType();
        if (t == int.class) {
            return OCTET_FIELDS.contains(c.getName()) ? 1 + r.nextInt(0xFF) : 1 + r.nextInt(0xFFFF);
        } else if (t == long.class) {
            return LONGLONG_FIELDS.contains(c.getName()) ? r.nextLong() | 1L << 40 : 1 + r.nextLong(0xFFFF_FFFFL);
        } else if (t == boolean.class) {
            return r.nextBoolean();
        } else if (t == String.class) {
            return string(r, 40);
        } else if (t == byte[].class) {
            byte[] b = new byte[1 + r.nextInt(32)];
            r.nextBytes(b);
            return b;
        } else if (t == Map.class) {
            Map<String, Object> table = table(r, 0, tags);
            table.put("always", LongString.of("present"));
            return table;
        }
        throw new AssertionError("no sample for " + t + " " + c.getName());
    }
}
