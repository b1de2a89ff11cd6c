package io.holdfast.server.auth;

import java.net.InetAddress;
import java.util.HashMap;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * Slows password guessing: after a failed login from an address, the verdict on that address's next login
 * (refusal or success) is answered only after a delay that doubles with each failure in the burst, from
 * {@link #FIRST_DELAY_MILLIS} up to {@link #MAX_DELAY_MILLIS}. A burst ends when {@link #QUIET_MILLIS} pass
 * without a failure from that address. Other addresses are never slowed, so a right password from elsewhere
 * always gets in at once. Delaying successes too means a guesser cannot learn the verdict early by giving up
 * on a slow answer. The caller waits without blocking (a scheduled task). Thread-safe.
 */
public final class LoginThrottle {
    public static final long FIRST_DELAY_MILLIS = 100;
    public static final long MAX_DELAY_MILLIS = 5000;
    public static final long QUIET_MILLIS = 30_000;
    /** Above this many addresses in a burst, ended bursts are dropped (bounded memory under a spray of addresses). */
    private static final int PRUNE_ABOVE = 4096;

    private final LongSupplier clockMillis;
    private final Map<InetAddress, Burst> bursts = new HashMap<>();

    private static final class Burst {
        int failures;
        long lastFailureMillis;
    }

    /** @param clockMillis a monotonic clock in milliseconds */
    public LoginThrottle(LongSupplier clockMillis) {
        this.clockMillis = clockMillis;
    }

    /** How long to wait before answering a login from {@code address} now: 0 outside a burst. */
    public synchronized long delayMillis(InetAddress address) {
        Burst b = bursts.get(address);
        if (b == null || ended(b, clockMillis.getAsLong())) {
            return 0;
        }
        return Math.min(MAX_DELAY_MILLIS, FIRST_DELAY_MILLIS << Math.min(b.failures - 1, 16));
    }

    /**
     * Counts a failed login from {@code address}.
     *
     * @return true if it starts a burst: the one failure of the burst worth logging
     */
    public synchronized boolean failed(InetAddress address) {
        long now = clockMillis.getAsLong();
        if (bursts.size() > PRUNE_ABOVE) {
            bursts.values().removeIf(b -> ended(b, now));
        }
        Burst b = bursts.computeIfAbsent(address, a -> new Burst());
        if (ended(b, now)) {
            b.failures = 0;
        }
        b.failures++;
        b.lastFailureMillis = now;
        return b.failures == 1;
    }

    private static boolean ended(Burst b, long now) {
        return b.failures == 0 || now - b.lastFailureMillis >= QUIET_MILLIS;
    }
}
