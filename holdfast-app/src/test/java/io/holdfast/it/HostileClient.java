package io.holdfast.it;

import io.holdfast.protocol.FrameType;
import io.holdfast.protocol.FrameWriter;
import io.holdfast.protocol.Method;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Map;

/**
 * A deliberately dumb AMQP 0-9-1 client over a plain socket, for tests that must send what no real
 * client would: it builds frames with holdfast-protocol's {@link FrameWriter} and {@link Method}, can
 * write any bytes at all, and reads the server's frames back one at a time with a blocking reader.
 * Every read has a timeout, so a test waits for the server's answer (an event) but never forever.
 * Not thread-safe: one test thread drives it.
 */
final class HostileClient implements AutoCloseable {
    static final int READ_TIMEOUT_MILLIS = 15_000;

    /** One frame as the server sent it; {@code payload} excludes the header and the end octet. */
    record RawFrame(int type, int channel, byte[] payload) {
        boolean isMethod() {
            return type == FrameType.METHOD;
        }

        Method method() {
            ByteBuf b = Unpooled.wrappedBuffer(payload);
            return Method.decode(b);
        }

        @Override
        public String toString() {
            String what = isMethod() ? method().name() : "type " + type;
            return "frame(" + what + ", channel " + channel + ", " + payload.length + " bytes)";
        }
    }

    /** What the server said when it closed a connection or channel, and which method it blamed. */
    record Closed(int replyCode, String replyText, int classId, int methodId) {
    }

    /** What this client says about itself: its name, and that it understands a refused login's close. */
    static final Map<String, Object> CLIENT_PROPERTIES = Map.of("product", "HostileClient",
            "capabilities", Map.of("authentication_failure_close", true));

    private final Socket socket;
    private final DataInputStream in;
    private final OutputStream out;
    private int frameMax = FrameType.FRAME_MIN_SIZE;
    private boolean reset;

    private HostileClient(Socket socket) throws IOException {
        this.socket = socket;
        this.in = new DataInputStream(socket.getInputStream());
        this.out = socket.getOutputStream();
    }

    /** A TCP connection and nothing else: not even the protocol header is sent. */
    static HostileClient connect(int port) throws IOException {
        Socket s = new Socket();
        s.setTcpNoDelay(true);
        s.setSoTimeout(READ_TIMEOUT_MILLIS);
        s.connect(new InetSocketAddress("127.0.0.1", port), READ_TIMEOUT_MILLIS);
        return new HostileClient(s);
    }

    /** Connected and opened on vhost "/" as guest/guest, with the frame_max the server proposes. */
    static HostileClient open(int port) throws IOException {
        return open(port, 0);
    }

    /**
     * Connected and opened on vhost "/" as guest/guest.
     *
     * @param frameMax the frame_max to answer tune with, 0 to take the server's proposal
     */
    static HostileClient open(int port, int frameMax) throws IOException {
        HostileClient c = connect(port);
        c.handshake("guest", "guest", frameMax);
        return c;
    }

    /** Protocol header, start-ok (PLAIN), tune-ok, open; returns once open-ok arrived. */
    void handshake(String user, String password, int requestedFrameMax) throws IOException {
        sendRaw(FrameWriter.PROTOCOL_HEADER);
        expectMethod(0, Method.ConnectionStart.class);
        sendStartOk(user, password);
        Method.ConnectionTune tune = expectMethod(0, Method.ConnectionTune.class);
        frameMax = requestedFrameMax == 0 ? (int) tune.frameMax() : requestedFrameMax;
        send(0, new Method.ConnectionTuneOk(tune.channelMax(), frameMax, 0));
        send(0, new Method.ConnectionOpen("/", "", false));
        expectMethod(0, Method.ConnectionOpenOk.class);
    }

    /**
     * start-ok with a PLAIN login, advertising authentication_failure_close as the usual clients do, so
     * that a refused login is answered with connection.close.
     */
    void sendStartOk(String user, String password) throws IOException {
        sendStartOk(CLIENT_PROPERTIES, user, password);
    }

