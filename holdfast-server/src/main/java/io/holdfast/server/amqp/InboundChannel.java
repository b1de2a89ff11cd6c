package io.holdfast.server.amqp;

import io.holdfast.protocol.Method;
import java.util.Arrays;

/**
 * The Netty thread's view of one open channel: whether it is closing, and the publish being
 * assembled from its method, content header and body frames. The body buffer grows with the bytes
 * that actually arrive, so a header that announces a huge body costs nothing until the body comes.
 */
final class InboundChannel {
    final int number;
    boolean closing;
    Method.BasicPublish publish;
    byte[] properties;
    long bodySize;
    byte[] body;
    int bodyLength;

    InboundChannel(int number) {
        this.number = number;
    }

    boolean expectingHeader() {
        return publish != null && properties == null;
    }

    boolean expectingBody() {
        return publish != null && properties != null;
    }

    void startContent(long size, byte[] props) {
        this.properties = props;
        this.bodySize = size;
        this.body = new byte[(int) Math.min(size, 64 * 1024)];
        this.bodyLength = 0;
    }

    /** Appends a body fragment; false if it would exceed the size the header declared. */
    boolean appendBody(io.netty.buffer.ByteBuf fragment) {
        int n = fragment.readableBytes();
        if (bodyLength + (long) n > bodySize) {
            return false;
        }
        if (bodyLength + n > body.length) {
            body = Arrays.copyOf(body, (int) Math.min(bodySize, Math.max((long) body.length * 2, bodyLength + n)));
        }
        fragment.readBytes(body, bodyLength, n);
        bodyLength += n;
        return true;
    }

    boolean contentComplete() {
        return bodyLength == bodySize;
    }

    byte[] takeBody() {
        byte[] b = body.length == bodyLength ? body : Arrays.copyOf(body, bodyLength);
        reset();
        return b;
    }

    void reset() {
        publish = null;
        properties = null;
        body = null;
        bodySize = 0;
        bodyLength = 0;
    }
}
