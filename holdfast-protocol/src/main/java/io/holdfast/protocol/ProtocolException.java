package io.holdfast.protocol;

/**
 * A protocol violation found while decoding: carries the reply code and text to close with, and the
 * class and method being decoded (0 when unknown). Hard codes ({@link ReplyCode#isHardError}) close
 * the connection, soft ones the channel.
 */
public final class ProtocolException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final int replyCode;
    private final int classId;
    private final int methodId;

    public ProtocolException(int replyCode, String text, int classId, int methodId) {
        super(text, null, false, false);
        this.replyCode = replyCode;
        this.classId = classId;
        this.methodId = methodId;
    }

    public ProtocolException(int replyCode, String text) {
        this(replyCode, text, 0, 0);
    }

    public int replyCode() { return replyCode; }

    public int classId() { return classId; }

    public int methodId() { return methodId; }

    /** The same error, attributed to the given method when it had none. */
    public ProtocolException withMethod(int classId, int methodId) {
        return this.classId != 0 ? this : new ProtocolException(replyCode, getMessage(), classId, methodId);
    }
}
