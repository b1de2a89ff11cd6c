package io.holdfast.core;

/** Checks that stay on in production: a broken invariant stops the command, not the broker. */
public final class Preconditions {
    private Preconditions() {}

    public static void check(boolean condition, String what) {
        if (!condition) {
            throw new IllegalStateException("invariant broken: " + what);
        }
    }
}
