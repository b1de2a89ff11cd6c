package io.holdfast.core;

/**
 * Topic matching as RabbitMQ does it: words are separated by dots, {@code *} matches exactly one word
 * and {@code #} matches zero or more words. Empty words are words ({@code "a..b"} has three), but the
 * empty key has none.
 */
final class TopicPattern {
    private final String[] words;

    TopicPattern(String pattern) {
        this.words = words(pattern);
    }

    boolean matches(String routingKey) {
        return match(words, 0, words(routingKey), 0);
    }

    /** The empty string has no words (so {@code "*"} does not match it), as in RabbitMQ. */
    private static String[] words(String s) {
        return s.isEmpty() ? new String[0] : s.split("\\.", -1);
    }

    private static boolean match(String[] p, int pi, String[] k, int ki) {
        while (pi < p.length) {
            String w = p[pi];
            if (w.equals("#")) {
                // Collapse runs of '#', then try every split point for the rest.
                while (pi + 1 < p.length && p[pi + 1].equals("#")) {
                    pi++;
                }
                if (pi + 1 == p.length) {
                    return true;
                }
                for (int skip = ki; skip <= k.length; skip++) {
                    if (match(p, pi + 1, k, skip)) {
                        return true;
                    }
                }
                return false;
            }
            if (ki == k.length) {
                return false;
            }
            if (!w.equals("*") && !w.equals(k[ki])) {
                return false;
            }
            pi++;
            ki++;
        }
        return ki == k.length;
    }
}
