package io.holdfast.app.ctl;

/**
 * A {@code holdfast ctl} command that could not be carried out, with rabbitmqctl's exit code (the sysexits
 * values it uses) and a message that says what to do.
 */
final class CtlException extends Exception {
    /** rabbitmqctl's exit codes. */
    static final int USAGE = 64;
    static final int DATA = 65;
    static final int NOINPUT = 66;
    static final int SOFTWARE = 70;
    static final int UNAVAILABLE = 69;
    static final int CANTCREAT = 73;
    static final int TEMPFAIL = 75;
    static final int NOPERM = 77;

    private final int exitCode;
    private final boolean notFound;
    private final boolean loggedIn;

    CtlException(int exitCode, String message) {
        this(exitCode, message, false, false);
    }

    private CtlException(int exitCode, String message, boolean notFound, boolean loggedIn) {
        super(message);
        this.exitCode = exitCode;
        this.notFound = notFound;
        this.loggedIn = loggedIn;
    }

    int exitCode() {
        return exitCode;
    }

    /** The broker answered 404: the user, vhost or object does not exist. */
    boolean notFound() {
        return notFound;
    }

    /**
     * The broker took the credentials but refused the request (RabbitMQ's 401 {@code not_authorised}: a tag or
     * a vhost permission is missing).
     */
    boolean loggedIn() {
        return loggedIn;
    }

    static CtlException notAuthorised(String message) {
        return new CtlException(NOPERM, message, false, true);
    }

    static CtlException unavailable(String message) {
        return new CtlException(UNAVAILABLE, message);
    }

    static CtlException software(String message) {
        return new CtlException(SOFTWARE, message);
    }

    static CtlException usage(String message) {
        return new CtlException(USAGE, message);
    }

    static CtlException notFound(String path) {
        return new CtlException(DATA, "not found: " + path, true, false);
    }
}
