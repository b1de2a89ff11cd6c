package io.holdfast.cluster;

/**
 * A committed command that the state refused by throwing from {@link ReplicatedState#apply}: the command is in the
 * log and every replica refused it the same way, so it must not be retried as if its fate were unknown.
 */
public final class CommandRejectedException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public CommandRejectedException(String message) {
        super(message);
    }
}
