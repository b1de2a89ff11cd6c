package io.holdfast.protocol;

/**
 * Emitted by {@link FrameDecoder} as soon as a byte of the connection's first eight differs from the
 * AMQP 0-9-1 protocol header (another AMQP version, HTTP, TLS, ...). The decoder discards all later
 * input; the server should write {@link FrameWriter#PROTOCOL_HEADER} and close, as the spec says.
 */
public enum BadProtocolHeader {
    INSTANCE
}
