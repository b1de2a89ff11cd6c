package io.holdfast.core;

import java.util.Objects;

/**
 * A client channel somewhere in the cluster, as a replicated queue names it: the node it is connected to and a
 * number that node gives it, unique there for as long as the node runs (for instance its connection id and
 * channel number packed in a long). The node that hosts the channel carries out what the queue decides for it
 * (deliveries, confirms); every other node ignores those effects. Immutable.
 *
 * @param node    the cluster node id of the node the client is connected to
 * @param channel the node's number for the channel
 */
public record RemoteChannel(String node, long channel) implements Comparable<RemoteChannel> {
    public RemoteChannel {
        Objects.requireNonNull(node, "node");
    }

    /** By node, then channel: a stable order for snapshots. */
    @Override
    public int compareTo(RemoteChannel o) {
        int byNode = node.compareTo(o.node);
        return byNode != 0 ? byNode : Long.compare(channel, o.channel);
    }
}