    /** start-ok with a PLAIN login and the given client properties. */
    void sendStartOk(Map<String, Object> clientProperties, String user, String password) throws IOException {
        byte[] response = ("\0" + user + "\0" + password).getBytes(StandardCharsets.UTF_8);
        send(0, new Method.ConnectionStartOk(clientProperties, "PLAIN", response, "en_US"));
    }

    int frameMax() {
        return frameMax;
    }

    /** channel.open, then waits for open-ok. */
    void openChannel(int channel) throws IOException {
        send(channel, new Method.ChannelOpen(""));
        expectMethod(channel, Method.ChannelOpenOk.class);
    }

    // ---- building frames ----

    static byte[] methodFrame(int channel, Method m) {
        ByteBuf b = Unpooled.buffer();
        FrameWriter.writeMethod(b, channel, m);
        return bytes(b);
    }

    /** A method frame's payload: class id, method id, arguments. */
    static byte[] methodPayload(Method m) {
        ByteBuf b = Unpooled.buffer();
        m.encode(b);
        return bytes(b);
    }

    /** A frame around {@code payload} with the size it really has and the given end octet. */
    static byte[] frame(int type, int channel, byte[] payload, int endOctet) {
        ByteBuf b = Unpooled.buffer(payload.length + FrameType.FRAME_OVERHEAD);
        b.writeByte(type);
        b.writeShort(channel);
        b.writeInt(payload.length);
        b.writeBytes(payload);
        b.writeByte(endOctet);
        return bytes(b);
    }

    static byte[] frame(int type, int channel, byte[] payload) {
        return frame(type, channel, payload, FrameType.FRAME_END);
    }

    /** A basic content header payload with no properties, announcing {@code bodySize} bytes. */
    static byte[] contentHeaderPayload(long bodySize) {
        ByteBuf b = Unpooled.buffer(14);
        b.writeShort(Method.BasicPublish.CLASS_ID);
        b.writeShort(0);
        b.writeLong(bodySize);
        b.writeShort(0);
        return bytes(b);
    }

