package io.holdfast.core;

import java.util.Map;

/**
 * A basic.consume subscription: which channel, which queue, its {@code x-priority}, and its share of the
 * channel's credit. Owned by the broker thread.
 */
public final class Consumer {
    /** The basic.consume argument that sets a consumer's priority (an integer, 0 when absent), as in RabbitMQ. */
    static final String PRIORITY_ARGUMENT = "x-priority";

    final String tag;
    final ChannelState channel;
    final Queue queue;
    final boolean noAck;
    final boolean exclusive;
    /** Per-consumer prefetch (basic.qos global=false) fixed when the consumer was created; 0 = none. */
    final int prefetch;
    final Map<String, Object> arguments;
    /** {@code x-priority}: higher priorities are given messages first (see {@link QueueConsumers}). */
    final int priority;
    int unacked;
    /** Set aside by its queue until something may let it take again (see {@link QueueConsumers#block}). */
    boolean blocked;

    Consumer(String tag, ChannelState channel, Queue queue, boolean noAck, boolean exclusive, int prefetch,
             Map<String, Object> arguments) {
        this.tag = tag;
        this.channel = channel;
        this.queue = queue;
        this.noAck = noAck;
        this.exclusive = exclusive;
        this.prefetch = prefetch;
        this.arguments = arguments;
        this.priority = arguments == null || arguments.get(PRIORITY_ARGUMENT) == null ? 0
                : ((Number) arguments.get(PRIORITY_ARGUMENT)).intValue();
    }

    /**
     * Refuses a basic.consume whose {@code x-priority} is not an integer with 406, in RabbitMQ's words (its
     * field-table type name), e.g. {@code invalid arg 'x-priority' for queue 'q' in vhost '/':
     * {unacceptable_type,longstr}}.
     */
    static void validate(Map<String, Object> arguments, Queue q) {
        Object v = arguments == null ? null : arguments.get(PRIORITY_ARGUMENT);
        if (v == null || QueueArguments.isIntegral(v)) {
            return;
        }
        throw BrokerException.precondition("invalid arg '" + PRIORITY_ARGUMENT + "' for queue '" + q.name()
                + "' in vhost '" + q.vhost() + "': {unacceptable_type," + fieldType(v) + "}");
    }

    /** RabbitMQ's name for the field-table type of a decoded value that is not an integer. */
    private static String fieldType(Object v) {
        if (QueueArguments.isText(v)) {
            return v instanceof byte[] ? "binary" : "longstr";
        }
        return switch (v.getClass().getSimpleName()) {
            case "Boolean" -> "bool";
            case "Float" -> "float";
            case "Double" -> "double";
            case "BigDecimal" -> "decimal";
            case "Timestamp", "Instant", "Date" -> "timestamp";
            case "UnsignedByte" -> "unsignedbyte";
            case "UnsignedShort" -> "unsignedshort";
            case "UnsignedInt" -> "unsignedint";
            default -> v instanceof Map ? "table" : v instanceof java.util.List ? "array" : "void";
        };
    }

    public String tag() { return tag; }

    public Queue queue() { return queue; }

    public ChannelState channel() { return channel; }

    /** basic.consume's no-ack: deliveries need no ack. */
    public boolean noAck() { return noAck; }

    public boolean exclusive() { return exclusive; }

    /** Its own prefetch (basic.qos global=false when it was created); 0 for none. */
    public int prefetch() { return prefetch; }

    /** basic.consume's arguments, never null. */
    public Map<String, Object> arguments() { return arguments == null ? Map.of() : arguments; }

    /** {@code x-priority}, 0 by default. */
    public int priority() { return priority; }

    /**
     * True if a delivery to this consumer now respects prefetch, flow and the client's reading speed. A no-ack
     * consumer ignores its own prefetch but, as in RabbitMQ, waits while its channel is at its shared
     * (global) limit: the channel's limiter refuses every consumer of the channel then.
     */
    boolean canTake() {
        if (!channel.flowActive || !channel.output.writable()) {
            return false;
        }
        boolean channelRoom = channel.prefetchGlobal == 0 || channel.consumerUnacked < channel.prefetchGlobal;
        return channelRoom && (noAck || prefetch == 0 || unacked < prefetch);
    }
}
