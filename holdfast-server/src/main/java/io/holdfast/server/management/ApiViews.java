package io.holdfast.server.management;

import io.holdfast.core.Binding;
import io.holdfast.core.Broker;
import io.holdfast.core.Exchange;
import io.holdfast.core.Queue;
import io.holdfast.core.VirtualHost;
import io.holdfast.protocol.LongString;
import io.holdfast.protocol.Timestamp;
import io.holdfast.protocol.UnsignedByte;
import io.holdfast.protocol.UnsignedInt;
import io.holdfast.protocol.UnsignedShort;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The management API's views of broker objects, with the field names and JSON types of RabbitMQ's
 * management plugin (the fields its HTTP clients and {@code rabbitmqadmin} read), as plain maps for
 * Jackson. Built on the broker thread (inside {@code Engine.query}): they copy what they show.
 */
final class ApiViews {
    /** The node name RabbitMQ's clients expect in {@code node} fields. */
    static final String NODE = "holdfast@localhost";

    private ApiViews() {}

    static Map<String, Object> queue(Queue q) {
        return QueueRow.of(q).view();
    }

    /**
     * What the queue list shows of one queue, copied on the broker thread (cheap: a few fields and its arguments);
     * the JSON maps are built, sorted and serialised off it, so a list of 10,000 queues holds the broker thread only
     * for the copy.
     */
    record QueueRow(String name, String vhost, boolean durable, boolean autoDelete, boolean exclusive,
                    Map<String, Object> arguments, int consumers, long ready, long unacked, long readyBytes, long held,
                    MessageRates.Counts counts, Broker.ReplicatedQueues.ReplicaView replica) {
        static QueueRow of(Queue q) {
            return of(q, Figures.local(q));
        }

        /** As {@link #of(Queue)}; a quorum queue of a cluster node shows its replica's counts, leader and members. */
        static QueueRow of(Broker b, Queue q) {
            return of(q, Figures.of(b, q));
        }

        private static QueueRow of(Queue q, Figures f) {
            return new QueueRow(q.name(), q.vhost(), q.durable(), q.autoDelete(), q.exclusive(),
                    ApiViews.arguments(q.arguments()), (int) f.consumers(), f.ready(), f.unacked(), f.readyBytes(),
                    f.held(), ApiViews.counts(q), f.replica());
        }

        Map<String, Object> view() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", name);
            m.put("vhost", vhost);
            m.put("durable", durable);
            m.put("auto_delete", autoDelete);
            m.put("exclusive", exclusive);
            m.put("arguments", arguments);
            if (replica == null) {
                m.put("node", NODE);
                m.put("state", "running");
                m.put("type", "classic");
            } else {
                // RabbitMQ's quorum queue fields: its node is the leader's
                m.put("node", replica.leader());
                m.put("state", replica.leader() == null ? "minority" : "running");
                m.put("type", "quorum");
                m.put("leader", replica.leader());
                m.put("members", replica.members());
            }
            m.put("consumers", consumers);
            m.put("messages", ready + unacked);
            m.put("messages_ready", ready);
            m.put("messages_unacknowledged", unacked);
            m.put("message_bytes_ready", readyBytes);
            m.put("messages_held", held); // Holdfast's: held back by x-redelivery-backoff
            return m;
        }

