package io.holdfast.core;

/**
 * The AMQP reply codes the broker core can answer with. The core does not depend on the protocol
 * module, so it names the few codes it needs here; the session layer turns them into close methods.
 */
public enum ErrorCode {
    ACCESS_REFUSED(403, false),
    NOT_FOUND(404, false),
    RESOURCE_LOCKED(405, false),
    PRECONDITION_FAILED(406, false),
    COMMAND_INVALID(503, true),
    NOT_ALLOWED(530, true),
    NOT_IMPLEMENTED(540, true),
    INTERNAL_ERROR(541, true);

    private final int code;
    private final boolean closesConnection;

    ErrorCode(int code, boolean closesConnection) {
        this.code = code;
        this.closesConnection = closesConnection;
    }

    public int code() { return code; }

    /** True for hard errors, which close the whole connection rather than the channel. */
    public boolean closesConnection() { return closesConnection; }
}
