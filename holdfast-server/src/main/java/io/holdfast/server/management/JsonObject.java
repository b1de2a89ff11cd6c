package io.holdfast.server.management;

import java.util.List;

/**
 * Writes one flat JSON object (strings, whole numbers, booleans, arrays of strings): the one place the
 * management listener produces JSON, so string escaping (RFC 8259: quote, backslash, control
 * characters) is done once. Responses are encoded as UTF-8, which turns a lone surrogate into '?', so
 * the output is always valid JSON. One instance per response; not thread-safe.
 */
final class JsonObject {
    private final StringBuilder out = new StringBuilder("{");

    JsonObject field(String name, String value) {
        name(name);
        quote(value);
        return this;
    }

    JsonObject field(String name, long value) {
        name(name);
        out.append(value);
        return this;
    }

    JsonObject field(String name, boolean value) {
        name(name);
        out.append(value);
        return this;
    }

    JsonObject field(String name, List<String> values) {
        name(name);
        out.append('[');
        for (int i = 0; i < values.size(); i++) {
            if (i > 0) {
                out.append(',');
            }
            quote(values.get(i));
        }
        out.append(']');
        return this;
    }

    /** The object's text; the builder is done after this. */
    @Override
    public String toString() {
        return out + "}";
    }

    private void name(String name) {
        if (out.length() > 1) {
            out.append(',');
        }
        quote(name);
        out.append(':');
    }

    private void quote(String s) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    if (c < 0x20) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }
}
