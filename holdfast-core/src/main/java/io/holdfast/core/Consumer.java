package io.holdfast.core;

import java.util.Map;

/** A basic.consume subscription: which channel, which queue, and its share of the channel's credit. */
public final class Consumer {
    final String tag;
    final ChannelState channel;
    final Queue queue;
    final boolean noAck;
    final boolean exclusive;
    /** Per-consumer prefetch (basic.qos global=false) fixed when the consumer was created; 0 = none. */
    final int prefetch;
    final Map<String, Object> arguments;
    int unacked;

    Consumer(String tag, ChannelState channel, Queue queue, boolean noAck, boolean exclusive, int prefetch,
             Map<String, Object> arguments) {
        this.tag = tag;
        this.channel = channel;
        this.queue = queue;
        this.noAck = noAck;
        this.exclusive = exclusive;
        this.prefetch = prefetch;
        this.arguments = arguments;
    }

    public String tag() { return tag; }

    public Queue queue() { return queue; }

    /** True if a delivery to this consumer now respects prefetch, flow and the client's reading speed. */
    boolean canTake() {
        if (!channel.flowActive || !channel.output.writable()) {
            return false;
        }
        if (noAck) {
            return true;
        }
        return (prefetch == 0 || unacked < prefetch)
                && (channel.prefetchGlobal == 0 || channel.consumerUnacked < channel.prefetchGlobal);
    }
}
