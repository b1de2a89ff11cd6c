package io.holdfast.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;

/** Message bodies that carry their number twice (as is and inverted), so a test sees order, loss and damage. */
final class NumberedBodies {
    private NumberedBodies() {}

    /** A body of {@code bytes} bytes (at least 8) carrying {@code i}. */
    static byte[] body(int i, int bytes) {
        byte[] b = new byte[bytes];
        ByteBuffer.wrap(b).putInt(i).putInt(~i);
        return b;
    }

    /** The number a {@link #body} carries; fails the test if the two copies differ. */
    static int number(byte[] body) {
        ByteBuffer b = ByteBuffer.wrap(body);
        int n = b.getInt();
        assertThat(b.getInt()).as("intact body of %d", n).isEqualTo(~n);
        return n;
    }
}
