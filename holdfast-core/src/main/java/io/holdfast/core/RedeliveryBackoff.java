package io.holdfast.core;

import java.util.Arrays;
import java.util.Locale;

/**
 * A queue's {@code x-redelivery-backoff}: how long a message that came back unsettled waits before it is
 * ready again. Immutable; any thread.
 *
 * <p>Two forms, as text:
 * <ul>
 *   <li>a list of delays, {@code 1s,5s,30s}: the first return waits the first delay, the second return the
 *       second, and every later return the last one;</li>
 *   <li>{@code exponential:<initial>:<max>}, for example {@code exponential:1s:5m}: the n-th return waits
 *       {@code initial * 2^(n-1)}, spread by a jitter of ±{@value #JITTER_PERCENT}% and never more than
 *       {@code max}.</li>
 * </ul>
 * A duration is a whole number with a unit {@code ms}, {@code s}, {@code m} or {@code h}; a bare number is
 * milliseconds. Delays may be zero (no wait), never negative.
 *
 * <p>The jitter must not break the core's determinism, so it is not random: it is a hash of the message's
 * position and the return's number, the same on every replay and replica, and different enough between
 * messages that returns of a batch spread out.
 */
final class RedeliveryBackoff {
    static final String ARGUMENT = "x-redelivery-backoff";
    static final int JITTER_PERCENT = 20;
    private static final String EXPONENTIAL = "exponential:";
    /** The longest delay accepted: a year, far from overflowing a wall-clock sum. */
    private static final long MAX_DELAY_MILLIS = 365L * 24 * 3_600_000;

    /** The list form's delays; null for the exponential form. */
    private final long[] delaysMillis;
    private final long initialMillis;
    private final long maxMillis;

    private RedeliveryBackoff(long[] delaysMillis, long initialMillis, long maxMillis) {
        this.delaysMillis = delaysMillis;
        this.initialMillis = initialMillis;
        this.maxMillis = maxMillis;
    }

    /**
     * Parses the argument's text.
     *
     * @throws BrokerException 406 PRECONDITION_FAILED naming the argument and what is wrong
     */
    static RedeliveryBackoff parse(String text) {
        String t = text.trim();
        if (t.toLowerCase(Locale.ROOT).startsWith(EXPONENTIAL)) {
            String[] parts = t.substring(EXPONENTIAL.length()).split(":", -1);
            if (parts.length != 2) {
                throw invalid(text, "expected exponential:<initial>:<max>, such as exponential:1s:5m");
            }
            long initial = duration(text, parts[0]);
            long max = duration(text, parts[1]);
            if (initial <= 0) {
                throw invalid(text, "the initial delay must be positive");
            }
            if (max < initial) {
                throw invalid(text, "the maximum delay " + parts[1].trim() + " is less than the initial delay "
                        + parts[0].trim());
            }
            return new RedeliveryBackoff(null, initial, max);
        }
        String[] parts = t.split(",", -1);
        long[] delays = new long[parts.length];
        for (int i = 0; i < parts.length; i++) {
            delays[i] = duration(text, parts[i]);
        }
        return new RedeliveryBackoff(delays, 0, 0);
    }

    private static long duration(String text, String part) {
        long millis = Durations.millis(part.trim().toLowerCase(Locale.ROOT), true);
        if (millis < 0) {
            throw invalid(text, "'" + part.trim() + "' is not a duration (a whole number with unit ms, s, m or h)");
        }
        if (millis > MAX_DELAY_MILLIS) {
            throw invalid(text, "'" + part.trim() + "' is longer than a year");
        }
        return millis;
    }

    private static BrokerException invalid(String text, String why) {
        return BrokerException.precondition("invalid arg '" + ARGUMENT + "' for queue: '" + text + "': " + why);
    }

    /**
     * How long the message at {@code seq} waits after its {@code returns}-th return (its delivery count when
     * it comes back; 1 for the first).
     */
    long delayMillis(long seq, int returns) {
        int n = Math.max(1, returns);
        if (delaysMillis != null) {
            return delaysMillis[Math.min(n, delaysMillis.length) - 1];
        }
        long base = n - 1 >= 62 || initialMillis > maxMillis >> (n - 1) ? maxMillis : initialMillis << (n - 1);
        // jitter in [-JITTER_PERCENT%, +JITTER_PERCENT%), from a hash of (seq, n)
        long h = mix(seq * 0x9E3779B97F4A7C15L + n);
        double unit = (h >>> 11) * 0x1.0p-53; // [0, 1)
        long jittered = Math.round(base * (1 + JITTER_PERCENT / 100.0 * (2 * unit - 1)));
        return Math.min(maxMillis, Math.max(0, jittered));
    }

    /** The finalizer of MurmurHash3 (fmix64): spreads every input bit over the output. */
    private static long mix(long z) {
        z = (z ^ (z >>> 33)) * 0xff51afd7ed558ccdL;
        z = (z ^ (z >>> 33)) * 0xc4ceb93fe53e1a85L;
        return z ^ (z >>> 33);
    }

    @Override
    public String toString() {
        return delaysMillis != null ? "delays " + Arrays.toString(delaysMillis) + " ms"
                : "exponential from " + initialMillis + " ms to " + maxMillis + " ms";
    }
}