        /** With RabbitMQ's {@code message_stats} (counts as copied, rates from {@code rates}). */
        Map<String, Object> view(MessageRates rates) {
            Map<String, Object> m = view();
            m.put("message_stats", rates.queueStats(vhost, name, counts));
            return m;
        }
    }

    /**
     * A queue's figures as this node knows them, for every view that counts messages (the queue list, the overview,
     * the metrics): a quorum queue's are its replica's here, since the broker's queue of that name only routes.
     * Broker thread.
     *
     * @param replica the quorum queue's replica, or null for a queue of this broker's
     */
    record Figures(long ready, long unacked, long consumers, long held, long pagedOut, long readyBytes,
                   Broker.ReplicatedQueues.ReplicaView replica) {
        static Figures of(Broker b, Queue q) {
            Broker.ReplicatedQueues.ReplicaView r = b.replicaView(q);
            return r == null ? local(q) : new Figures(r.ready(), r.unacked(), r.consumers(), 0, 0, 0, r);
        }

        static Figures local(Queue q) {
            return new Figures(q.readyCount(), q.unackedCount(), q.consumerCount(), q.heldCount(), q.pagedOutCount(),
                    q.readyBytes(), null);
        }
    }

    /** A queue's counters for {@link MessageRates}. */
    static MessageRates.Counts counts(Queue q) {
        return new MessageRates.Counts(q.publishedTotal(), q.deliveredTotal(), q.ackedTotal(), 0, q.redeliveredTotal());
    }

    /** Every queue's counters, keyed for {@link MessageRates}: one read, on the broker thread. */
    static Map<String, MessageRates.Counts> queueCounts(Broker broker) {
        Map<String, MessageRates.Counts> out = new java.util.HashMap<>();
        for (VirtualHost v : broker.virtualHosts()) {
            for (Queue q : v.queues()) {
                out.put(MessageRates.key(v.name(), q.name()), counts(q));
            }
        }
        return out;
    }

    static Map<String, Object> exchange(VirtualHost v, Exchange x) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", x.name());
        m.put("vhost", v.name());
        m.put("type", x.type().wireName());
        m.put("durable", x.durable());
        m.put("auto_delete", x.autoDelete());
        m.put("internal", x.internal());
        m.put("arguments", arguments(x.arguments()));
        return m;
    }

    static Map<String, Object> binding(VirtualHost v, Binding b) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("source", b.source());
        m.put("vhost", v.name());
        m.put("destination", b.destination());
        m.put("destination_type", b.toQueue() ? "queue" : "exchange");
        m.put("routing_key", b.routingKey());
        m.put("arguments", arguments(b.arguments()));
        m.put("properties_key", propertiesKey(b));
        return m;
    }

    /**
     * What names a binding among those between the same two ends in the API's paths, RabbitMQ's way: the routing
     * key ("~" for an empty one), with a hash of the arguments when there are any.
     */
    static String propertiesKey(Binding b) {
        return b.arguments().isEmpty() ? (b.routingKey().isEmpty() ? "~" : b.routingKey())
                : b.routingKey() + "~" + Integer.toHexString(b.arguments().hashCode());
    }

    static Map<String, Object> vhost(VirtualHost v) {
        long ready = 0;
        long unacked = 0;
        for (Queue q : v.queues()) {
            ready += q.readyCount();
            unacked += q.unackedCount();
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", v.name());
        m.put("description", v.name().equals("/") ? "Default virtual host" : "");
        m.put("tracing", false);
        m.put("messages", ready + unacked);
        m.put("messages_ready", ready);
        m.put("messages_unacknowledged", unacked);
        return m;
    }

    /** The queues' rows (of {@code vhost} only, unless null), copied on the broker thread, in no order. */
    static List<QueueRow> queueRows(Broker broker, String vhost) {
        List<QueueRow> out = new ArrayList<>();
        for (VirtualHost v : broker.virtualHosts()) {
            if (vhost == null || v.name().equals(vhost)) {
                v.queues().forEach(q -> out.add(QueueRow.of(broker, q)));
            }
        }
        return out;
    }

    /** The rows as RabbitMQ lists queues: sorted by vhost then name, with message_stats. Any thread. */
    static List<Map<String, Object>> queues(List<QueueRow> rows, MessageRates rates) {
        List<QueueRow> sorted = new ArrayList<>(rows);
        sorted.sort(Comparator.comparing(QueueRow::vhost).thenComparing(QueueRow::name));
        List<Map<String, Object>> out = new ArrayList<>(sorted.size());
        sorted.forEach(r -> out.add(r.view(rates)));
        return out;
    }

    static List<Map<String, Object>> exchanges(Broker broker, String vhost) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (VirtualHost v : broker.virtualHosts()) {
            if (vhost == null || v.name().equals(vhost)) {
                List<Exchange> exchanges = new ArrayList<>();
                v.exchanges().forEach(exchanges::add);
                exchanges.sort(Comparator.comparing(Exchange::name));
                exchanges.forEach(x -> out.add(exchange(v, x)));
            }
        }
        return out;
    }

    /** Bindings as RabbitMQ lists them: the default exchange's implicit one per queue first, then the rest. */
    static List<Map<String, Object>> bindings(Broker broker, String vhost) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (VirtualHost v : broker.virtualHosts()) {
            if (vhost != null && !v.name().equals(vhost)) {
                continue;
            }
            List<Queue> queues = new ArrayList<>();
            v.queues().forEach(queues::add);
            queues.sort(Comparator.comparing(Queue::name));
            for (Queue q : queues) {
                out.add(binding(v, new Binding("", q.name(), true, q.name(), Map.of())));
            }
            List<Exchange> exchanges = new ArrayList<>();
            v.exchanges().forEach(exchanges::add);
            exchanges.sort(Comparator.comparing(Exchange::name));
            for (Exchange x : exchanges) {
                List<Binding> bs = new ArrayList<>(x.bindings());
                bs.sort(Comparator.comparing(Binding::destination).thenComparing(Binding::routingKey));
                bs.forEach(b -> out.add(binding(v, b)));
            }
        }
        return out;
    }

    /** A field table as JSON: strings for long strings, numbers for every integer width, nested as nested. */
    static Map<String, Object> arguments(Map<String, Object> table) {
        Map<String, Object> m = new LinkedHashMap<>();
        table.forEach((k, v) -> m.put(k, value(v)));
        return m;
    }

    private static Object value(Object v) {
        if (v instanceof LongString s) {
            return s.toString();
        } else if (v instanceof UnsignedByte u) {
            return u.value();
        } else if (v instanceof UnsignedShort u) {
            return u.value();
        } else if (v instanceof UnsignedInt u) {
            return u.value();
        } else if (v instanceof Timestamp t) {
            return t.seconds();
        } else if (v instanceof byte[] b) {
            return new String(b, java.nio.charset.StandardCharsets.UTF_8);
        } else if (v instanceof Map<?, ?> nested) {
            Map<String, Object> m = new LinkedHashMap<>();
            nested.forEach((k, x) -> m.put(String.valueOf(k), value(x)));
            return m;
        } else if (v instanceof List<?> list) {
            List<Object> out = new ArrayList<>();
            list.forEach(x -> out.add(value(x)));
            return out;
        }
        return v;
    }
}
