package io.holdfast.server.auth;

import java.nio.charset.StandardCharsets;

/**
 * The rule for user and virtual host names: what an AMQP short string can carry, without control characters.
 * Any thread.
 */
public final class Names {
    private Names() {}

    /** @throws AccessException (invalid) saying what is wrong with {@code name} */
    public static void check(String what, String name) {
        if (name == null || name.isEmpty()) {
            throw AccessException.invalid(what + " name must not be empty");
        }
        if (name.getBytes(StandardCharsets.UTF_8).length > 255) {
            throw AccessException.invalid(what + " name is longer than 255 bytes");
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c < 0x20 || c == 0x7F) {
                throw AccessException.invalid(what + " name '" + name.replaceAll("\\p{Cntrl}", "?")
                        + "' contains a control character (at index " + i + ")");
            }
        }
    }
}
