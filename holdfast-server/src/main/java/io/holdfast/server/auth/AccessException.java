package io.holdfast.server.auth;

/** A change to users, vhosts or permissions that was not made, and why; nothing was changed. */
public final class AccessException extends RuntimeException {
    /** What kind of refusal: the management API and ctl map it to a status and an exit code. */
    public enum Kind { NOT_FOUND, EXISTS, INVALID, STORAGE,
        /** A cluster node could not commit the change: no majority within the commit timeout. */
        UNAVAILABLE,
        /** A cluster node's change lost a race with one made at the same time on another node. */
        CONFLICT }

    private final Kind kind;

    public AccessException(Kind kind, String message) {
        super(message);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }

    static AccessException notFound(String message) {
        return new AccessException(Kind.NOT_FOUND, message);
    }

    static AccessException exists(String message) {
        return new AccessException(Kind.EXISTS, message);
    }

    static AccessException invalid(String message) {
        return new AccessException(Kind.INVALID, message);
    }
}
