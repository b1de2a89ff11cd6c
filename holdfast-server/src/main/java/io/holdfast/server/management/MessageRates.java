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

    /** The counters every object's {@code message_stats} has, in RabbitMQ's names. */
    private static final String[] NAMES = {"publish", "deliver_get", "ack", "redeliver"};

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
        return queuesStats(Map.of(key(vhost, queue), now));
    }

    /**
     * {@code message_stats} summed over some queues, {@code now} keyed by {@link #key} (the queues of a management
     * user's vhosts, for /api/overview): publish, deliver_get, ack, redeliver; a queue's rate counts once it is in
     * both samples.
     */
    Map<String, Object> queuesStats(Map<String, Counts> now) {
        Window w = window;
        long[] counts = new long[NAMES.length];
        double[] rates = new double[NAMES.length];
        now.forEach((k, c) -> {
            Counts before = w.previous() == null ? null : w.previous().queues().get(k);
            Counts after = w.latest() == null ? null : w.latest().queues().get(k);
            long[] n = fields(c);
            for (int i = 0; i < NAMES.length; i++) {
                counts[i] += n[i];
                rates[i] += before != null && after != null ? rate(fields(before)[i], fields(after)[i], w) : 0;
            }
        });
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < NAMES.length; i++) {
            put(m, NAMES[i], counts[i], rates[i]);
        }
        return m;
    }

    private static Map<String, Object> stats(Counts now, Counts before, Counts after, Window w) {
        Map<String, Object> m = new LinkedHashMap<>();
        boolean rated = before != null && after != null;
        long[] n = fields(now);
        for (int i = 0; i < NAMES.length; i++) {
            put(m, NAMES[i], n[i], rated ? rate(fields(before)[i], fields(after)[i], w) : 0);
        }
        return m;
    }

    /** The counts {@link #NAMES} name, in that order. */
    private static long[] fields(Counts c) {
        return new long[] {c.publish(), c.deliverGet(), c.ack(), c.redeliver()};
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
