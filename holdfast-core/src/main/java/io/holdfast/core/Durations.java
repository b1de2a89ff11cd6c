package io.holdfast.core;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Durations in Holdfast's own queue arguments: a whole number (at most 12 digits) with unit ms, s, m or h. */
final class Durations {
    private static final Pattern DURATION = Pattern.compile("(\\d{1,12})(ms|s|m|h)?");

    private Durations() {}

    /**
     * The milliseconds {@code text} names, or -1 if it is not a duration. Units are lower case; a number
     * without a unit counts as milliseconds only if {@code bareIsMillis}.
     */
    static long millis(String text, boolean bareIsMillis) {
        Matcher m = DURATION.matcher(text);
        if (!m.matches() || m.group(2) == null && !bareIsMillis) {
            return -1;
        }
        long unit = m.group(2) == null ? 1 : switch (m.group(2)) {
            case "ms" -> 1;
            case "s" -> 1_000;
            case "m" -> 60_000;
            default -> 3_600_000;
        };
        return Long.parseLong(m.group(1)) * unit;
    }
}
