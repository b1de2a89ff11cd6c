package io.holdfast.server.management;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * RabbitMQ's {@code message_stats}: message counts with {@code *_details.rate}, the per-second rate over the last
 * sampling interval. The counts are read when a request is answered; the rates come from two samples of the same
 * counters, which {@link #sample} takes (every {@link #INTERVAL_MILLIS} from a management thread, not the broker's
 * hot path). The clock is injected so tests step it. Samples are swapped in whole: any thread may read.
 */
final class MessageRates {
    /** RabbitMQ's default {@code collect_statistics_interval}. */
    static final long INTERVAL_MILLIS = 5_000;

    /** The counters of one object (the broker, or one queue); a queue has no confirms (0). */
    record Counts(long publish, long deliverGet, long ack, long confirm, long redeliver) {}

    /** Two samples of every counter, or one after the first sample; {@code queues} keyed by {@link #key}. */
    private record Sample(long atMillis, Counts broker, Map<String, Counts> queues) {}

    private record Window(Sample previous, Sample latest) {}

    private final LongSupplier clockMillis;
    private final Supplier<Counts> broker;
    private final Supplier<Map<String, Counts>> queues;
    private volatile Window window = new Window(null, null);

    /**
     * @param broker the broker-wide counters, readable from any thread
     * @param queues every queue's counters by {@link #key}, as one consistent read (on the broker thread)
     */
    MessageRates(LongSupplier clockMillis, Supplier<Counts> broker, Supplier<Map<String, Counts>> queues) {
        this.clockMillis = clockMillis;
        this.broker = broker;
        this.queues = queues;
    }

    static String key(String vhost, String queue) {
        return vhost + '\u0000' + queue;
    }

    /** Takes a sample of every counter; the rates are then over the time since the one before. */
    void sample() {
        Sample s = new Sample(clockMillis.getAsLong(), broker.get(), new HashMap<>(queues.get()));
        window = new Window(window.latest(), s);
    }

    /** {@code message_stats} for /api/overview: publish, deliver_get, ack, confirm, redeliver. */
    Map<String, Object> brokerStats(Counts now) {
        Window w = window;
        Counts before = w.previous() == null ? null : w.previous().broker();
        Counts after = w.latest() == null ? null : w.latest().broker();
        Map<String, Object> m = stats(now, before, after, w);
        put(m, "confirm", now.confirm(), before == null ? 0 : rate(before.confirm(), after.confirm(), w));
        return m;
    }

    /** {@code message_stats} for one queue: publish, deliver_get, ack, redeliver. */
    Map<String, Object> queueStats(String vhost, String queue, Counts now) {
        Window w = window;
        String k = key(vhost, queue);
        Counts before = w.previous() == null ? null : w.previous().queues().get(k);
        Counts after = w.latest() == null ? null : w.latest().queues().get(k);
        return stats(now, after == null ? null : before, after, w);
    }

    private static Map<String, Object> stats(Counts now, Counts before, Counts after, Window w) {
        Map<String, Object> m = new LinkedHashMap<>();
        boolean rated = before != null && after != null;
        put(m, "publish", now.publish(), rated ? rate(before.publish(), after.publish(), w) : 0);
        put(m, "deliver_get", now.deliverGet(), rated ? rate(before.deliverGet(), after.deliverGet(), w) : 0);
        put(m, "ack", now.ack(), rated ? rate(before.ack(), after.ack(), w) : 0);
        put(m, "redeliver", now.redeliver(), rated ? rate(before.redeliver(), after.redeliver(), w) : 0);
        return m;
    }

    /** Per second between the two samples; 0 if the count went down (the object was deleted and made again). */
    private static double rate(long before, long after, Window w) {
        long millis = w.latest().atMillis() - w.previous().atMillis();
        if (millis <= 0 || after < before) {
            return 0;
        }
        return (after - before) * 1000.0 / millis;
    }

    private static void put(Map<String, Object> m, String name, long count, double rate) {
        m.put(name, count);
        m.put(name + "_details", Map.of("rate", rate));
    }
}
