package io.holdfast.cluster;

/**
 * A command that is not known to be committed: no leader was found, no majority answered, the group or the node
 * closed, or the commit took longer than {@link ClusterConfig#commitTimeout()}. Its fate is unknown, not "lost":
 * the entry holding it may still be committed later (a new leader may finish it), so a caller that submits it
 * again must be ready for it to be applied twice.
 */
public final class ReplicationException extends Exception {
    private static final long serialVersionUID = 1L;

    public ReplicationException(String message, Throwable cause) {
        super(message, cause);
    }
}
