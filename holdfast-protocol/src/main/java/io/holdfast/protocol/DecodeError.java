package io.holdfast.protocol;

/**
 * Emitted by {@link FrameDecoder} instead of a frame when the byte stream breaks framing. The
 * decoder emits nothing after it; the connection must be closed with this reply code and text.
 *
 * @param replyCode a hard-error {@link ReplyCode}, {@link ReplyCode#FRAME_ERROR} for framing faults
 * @param text what was wrong, fit for a connection.close reply text
 */
public record DecodeError(int replyCode, String text) {
}
