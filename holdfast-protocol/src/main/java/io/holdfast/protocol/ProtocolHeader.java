package io.holdfast.protocol;

/**
 * Emitted once by {@link FrameDecoder} when the connection starts with the 8-byte AMQP 0-9-1
 * protocol header; frames follow. The server answers with connection.start.
 */
public enum ProtocolHeader {
    ACCEPTED
}