    /** basic.publish, its content header and its body frames, as a well-behaved client writes them. */
    static byte[] publishFrames(int channel, String exchange, String routingKey, byte[] body, int frameMax) {
        ByteBuf b = Unpooled.buffer();
        FrameWriter.writeContent(b, channel, new Method.BasicPublish(0, exchange, routingKey, false, false),
                Method.BasicPublish.CLASS_ID, new byte[] {0, 0}, body, frameMax);
        return bytes(b);
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            all.writeBytes(p);
        }
        return all.toByteArray();
    }

    private static byte[] bytes(ByteBuf b) {
        byte[] a = ByteBufUtil.getBytes(b);
        b.release();
        return a;
    }

    // ---- sending ----

    void send(int channel, Method m) throws IOException {
        sendRaw(methodFrame(channel, m));
    }

    void sendRaw(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    /** Half-closes: the server reads end of stream after the bytes already sent. */
    void shutdownOutput() throws IOException {
        socket.shutdownOutput();
    }

    // ---- reading ----

    /**
     * The next frame, or null at end of stream (the server closed the connection, or reset it).
     *
     * @throws java.net.SocketTimeoutException when the server neither sends nor closes in time
     * @throws IOException when the server's bytes do not frame: that is a server bug
     */
    RawFrame readFrame() throws IOException {
        int type;
        try {
            type = in.read();
        } catch (SocketException e) {
            reset = true; // reset by the server: as good as closed
            return null;
        }
        if (type < 0) {
            return null;
        }
        try {
            int channel = in.readUnsignedShort();
            int size = in.readInt();
            if (size < 0 || size > 16 * 1024 * 1024) {
                throw new IOException("server sent a frame of " + Integer.toUnsignedString(size) + " bytes");
            }
            byte[] payload = new byte[size];
            in.readFully(payload);
            int end = in.readUnsignedByte();
            if (end != FrameType.FRAME_END) {
                throw new IOException("server sent a frame without its end octet (got " + end + ")");
            }
            return new RawFrame(type, channel, payload);
        } catch (EOFException e) {
            throw new IOException("server closed the connection in the middle of a frame", e);
        }
    }

    /** The next frame, which must be method {@code type} on {@code channel}; heartbeats are skipped. */
    <M extends Method> M expectMethod(int channel, Class<M> type) throws IOException {
        RawFrame f;
        do {
            f = readFrame();
            if (f == null) {
                throw new AssertionError("connection closed while waiting for " + type.getSimpleName());
            }
        } while (f.type() == FrameType.HEARTBEAT);
        if (!f.isMethod() || f.channel() != channel || !type.isInstance(f.method())) {
            throw new AssertionError("expected " + type.getSimpleName() + " on channel " + channel + ", got " + f
                    + (f.isMethod() ? ": " + f.method() : ""));
        }
        return type.cast(f.method());
    }

    /**
     * Reads until the server's connection.close and answers close-ok. Frames before the close
     * (replies, channel closes) are skipped. It does not wait for the server to close the socket:
     * after a framing error the server cannot read the close-ok and, like RabbitMQ, waits a grace
     * period before closing; {@link #awaitEndOfStream} waits for that.
     *
     * @throws AssertionError if the connection ends without a connection.close
     */
    Closed awaitConnectionClose() throws IOException {
        while (true) {
            RawFrame f = readFrame();
            if (f == null) {
                throw new AssertionError("the server closed the socket without sending connection.close");
            }
            if (f.isMethod() && f.channel() == 0 && f.method() instanceof Method.ConnectionClose c) {
                try {
                    send(0, new Method.ConnectionCloseOk());
                } catch (IOException e) {
                    // the server may have closed already (it does during the handshake)
                }
                return closed(f, c.replyCode(), c.replyText());
            }
        }
    }

    /** Reads until the server's channel.close on {@code channel}, and answers close-ok. */
    Closed awaitChannelClose(int channel) throws IOException {
        while (true) {
            RawFrame f = readFrame();
            if (f == null) {
                throw new AssertionError("the server closed the socket while channel " + channel + " was expected to close");
            }
            if (f.isMethod() && f.channel() == 0 && f.method() instanceof Method.ConnectionClose c) {
                throw new AssertionError("expected channel " + channel + " to close, but the connection closed: "
                        + c.replyCode() + " " + c.replyText());
            }
            if (f.isMethod() && f.channel() == channel && f.method() instanceof Method.ChannelClose c) {
                send(channel, new Method.ChannelCloseOk());
                return closed(f, c.replyCode(), c.replyText());
            }
        }
    }

    /**
     * The blamed class and method are the last four bytes of a close's payload. Read from the bytes
     * because the generated close records' {@code classId()} and {@code methodId()} accessors answer
     * the close method's own ids, hiding those fields.
     */
    private static Closed closed(RawFrame f, int replyCode, String replyText) {
        ByteBuf b = Unpooled.wrappedBuffer(f.payload());
        int end = b.writerIndex();
        return new Closed(replyCode, replyText, b.getUnsignedShort(end - 4), b.getUnsignedShort(end - 2));
    }

    /** Reads and drops until the server closes the socket. */
    void awaitEndOfStream() throws IOException {
        while (readFrame() != null) {
            // skip whatever the server still had to say
        }
    }

    /** Everything the server sends until it closes the connection (or resets it: see {@link #wasReset}). */
    byte[] readAllUntilClosed() throws IOException {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        byte[] chunk = new byte[8192];
        try {
            for (int n; (n = in.read(chunk)) >= 0; ) {
                all.write(chunk, 0, n);
            }
        } catch (SocketException e) {
            reset = true;
        }
        return all.toByteArray();
    }

    /** True if a read ended in a reset rather than an orderly close: bytes the server sent may be lost. */
    boolean wasReset() {
        return reset;
    }

    /** The first {@code n} bytes the server sends (fewer if it closes first). */
    byte[] readBytes(int n) throws IOException {
        byte[] b = new byte[n];
        int got = 0;
        try {
            while (got < n) {
                int r = in.read(b, got, n - got);
                if (r < 0) {
                    break;
                }
                got += r;
            }
        } catch (SocketException e) {
            reset = true;
        }
        return Arrays.copyOf(b, got);
    }

    /** Closes with a reset (SO_LINGER 0) rather than an orderly FIN: a client that vanishes hard. */
    void abort() throws IOException {
        socket.setSoLinger(true, 0);
        socket.close();
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
