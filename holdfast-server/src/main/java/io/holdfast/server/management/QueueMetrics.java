package io.holdfast.server.management;

import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot.GaugeDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.ToLongFunction;

/**
 * The queue series of a scrape, in the three shapes of RabbitMQ's Prometheus plugin: totals over all queues with no
 * label ({@code /metrics}), one series per queue with {@code vhost} and {@code queue} labels
 * ({@code /metrics/per-object}), or only the families a {@code /metrics/detailed} request names, per queue, under
 * {@code rabbitmq_detailed_*} names. Written as snapshots straight into Micrometer's Prometheus registry, so a scrape
 * of 10,000 queues registers no meter per queue. {@link BrokerMetrics} sets {@link #view} before each scrape, one
 * scrape at a time.
 */
final class QueueMetrics implements MultiCollector {
    /** One queue as a scrape reads it on the broker thread. */
    record Sample(String vhost, String name, long ready, long unacked, long consumers, long held, long pagedOut) {}

    /** What a scrape shows: {@code queues} null for totals only; detailed names the families and vhosts asked for. */
    record View(Totals totals, List<Sample> queues, Detailed detailed) {}

    /** The sums over every queue, for the aggregated view. */
    record Totals(long ready, long unacked, long consumers, long held, long pagedOut) {
        static final Totals NONE = new Totals(0, 0, 0, 0, 0);
    }

    /** A {@code /metrics/detailed} request: its {@code family} and {@code vhost} parameters (vhosts empty: all). */
    record Detailed(Set<String> families, Set<String> vhosts) {}

    /**
     * A queue family: its name, help, value, and RabbitMQ's {@code /metrics/detailed} group (null: not offered
     * there; Holdfast's own names are on {@code /metrics} and {@code /metrics/per-object} only).
     */
    private record Family(String name, String help, ToLongFunction<Sample> value, ToLongFunction<Totals> total,
                          Set<String> groups) {}

    /** RabbitMQ's detailed groups Holdfast serves; others in a request give nothing, as RabbitMQ ignores them. */
    static final String COARSE = "queue_coarse_metrics";
    static final String CONSUMER_COUNT = "queue_consumer_count";
    static final String QUEUE_METRICS = "queue_metrics";
    private static final String DETAILED_PREFIX = "rabbitmq_detailed_";

    private static final List<Family> FAMILIES = List.of(
            new Family("holdfast_queue_messages_ready", "Messages ready for delivery", Sample::ready, Totals::ready,
                    Set.of()),
            new Family("holdfast_queue_messages_unacked", "Messages delivered and not yet acknowledged",
                    Sample::unacked, Totals::unacked, Set.of()),
            new Family("holdfast_queue_messages_held", "Messages returned unsettled and held back by"
                    + " x-redelivery-backoff until their delay is over", Sample::held, Totals::held, Set.of()),
            new Family("holdfast_queue_consumers", "Consumers", Sample::consumers, Totals::consumers, Set.of()),
            new Family("holdfast_queue_index_paged_out", "Ready messages whose index entry is paged out to disk, not"
                    + " on the heap (queue_index.paging)", Sample::pagedOut, Totals::pagedOut, Set.of()),
            new Family("rabbitmq_queue_messages_ready", "Messages ready to be delivered to consumers", Sample::ready,
                    Totals::ready, Set.of(COARSE)),
            new Family("rabbitmq_queue_messages_unacked", "Messages delivered to consumers but not yet acknowledged",
                    Sample::unacked, Totals::unacked, Set.of(COARSE)),
            new Family("rabbitmq_queue_messages", "Sum of ready and unacknowledged messages (queue depth)",
                    q -> q.ready() + q.unacked(), t -> t.ready() + t.unacked(), Set.of(COARSE)),
            new Family("rabbitmq_queue_consumers", "Consumers on a queue", Sample::consumers, Totals::consumers,
                    Set.of(CONSUMER_COUNT, QUEUE_METRICS)));

    volatile View view = new View(Totals.NONE, null, null);

    @Override
    public MetricSnapshots collect() {
        View v = view;
        MetricSnapshots.Builder out = MetricSnapshots.builder();
        if (v.detailed() != null) {
            List<Sample> queues = v.queues().stream()
                    .filter(q -> v.detailed().vhosts().isEmpty() || v.detailed().vhosts().contains(q.vhost())).toList();
            List<Labels> labels = labels(queues);
            for (Family f : FAMILIES) {
                if (f.groups().stream().anyMatch(v.detailed().families()::contains)) {
                    out.metricSnapshot(perQueue(DETAILED_PREFIX + f.name().substring("rabbitmq_".length()), f,
                            queues, labels));
                }
            }
        } else if (v.queues() != null) {
            List<Labels> labels = labels(v.queues());
            FAMILIES.forEach(f -> out.metricSnapshot(perQueue(f.name(), f, v.queues(), labels)));
        } else {
            FAMILIES.forEach(f -> out.metricSnapshot(GaugeSnapshot.builder().name(f.name()).help(f.help())
                    .dataPoint(GaugeDataPointSnapshot.builder().value(f.total().applyAsLong(v.totals())).build())
                    .build()));
        }
        return out.build();
    }

    /** The names a detailed request's families give (for the registry's name filter, so nothing else is written). */
    static Set<String> detailedNames(Set<String> families) {
        Set<String> names = new LinkedHashSet<>();
        for (Family f : FAMILIES) {
            if (f.groups().stream().anyMatch(families::contains)) {
                names.add(DETAILED_PREFIX + f.name().substring("rabbitmq_".length()));
            }
        }
        return names;
    }

    /** One label set per queue, shared by every family (building labels is the costly part). */
    private static List<Labels> labels(List<Sample> queues) {
        List<Labels> labels = new ArrayList<>(queues.size());
        for (Sample q : queues) {
            labels.add(Labels.of("queue", q.name(), "vhost", q.vhost()));
        }
        return labels;
    }

    private static GaugeSnapshot perQueue(String name, Family f, List<Sample> queues, List<Labels> labels) {
        GaugeSnapshot.Builder g = GaugeSnapshot.builder().name(name).help(f.help());
        for (int i = 0; i < queues.size(); i++) {
            g.dataPoint(GaugeDataPointSnapshot.builder().labels(labels.get(i))
                    .value(f.value().applyAsLong(queues.get(i))).build());
        }
        return g.build();
    }
}
