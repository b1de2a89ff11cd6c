package io.holdfast.core;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** An exchange and the bindings whose source it is. Owned by the broker thread. */
public final class Exchange {
    static final String ALTERNATE_EXCHANGE = "alternate-exchange";
    private final String name;
    private final ExchangeType type;
    /** The rules {@link #route} follows: {@link #type}, or for a delayed exchange its {@code x-delayed-type}. */
    private final ExchangeType routingType;
    private final boolean durable;
    private final boolean autoDelete;
    private final boolean internal;
    private final Map<String, Object> arguments;
    private final Set<Binding> bindings = new LinkedHashSet<>();
    /** Direct exchanges index bindings by key, so routing is one lookup however many bindings. */
    private final Map<String, List<Binding>> byKey = new HashMap<>();
    private final Map<String, TopicPattern> topicPatterns = new HashMap<>();

    Exchange(String name, ExchangeType type, boolean durable, boolean autoDelete, boolean internal,
             Map<String, Object> arguments) {
        this.name = name;
        this.type = type;
        this.durable = durable;
        this.autoDelete = autoDelete;
        this.internal = internal;
        this.arguments = arguments == null ? Map.of() : arguments;
        ExchangeType underlying = type == ExchangeType.X_DELAYED_MESSAGE ? DelayedMessages.underlyingType(arguments)
                : type;
        this.routingType = underlying == null ? ExchangeType.DIRECT : underlying; // declarations are validated
    }

    public String name() { return name; }

    public ExchangeType type() { return type; }

    public boolean durable() { return durable; }

    public boolean autoDelete() { return autoDelete; }

    public boolean internal() { return internal; }

    public Map<String, Object> arguments() { return arguments; }

    public Set<Binding> bindings() { return bindings; }

    /** The {@code alternate-exchange} argument: where what this exchange routes nowhere goes; null for none. */
    String alternateExchange() {
        Object ae = arguments.get(ALTERNATE_EXCHANGE);
        return ae == null ? null : QueueArguments.show(ae);
    }

    /** The rules {@link #route} follows (for a delayed exchange, its {@code x-delayed-type}). */
    ExchangeType routingType() {
        return routingType;
    }

    /** True if routing looks at the routing key (direct, topic), so each key of a message counts. */
    boolean routesByKey() {
        return routingType == ExchangeType.DIRECT || routingType == ExchangeType.TOPIC;
    }

    boolean addBinding(Binding b) {
        if (!bindings.add(b)) {
            return false;
        }
        byKey.computeIfAbsent(b.routingKey(), k -> new ArrayList<>()).add(b);
        if (routingType == ExchangeType.TOPIC) {
            topicPatterns.computeIfAbsent(b.routingKey(), TopicPattern::new);
        }
        return true;
    }

    boolean removeBinding(Binding b) {
        if (!bindings.remove(b)) {
            return false;
        }
        List<Binding> list = byKey.get(b.routingKey());
        list.remove(b);
        if (list.isEmpty()) {
            byKey.remove(b.routingKey());
            topicPatterns.remove(b.routingKey());
        }
        return true;
    }

    /** Adds to {@code out} the bindings a message with this key and these headers goes through. */
    void route(String routingKey, Map<String, Object> headers, List<Binding> out) {
        switch (routingType) {
            case DIRECT -> {
                List<Binding> list = byKey.get(routingKey);
                if (list != null) {
                    out.addAll(list);
                }
            }
            case FANOUT -> out.addAll(bindings);
            case TOPIC -> {
                for (Map.Entry<String, List<Binding>> e : byKey.entrySet()) {
                    if (topicPatterns.get(e.getKey()).matches(routingKey)) {
                        out.addAll(e.getValue());
                    }
                }
            }
            case HEADERS -> {
                for (Binding b : bindings) {
                    if (HeadersMatch.matches(b.arguments(), headers)) {
                        out.add(b);
                    }
                }
            }
            case X_DELAYED_MESSAGE -> throw new IllegalStateException("a delayed exchange routes as another type");
        }
    }
}
