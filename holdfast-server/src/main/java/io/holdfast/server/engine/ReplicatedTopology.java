package io.holdfast.server.engine;

import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * Where a cluster node sends the topology changes that must be the same on every node: they are committed in the
 * cluster's metadata log and applied, from it, on every node's broker (this one included). Durable exchanges, and the
 * bindings of quorum queues and between durable exchanges (quorum queues themselves go through {@link QuorumQueues});
 * classic queues and their bindings stay node-local.
 *
 * <p>Any thread may call; the futures complete on a cluster thread, so a caller on the broker thread must hand its
 * continuation back to {@link BrokerLoop#execute}. A future completes normally once the change has been applied on
 * this node (the broker loop has the task that makes it); it fails with {@link NotCommitted} when the cluster did
 * not commit it in time (no majority), and then its fate is unknown: it may still be applied later, on every node.
 */
public interface ReplicatedTopology {

    /** A durable exchange declared (the declaration already passed the core's checks on this node). */
    CompletableFuture<Void> exchangeDeclared(String vhost, String name, String type, boolean autoDelete,
                                             boolean internal, Map<String, Object> arguments);

    /** A durable exchange deleted. */
    CompletableFuture<Void> exchangeDeleted(String vhost, String name);

    /**
     * A binding made (checked by the core here already) to a quorum queue, or between two durable exchanges: the
     * ones every node routes alike. {@code toQueue} says which {@code destination} is.
     */
    CompletableFuture<Void> bound(String vhost, String source, String destination, boolean toQueue, String key,
                                  Map<String, Object> arguments);

    /** Such a binding removed. */
    CompletableFuture<Void> unbound(String vhost, String source, String destination, boolean toQueue, String key,
                                    Map<String, Object> arguments);

    /** A change the cluster did not commit (in time); the message says why, for the client. */
    final class NotCommitted extends RuntimeException {
        private static final long serialVersionUID = 1L;

        public NotCommitted(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
