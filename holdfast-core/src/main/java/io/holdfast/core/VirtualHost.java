package io.holdfast.core;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** A virtual host: its exchanges, queues and bindings, and routing across them. Broker thread only. */
public final class VirtualHost {
    static final String DEFAULT_EXCHANGE = "";

    private final String name;
    final Map<String, Exchange> exchanges = new LinkedHashMap<>();
    final Map<String, Queue> queues = new LinkedHashMap<>();

    VirtualHost(String name) {
        this.name = name;
        declarePredefined(DEFAULT_EXCHANGE, ExchangeType.DIRECT);
        declarePredefined("amq.direct", ExchangeType.DIRECT);
        declarePredefined("amq.fanout", ExchangeType.FANOUT);
        declarePredefined("amq.topic", ExchangeType.TOPIC);
        declarePredefined("amq.headers", ExchangeType.HEADERS);
        declarePredefined("amq.match", ExchangeType.HEADERS);
    }

    private void declarePredefined(String exchange, ExchangeType type) {
        exchanges.put(exchange, new Exchange(exchange, type, true, false, false, Map.of()));
    }

    public String name() { return name; }

    public Exchange exchange(String exchange) { return exchanges.get(exchange); }

    public Queue queue(String queue) { return queues.get(queue); }

    public Iterable<Exchange> exchanges() { return exchanges.values(); }

    public Iterable<Queue> queues() { return queues.values(); }

    Exchange requireExchange(String exchange) {
        Exchange x = exchanges.get(exchange);
        if (x == null) {
            throw BrokerException.notFound("exchange", exchange, name);
        }
        return x;
    }

    Queue requireQueue(String queue) {
        Queue q = queues.get(queue);
        if (q == null) {
            throw BrokerException.notFound("queue", queue, name);
        }
        return q;
    }

    /**
     * The queues a message published to {@code source} with these routing keys (its own, then those of
     * {@code CC} and {@code BCC}, see {@link SenderSelected}) reaches: through exchange-to-exchange bindings too,
     * each queue once, each exchange visited once (so binding and alternate-exchange cycles end). An exchange
     * whose own bindings match nothing passes the message on to its {@code alternate-exchange}, if that exists,
     * as RabbitMQ does.
     */
    Set<Queue> route(Exchange source, List<String> routingKeys, Map<String, Object> headers) {
        Set<Queue> out = new LinkedHashSet<>();
        if (source.name().equals(DEFAULT_EXCHANGE)) {
            for (String key : routingKeys) {
                Queue q = queues.get(key);
                if (q != null) {
                    out.add(q);
                }
            }
            return out;
        }
        Set<String> visited = new HashSet<>();
        List<Exchange> pending = new ArrayList<>();
        pending.add(source);
        visited.add(source.name());
        List<Binding> matched = new ArrayList<>();
        while (!pending.isEmpty()) {
            Exchange x = pending.remove(pending.size() - 1);
            matched.clear();
            if (x.routesByKey()) {
                for (String key : routingKeys) {
                    x.route(key, headers, matched);
                }
            } else {
                x.route(routingKeys.get(0), headers, matched);
            }
            if (matched.isEmpty()) {
                String alternate = x.alternateExchange();
                Exchange ae = alternate == null ? null : exchanges.get(alternate);
                if (ae != null && visited.add(ae.name())) {
                    pending.add(ae);
                }
            }
            for (Binding b : matched) {
                if (b.toQueue()) {
                    Queue q = queues.get(b.destination());
                    if (q != null) {
                        out.add(q);
                    }
                } else if (visited.add(b.destination())) {
                    Exchange next = exchanges.get(b.destination());
                    if (next != null) {
                        pending.add(next);
                    }
                }
            }
        }
        return out;
    }

    /** Removes every binding that has {@code destination} as its destination. */
    List<Exchange> unbindDestination(String destination, boolean toQueue) {
        List<Exchange> touched = new ArrayList<>();
        for (Exchange x : exchanges.values()) {
            List<Binding> doomed = new ArrayList<>();
            for (Binding b : x.bindings()) {
                if (b.toQueue() == toQueue && b.destination().equals(destination)) {
                    doomed.add(b);
                }
            }
            if (!doomed.isEmpty()) {
                doomed.forEach(x::removeBinding);
                touched.add(x);
            }
        }
        return touched;
    }
}
