package io.holdfast.it;

import io.holdfast.protocol.FrameWriter;
import io.holdfast.protocol.Method;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * A minimal AMQP 0-9-1 client over a plain socket, for what the Java client hides: negotiated
 * values, frame sizes, heartbeats, and how the broker disconnects. One test thread drives it.
 */
final class RawAmqpClient implements AutoCloseable {
    private static final int READ_TIMEOUT_MILLIS = 10_000;

    private final Socket socket;
    private final DataInputStream in;
    private final OutputStream out;

    /** One frame as received: payload without the header and end octet. */
    record RawFrame(int type, int channel, byte[] payload) {
        Method method() {
            if (type != 1) {
                throw new AssertionError("expected a method frame, got frame type " + type);
            }
            return Method.decode(Unpooled.wrappedBuffer(payload));
        }

        /** The whole frame's size on the wire, header and end octet included. */
        int size() {
            return payload.length + 8;
        }
    }

    /** A content-carrying method with its body, and the largest frame it arrived in. */
    record Content(Method method, byte[] body, int largestFrame) {
    }

    /** How long the broker took to drop the connection, and how many heartbeats it sent meanwhile. */
    record Disconnect(long millis, int heartbeatsReceived) {
    }

    private RawAmqpClient(Socket socket) throws IOException {
        this.socket = socket;
        socket.setSoTimeout(READ_TIMEOUT_MILLIS);
        socket.setTcpNoDelay(true);
        this.in = new DataInputStream(socket.getInputStream());
        this.out = socket.getOutputStream();
    }

    static RawAmqpClient connect(int port) throws IOException {
        return new RawAmqpClient(new Socket("127.0.0.1", port));
    }

    void sendBytes(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    void send(int channel, Method m) throws IOException {
        ByteBuf b = Unpooled.buffer();
        FrameWriter.writeMethod(b, channel, m);
        write(b);
    }

    void publish(int channel, String exchange, String routingKey, byte[] body, int frameMax) throws IOException {
        ByteBuf b = Unpooled.buffer();
        FrameWriter.writeContent(b, channel, new Method.BasicPublish(0, exchange, routingKey, false, false), 60,
                new byte[] {0, 0}, body, frameMax);
        write(b);
    }

    void sendHeartbeat() throws IOException {
        ByteBuf b = Unpooled.buffer(8);
        FrameWriter.writeHeartbeat(b);
        write(b);
    }

    private void write(ByteBuf b) throws IOException {
        byte[] bytes = new byte[b.readableBytes()];
        b.readBytes(bytes);
        sendBytes(bytes);
    }

    RawFrame readFrame() throws IOException {
        int type = in.readUnsignedByte();
        int channel = in.readUnsignedShort();
        int size = in.readInt();
        byte[] payload = new byte[size];
        in.readFully(payload);
        int end = in.readUnsignedByte();
        if (end != 0xCE) {
            throw new IOException("bad frame end octet " + end);
        }
        return new RawFrame(type, channel, payload);
    }

    /** The next method, skipping heartbeats. */
    Method readMethod() throws IOException {
        RawFrame f;
        do {
            f = readFrame();
        } while (f.type() == 8);
        return f.method();
    }

    <T extends Method> T expect(Class<T> type) throws IOException {
        Method m = readMethod();
        if (!type.isInstance(m)) {
            throw new AssertionError("expected " + type.getSimpleName() + ", got " + m);
        }
        return type.cast(m);
    }

    /** A content-carrying method, its header and all its body frames. */
    Content readContent() throws IOException {
        Method m = readMethod();
        RawFrame header = nextNonHeartbeat();
        if (header.type() != 2) {
            throw new AssertionError("expected a content header after " + m + ", got frame type " + header.type());
        }
        long bodySize = Unpooled.wrappedBuffer(header.payload()).getLong(4);
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        int largest = Math.max(0, header.size());
        while (body.size() < bodySize) {
            RawFrame f = nextNonHeartbeat();
            if (f.type() != 3) {
                throw new AssertionError("expected a body frame, got frame type " + f.type());
            }
            body.writeBytes(f.payload());
            largest = Math.max(largest, f.size());
        }
        return new Content(m, body.toByteArray(), largest);
    }

    private RawFrame nextNonHeartbeat() throws IOException {
        RawFrame f;
        do {
            f = readFrame();
        } while (f.type() == 8);
        return f;
    }

    /** Opens the connection as guest on "/" with the given tune-ok values; returns the server's tune. */
    Method.ConnectionTune handshake(int channelMax, long frameMax, int heartbeat) throws IOException {
        sendBytes(FrameWriter.PROTOCOL_HEADER);
        expect(Method.ConnectionStart.class);
        send(0, new Method.ConnectionStartOk(Map.of(), "PLAIN",
                "\u0000guest\u0000guest".getBytes(StandardCharsets.UTF_8), "en_US"));
        Method.ConnectionTune tune = expect(Method.ConnectionTune.class);
        send(0, new Method.ConnectionTuneOk(channelMax, frameMax, heartbeat));
        send(0, new Method.ConnectionOpen("/", "", false));
        expect(Method.ConnectionOpenOk.class);
        return tune;
    }

    void openChannel(int channel) throws IOException {
        send(channel, new Method.ChannelOpen(""));
        expect(Method.ChannelOpenOk.class);
    }

    /** Reads (counting heartbeats) until the broker closes the socket. */
    Disconnect waitForBrokerToDisconnect() throws IOException {
        long start = System.nanoTime();
        int heartbeats = 0;
        try {
            while (true) {
                if (readFrame().type() == 8) {
                    heartbeats++;
                }
            }
        } catch (EOFException | SocketException e) {
            return new Disconnect((System.nanoTime() - start) / 1_000_000, heartbeats);
        }
    }

    byte[] readUntilClosed() throws IOException {
        return in.readAllBytes();
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
