package io.holdfast.core;

import java.util.Arrays;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Headers-exchange matching as RabbitMQ does it: {@code x-match} is {@code all} (default) or
 * {@code any} ({@code all-with-x} and {@code any-with-x} also compare {@code x-} keys); binding
 * arguments starting with {@code x-} are ignored otherwise; a void binding value matches on presence.
 */
final class HeadersMatch {
    private static final String X_MATCH = "x-match";
    private static final Set<String> MODES = Set.of("all", "any", "all-with-x", "any-with-x");

    private HeadersMatch() {}

    /**
     * Refuses, with RabbitMQ's 406 and text, a binding to a headers exchange whose {@code x-match} is not a long
     * string or not one of {@code all}, {@code any}, {@code all-with-x}, {@code any-with-x}. Other exchanges
     * ignore binding arguments.
     */
    static void validate(Exchange source, Map<String, Object> bindingArgs, PropertiesRewriter types) {
        if (source.routingType() != ExchangeType.HEADERS || bindingArgs == null
                || !bindingArgs.containsKey(X_MATCH)) {
            return;
        }
        Object mode = bindingArgs.get(X_MATCH);
        String type = types.fieldType(mode);
        if (!PropertiesRewriter.LONG_STRING.equals(type)) {
            throw BrokerException.precondition("Invalid x-match field type " + type + " (value "
                    + (mode instanceof byte[] ? "<<\"" + stringOf(mode) + "\">>" : String.valueOf(mode))
                    + "); expected longstr");
        }
        if (!MODES.contains(stringOf(mode))) {
            throw BrokerException.precondition("Invalid x-match field value <<\"" + stringOf(mode)
                    + "\">>; expected all, any, all-with-x, or any-with-x");
        }
    }

    static boolean matches(Map<String, Object> bindingArgs, Map<String, Object> headers) {
        String mode = stringOf(bindingArgs.get(X_MATCH));
        boolean any = mode != null && mode.startsWith("any");
        boolean withX = mode != null && mode.endsWith("-with-x");
        for (Map.Entry<String, Object> e : bindingArgs.entrySet()) {
            String key = e.getKey();
            if (key.startsWith("x-") && !withX) {
                continue;
            }
            if (key.equals(X_MATCH)) {
                continue;
            }
            boolean present = headers.containsKey(key);
            boolean ok = present && (e.getValue() == null || valueEquals(e.getValue(), headers.get(key)));
            if (any && ok) {
                return true;
            }
            if (!any && !ok) {
                return false;
            }
        }
        // "all" with nothing failing matches (also with no criteria); "any" with nothing matching does not.
        return !any;
    }

    static String stringOf(Object v) {
        if (v == null) {
            return null;
        }
        if (v instanceof byte[] b) {
            return new String(b, java.nio.charset.StandardCharsets.UTF_8);
        }
        return v.toString();
    }

    private static boolean valueEquals(Object a, Object b) {
        if (a instanceof byte[] x && b instanceof byte[] y) {
            return Arrays.equals(x, y);
        }
        if (a instanceof Number x && b instanceof Number y && isIntegral(x) && isIntegral(y)) {
            return x.longValue() == y.longValue();
        }
        if (Objects.equals(a, b)) {
            return true;
        }
        // A string typed as 'S' on one side and as another string type on the other still matches.
        return a != null && b != null && !(a instanceof Number) && !(b instanceof Number)
                && Objects.equals(stringOf(a), stringOf(b));
    }

    private static boolean isIntegral(Number n) {
        return n instanceof Byte || n instanceof Short || n instanceof Integer || n instanceof Long;
    }
}
