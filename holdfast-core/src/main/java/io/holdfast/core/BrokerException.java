package io.holdfast.core;

/**
 * A command the broker refuses: the channel (or, for hard errors, the connection) is closed with
 * {@link #code()} and the text. The broker's state is unchanged by a refused command.
 */
public final class BrokerException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final ErrorCode code;

    public BrokerException(ErrorCode code, String text) {
        super(text, null, false, false);
        this.code = code;
    }

    public ErrorCode code() { return code; }

    static BrokerException notFound(String what, String name, String vhost) {
        return new BrokerException(ErrorCode.NOT_FOUND, "no " + what + " '" + name + "' in vhost '" + vhost + "'");
    }

    public static BrokerException precondition(String text) {
        return new BrokerException(ErrorCode.PRECONDITION_FAILED, text);
    }

    static BrokerException accessRefused(String text) {
        return new BrokerException(ErrorCode.ACCESS_REFUSED, text);
    }
}
