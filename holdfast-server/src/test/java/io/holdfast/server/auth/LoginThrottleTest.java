package io.holdfast.server.auth;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import org.junit.jupiter.api.Test;

class LoginThrottleTest {
    private long now = 1_000_000;
    private final LoginThrottle throttle = new LoginThrottle(() -> now);

    @Test
    void theDelayDoublesWithEachFailureUpToTheCapAndOnlyForThatAddress() throws Exception {
        InetAddress guesser = InetAddress.getByName("10.0.0.1");
        InetAddress other = InetAddress.getByName("10.0.0.2");
        assertThat(throttle.delayMillis(guesser)).isZero();
        assertThat(throttle.failed(guesser)).as("starts a burst").isTrue();
        assertThat(throttle.delayMillis(guesser)).isEqualTo(100);
        assertThat(throttle.failed(guesser)).isFalse();
        assertThat(throttle.delayMillis(guesser)).isEqualTo(200);
        for (int i = 0; i < 40; i++) {
            throttle.failed(guesser);
        }
        assertThat(throttle.delayMillis(guesser)).isEqualTo(LoginThrottle.MAX_DELAY_MILLIS);
        assertThat(throttle.delayMillis(other)).isZero();
    }

    @Test
    void aQuietPeriodEndsTheBurst() throws Exception {
        InetAddress guesser = InetAddress.getByName("10.0.0.1");
        throttle.failed(guesser);
        throttle.failed(guesser);
        now += LoginThrottle.QUIET_MILLIS;
        assertThat(throttle.delayMillis(guesser)).isZero();
        assertThat(throttle.failed(guesser)).as("a new burst, logged again").isTrue();
        assertThat(throttle.delayMillis(guesser)).isEqualTo(100);
    }
}
