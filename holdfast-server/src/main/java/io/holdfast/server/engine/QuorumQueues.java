package io.holdfast.server.engine;

import io.holdfast.core.BrokerException;
import io.holdfast.core.QuorumCommand;
import io.holdfast.core.QuorumEffect;
import io.holdfast.core.RemoteChannel;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * A cluster node's quorum queues ({@code x-queue-type = quorum}), as the AMQP channels see them: each is a Raft group
 * with a replica on every node, whose state machine is the core's {@link io.holdfast.core.QuorumQueue}. The core's
 * broker keeps a queue of the same name that only routes (bindings, the default exchange) and hands what is routed
 * to it here; consuming, getting, settling, purging and deleting go to the queue's group as
 * {@link QuorumCommand}s, and what the group decides (deliveries, cancellations) comes back to the channel it names.
 *
 * <p>Futures complete on cluster threads: a caller on the broker thread hands its continuation back to
 * {@link BrokerLoop#execute}. {@link ChannelListener}s are called on the broker thread.
 */
public interface QuorumQueues {

    /** This node's name: the node of every {@link RemoteChannel} opened here. */
    String node();

    /** A channel id never used on this node before, across restarts too. */
    long newChannelId();

    /** From now on {@code listener} hears what the queues' replicas on this node applied for channel {@code id}. */
    void listen(long id, ChannelListener listener);

    void unlisten(long id);

    /**
     * Declares the quorum queue in the cluster (the arguments already passed {@link
     * io.holdfast.core.QuorumQueueRules#checkDeclare}); completes once this node hosts its replica and its broker has
     * the queue. Fails with {@link ReplicatedTopology.NotCommitted} when the cluster did not commit it in time.
     */
    CompletableFuture<Void> declare(String vhost, String name, Map<String, Object> arguments);

    /** Deletes it in the cluster; completes once this node has removed it. */
    CompletableFuture<Void> delete(String vhost, String name);

    /**
     * Sends {@code command} to the queue's group, in submission order, once this node's previous run was declared gone
     * to the queue (at once if it was); completes
     * with what the group's leader made of it: its refusal, or its count and effects. Fails with a
     * {@link BrokerException} 404 if the queue is not hosted here, or with the cluster's exception when the
     * command was not committed in time (its fate then unknown).
     */
    CompletableFuture<Result> submit(String vhost, String name, QuorumCommand command);

    /** What a command did: {@code refusal} is null if it took effect. */
    record Result(BrokerException refusal, int count, List<QuorumEffect> effects) {}

    /** Hears, on the broker thread, what a queue applied that concerns one channel of this node. */
    interface ChannelListener {
        /**
         * The queue applied {@code command}; {@code effects} are those naming this channel, in order. Called for
         * every command that names the channel, whether or not it had effects here.
         */
        void applied(String queue, QuorumCommand command, List<QuorumEffect> effects);

        /** The queue was deleted in the cluster. */
        void deleted(String queue);
    }
}
