package io.holdfast.server.amqp;

import io.holdfast.server.config.SecurityConfig;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The broker-wide connection limits of one listener set: {@code connection_max} (connections opened at once)
 * and {@code connection_rate_max} (new sockets accepted per second). A refusal is logged once per burst: the
 * first after a second without one. Thread-safe: every connection's event loop calls it.
 */
final class ConnectionLimits {
    private static final Logger log = LoggerFactory.getLogger(ConnectionLimits.class);
    private static final long BURST_GAP_MILLIS = 1000;

    private final int connectionMax;
    private final int rateMax;
    private final LongSupplier clockMillis;
    private final AtomicInteger open = new AtomicInteger();
    private long windowStartMillis;
    private int acceptedInWindow;
    private long lastRateRefusalMillis = Long.MIN_VALUE / 2;
    private long lastMaxRefusalMillis = Long.MIN_VALUE / 2;

    ConnectionLimits(SecurityConfig config, LongSupplier clockMillis) {
        this.connectionMax = config.connectionMax();
        this.rateMax = config.connectionRateMax();
        this.clockMillis = clockMillis;
    }

    /** A new socket: false if it is over {@code connection_rate_max} this second (the caller closes it). */
    synchronized boolean admitSocket(Object from) {
        if (rateMax <= 0) {
            return true;
        }
        long now = clockMillis.getAsLong();
        if (now - windowStartMillis >= 1000) {
            windowStartMillis = now;
            acceptedInWindow = 0;
        }
        if (acceptedInWindow < rateMax) {
            acceptedInWindow++;
            return true;
        }
        if (now - lastRateRefusalMillis >= BURST_GAP_MILLIS) {
            log.warn("closing new connection from {}: more than connection_rate_max = {} new connections in a second; "
                    + "further ones are closed too, and logged again after a second without any", from, rateMax);
        }
        lastRateRefusalMillis = now;
        return false;
    }

    /**
     * connection.open: counts the connection as open, or returns the 530 text to refuse it with if
     * {@code connection_max} are open already. A connection counted here must call {@link #closed()}.
     */
    String tryOpen(Object from) {
        if (connectionMax <= 0) {
            open.incrementAndGet();
            return null;
        }
        if (open.incrementAndGet() <= connectionMax) {
            return null;
        }
        open.decrementAndGet();
        synchronized (this) {
            long now = clockMillis.getAsLong();
            if (now - lastMaxRefusalMillis >= BURST_GAP_MILLIS) {
                log.warn("refusing connection from {}: connection_max = {} connections are open; further refusals are "
                        + "logged again after a second without any", from, connectionMax);
            }
            lastMaxRefusalMillis = now;
        }
        return "connection refused: node connection limit (" + connectionMax + ") is reached";
    }

    /** An opened connection has closed. */
    void closed() {
        open.decrementAndGet();
    }
}
