package io.holdfast.server.auth;

/**
 * Where {@link AccessControl}'s changes go when the node is one of a cluster: to every node, through the cluster's
 * metadata log, instead of straight to this node's file. The states are {@link AccessControl#encoded} bytes.
 * Called with AccessControl's lock held, from the thread making the change; blocks until the change is applied on
 * this node (then {@link AccessControl#install} has run) or refused.
 */
public interface AccessReplication {
    /**
     * Makes {@code next} the state on every node, provided the cluster's state is still {@code prior} (else a
     * change made meanwhile on another node would be lost).
     *
     * @throws AccessException with {@link AccessException.Kind#UNAVAILABLE} if the change was not committed (no
     *     majority within the commit timeout) or {@link AccessException.Kind#CONFLICT} if the state changed first
     */
    void replicate(byte[] prior, byte[] next);
}
