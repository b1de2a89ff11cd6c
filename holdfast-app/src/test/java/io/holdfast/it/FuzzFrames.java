package io.holdfast.it;

import io.holdfast.protocol.BasicProperties;
import io.holdfast.protocol.FrameType;
import io.holdfast.protocol.FrameWriter;
import io.holdfast.protocol.Method;
import io.holdfast.protocol.Method.*;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Frames for {@link LiveFuzzTest}: valid client frames drawn at random from every method a client
 * may send (content as separate method, header and body frames), mutations of them, and an
 * independent model of the framing rules that says how the server's frame decoder must judge a
 * byte stream. Maps have at most one entry, so that a seed gives the same bytes in every JVM. Names
 * come from small pools so that frames of one connection (and of concurrent
 * ones) meet the same queues, exchanges and consumer tags. Stateless; the caller owns the Random.
 */
final class FuzzFrames {
    /** A name as long as a short string allows: error texts that quote it must still fit theirs. */
    private static final String LONG = "fz-" + "\u00e9".repeat(126);
    static final String[] QUEUES = {"", "fz-q0", "fz-q1", "fz-q2", "fz-q3", LONG};
    static final String[] EXCHANGES = {"", "amq.direct", "amq.fanout", "amq.topic", "fz-x0", "fz-x1", LONG};
    private static final String[] EXCHANGE_TYPES = {"direct", "fanout", "topic", "headers", "x-bogus", LONG};
    private static final String[] KEYS = {"", "fz-q0", "fz-q1", "a.b", "#", "*.b"};
    private static final String[] TAGS = {"", "fz-c0", "fz-c1", LONG};
    private static final int[] KNOWN_CLASSES = {10, 20, 30, 40, 50, 60, 85, 90};

    private FuzzFrames() {}

    /**
     * What the client believes about its channels, so that most generated actions are valid for the
     * connection's state: methods go to open channels, channel.open to closed ones. (The server may
     * still close a channel for a soft error; the fuzz client does not look.)
     */
    static final class ClientState {
        static final int CHANNELS = 4;
        private final boolean[] open = new boolean[CHANNELS + 1];
        final int frameMax;

        ClientState(int frameMax) {
            this.frameMax = frameMax;
        }

        /** channel.open for channels 1..n, as the stream's valid start. */
        List<byte[]> openChannels(int n) {
            List<byte[]> frames = new ArrayList<>();
            for (int ch = 1; ch <= n; ch++) {
                open[ch] = true;
                frames.add(HostileClient.methodFrame(ch, new ChannelOpen("")));
            }
            return frames;
        }

        private int anyOpen(Random r) {
            int start = 1 + r.nextInt(CHANNELS);
            for (int i = 0; i < CHANNELS; i++) {
                int ch = 1 + (start - 1 + i) % CHANNELS;
                if (open[ch]) {
                    return ch;
                }
            }
            return 0;
        }

        private int anyClosed(Random r) {
            int start = 1 + r.nextInt(CHANNELS);
            for (int i = 0; i < CHANNELS; i++) {
                int ch = 1 + (start - 1 + i) % CHANNELS;
                if (!open[ch]) {
                    return ch;
                }
            }
            return 0;
        }
    }

    /**
     * One client action as its frames: a method frame, a publish as method, header and body frames,
     * or a heartbeat. Valid for {@code state}, except about one in a hundred that is a protocol error
     * no mutation is needed for (a method on a channel never opened, a server-only or handshake
     * method, a second channel.open).
     */
    static List<byte[]> validUnit(Random r, ClientState state) {
        if (r.nextInt(100) == 0) {
            return List.of(protocolError(r, state));
        }
        int ch = state.anyOpen(r);
        int closed = state.anyClosed(r);
        int pick = r.nextInt(100);
        if (ch == 0 || closed != 0 && pick < 3) {
            state.open[closed] = true;
            return List.of(HostileClient.methodFrame(closed, new ChannelOpen("")));
        } else if (pick < 5) {
            state.open[ch] = false;
            return List.of(HostileClient.methodFrame(ch, new ChannelClose(200, "fuzz", 0, 0)));
        } else if (pick < 9) {
            return List.of(heartbeat());
        } else if (pick < 32) {
            return publish(r, ch, state.frameMax);
        }
        return List.of(HostileClient.methodFrame(ch, method(r)));
    }

    private static byte[] protocolError(Random r, ClientState state) {
        return switch (r.nextInt(5)) {
            case 0 -> HostileClient.methodFrame(5 + r.nextInt(100), new BasicQos(0, 1, false));
            case 1 -> HostileClient.methodFrame(Math.max(1, state.anyOpen(r)), new BasicGetEmpty(""));
            case 2 -> HostileClient.methodFrame(0, new ConnectionTuneOk(0, 4096, 0));
            case 3 -> HostileClient.methodFrame(0, new ChannelOpen(""));
            default -> HostileClient.methodFrame(Math.max(1, state.anyOpen(r)), new ChannelOpen(""));
        };
    }

    private static Method method(Random r) {
        String q = pick(r, QUEUES);
        String x = pick(r, EXCHANGES);
        boolean nowait = r.nextInt(4) == 0;
        return switch (r.nextInt(29)) {
            case 0 -> new ChannelFlow(r.nextBoolean());
            case 1 -> new ExchangeDeclare(0, x, pick(r, EXCHANGE_TYPES), r.nextInt(5) == 0, false, true, false, nowait,
                    arguments(r));
            case 2 -> new ExchangeDelete(0, x, r.nextBoolean(), nowait);
            case 3 -> new ExchangeBind(0, x, pick(r, EXCHANGES), pick(r, KEYS), nowait, arguments(r));
            case 4 -> new ExchangeUnbind(0, x, pick(r, EXCHANGES), pick(r, KEYS), nowait, arguments(r));
            // Server-named queues are exclusive: nothing else could delete them, and bound to amq.fanout
            // they would keep every message the fuzz publishes there.
            case 5, 6, 7 -> new QueueDeclare(0, q, r.nextInt(5) == 0, false, q.isEmpty() || r.nextBoolean(), true,
                    nowait, arguments(r));
            case 8, 9 -> new QueueBind(0, q, x, pick(r, KEYS), nowait, arguments(r));
            case 10 -> new QueueUnbind(0, q, x, pick(r, KEYS), arguments(r));
            case 11 -> new QueuePurge(0, q, nowait);
            case 12 -> new QueueDelete(0, q, r.nextBoolean(), r.nextBoolean(), nowait);
            case 13 -> new BasicQos(r.nextInt(10) == 0 ? r.nextInt(1000) : 0, r.nextInt(20), r.nextBoolean());
            case 14, 15 -> new BasicConsume(0, q, pick(r, TAGS), false, r.nextBoolean(), r.nextInt(5) == 0, nowait,
                    arguments(r));
            case 16 -> new BasicCancel(pick(r, TAGS), nowait);
            case 17, 18 -> new BasicGet(0, q, r.nextBoolean());
            case 19, 20 -> new BasicAck(r.nextInt(12), r.nextBoolean());
            case 21 -> new BasicNack(r.nextInt(12), r.nextBoolean(), r.nextBoolean());
            case 22 -> new BasicReject(r.nextInt(12), r.nextBoolean());
            case 23 -> new BasicRecover(r.nextBoolean());
            case 24 -> new BasicRecoverAsync(r.nextBoolean());
            case 25 -> new ConfirmSelect(nowait);
            case 26 -> new TxSelect();
            case 27 -> r.nextBoolean() ? new TxCommit() : new TxRollback();
            default -> new AccessRequest("/data", false, false, true, true, true);
        };
    }

    private static Map<String, Object> arguments(Random r) {
        Map<String, Object> args = new LinkedHashMap<>();
        int n = r.nextInt(4) == 0 ? 1 + r.nextInt(3) : 0;
        for (int i = 0; i < n; i++) {
            switch (r.nextInt(8)) {
                case 0 -> args.put("x-message-ttl", r.nextBoolean() ? (Object) r.nextInt(100_000) : "soon");
                case 1 -> args.put("x-max-length", r.nextInt(5) - 1);
                case 2 -> args.put("x-dead-letter-exchange", pick(r, EXCHANGES));
                case 3 -> args.put("x-overflow", r.nextBoolean() ? "reject-publish" : "drop-head");
                case 4 -> args.put("x-queue-type", r.nextBoolean() ? "classic" : "stream");
                case 5 -> args.put("x-match", r.nextBoolean() ? "all" : "any");
                case 6 -> args.put("x-expires", r.nextInt(3) * 60_000);
                default -> args.put("x-nested", Map.of("list", List.of(1, "two", 3.0, false)));
            }
        }
        return args;
    }

    /** basic.publish, its content header and its body frames (none for an empty body). */
    private static List<byte[]> publish(Random r, int ch, int frameMax) {
        byte[] body = new byte[r.nextInt(4) == 0 ? r.nextInt(Math.min(3 * frameMax, 20_000)) : r.nextInt(64)];
        r.nextBytes(body);
        BasicProperties props = new BasicProperties(
                r.nextBoolean() ? "text/plain" : null, null,
                r.nextInt(4) == 0 ? Map.of("k", r.nextBoolean() ? "v" : (Object) r.nextLong()) : null,
                r.nextBoolean() ? 1 + r.nextInt(2) : null,
                r.nextInt(4) == 0 ? r.nextInt(10) : null,
                null, null,
                r.nextInt(6) == 0 ? Integer.toString(r.nextInt(1000)) : null,
                null, null, null, null, null, null);
        ByteBuf b = Unpooled.buffer();
        FrameWriter.writeContent(b, ch, new BasicPublish(0, pick(r, EXCHANGES), pick(r, KEYS), r.nextInt(4) == 0,
                false), BasicPublish.CLASS_ID, props.encode(), body, frameMax);
        byte[] all = ByteBufUtil.getBytes(b);
        b.release();
        return split(all);
    }

    static byte[] heartbeat() {
        return HostileClient.frame(FrameType.HEARTBEAT, 0, new byte[0]);
    }

    /** Well-formed frames back to single frames. */
    private static List<byte[]> split(byte[] frames) {
        List<byte[]> out = new ArrayList<>();
        ByteBuf b = Unpooled.wrappedBuffer(frames);
        while (b.isReadable()) {
            int size = b.getInt(b.readerIndex() + 3);
            byte[] f = new byte[size + FrameType.FRAME_OVERHEAD];
            b.readBytes(f);
            out.add(f);
        }
        return out;
    }

    /** One mutation of a (valid) frame; may return several frames, part of one, or bytes that are none. */
    static byte[] mutate(Random r, byte[] frame) {
        byte[] f = frame.clone();
        int payload = f.length - FrameType.FRAME_OVERHEAD;
        switch (r.nextInt(15)) {
            case 0 -> { // flip a few bits anywhere
                for (int i = 1 + r.nextInt(4); i > 0; i--) {
                    f[r.nextInt(f.length)] ^= (byte) (1 << r.nextInt(8));
                }
            }
            case 1 -> { // flip bits in the payload only: framing holds, decoding is tested
                if (payload > 0) {
                    for (int i = 1 + r.nextInt(4); i > 0; i--) {
                        f[7 + r.nextInt(payload)] ^= (byte) (1 << r.nextInt(8));
                    }
                }
            }
            case 2 -> f = withPayload(f, Arrays.copyOf(payloadOf(f), payload == 0 ? 0 : r.nextInt(payload)));
            case 3 -> f = Arrays.copyOf(f, r.nextInt(f.length)); // cut short, size field unchanged
            case 4 -> setInt(f, 3, r.nextBoolean() ? r.nextInt() : payload + r.nextInt(9) - 4); // a wrong size
            case 5 -> { // another class and method
                if (payload >= 4) {
                    int classId = r.nextBoolean() ? KNOWN_CLASSES[r.nextInt(KNOWN_CLASSES.length)] : r.nextInt(65536);
                    setShort(f, 7, classId);
                    setShort(f, 9, r.nextBoolean() ? r.nextInt(130) : r.nextInt(65536));
                }
            }
            case 6 -> setShort(f, 1, r.nextBoolean() ? r.nextInt(8) : r.nextInt(65536)); // another channel
            case 7 -> f[0] = (byte) (r.nextBoolean() ? new int[] {1, 2, 3, 8}[r.nextInt(4)] : r.nextInt(256));
            case 8 -> f[f.length - 1] = (byte) r.nextInt(256); // the end octet (may stay 0xCE)
            case 9 -> { // random bytes appended to the payload
                byte[] extra = new byte[1 + r.nextInt(16)];
                r.nextBytes(extra);
                f = withPayload(f, HostileClient.concat(payloadOf(f), extra));
            }
            case 10 -> { // payload replaced by random bytes, ids kept
                byte[] junk = new byte[r.nextInt(64)];
                r.nextBytes(junk);
                byte[] ids = Arrays.copyOf(payloadOf(f), Math.min(4, payload));
                f = withPayload(f, HostileClient.concat(ids, junk));
            }
            case 11 -> f = HostileClient.concat(f, f); // twice
            case 12 -> { // random bytes that are no frame at all
                f = new byte[1 + r.nextInt(32)];
                r.nextBytes(f);
            }
            case 13 -> f = new byte[0]; // dropped
            default -> { // a field table (or anything) inside the payload overwritten with junk
                if (payload > 6) {
                    int at = 7 + 4 + r.nextInt(payload - 4);
                    int n = Math.min(1 + r.nextInt(8), f.length - 1 - at);
                    for (int i = 0; i < n; i++) {
                        f[at + i] = (byte) r.nextInt(256);
                    }
                }
            }
        }
        return f;
    }

    private static byte[] payloadOf(byte[] frame) {
        return Arrays.copyOfRange(frame, 7, frame.length - 1);
    }

    /** The same type and channel around {@code payload}, with its true size and a good end octet. */
    private static byte[] withPayload(byte[] frame, byte[] payload) {
        int channel = ((frame[1] & 0xFF) << 8) | (frame[2] & 0xFF);
        return HostileClient.frame(frame[0] & 0xFF, channel, payload);
    }

    private static void setShort(byte[] b, int at, int v) {
        b[at] = (byte) (v >>> 8);
        b[at + 1] = (byte) v;
    }

    private static void setInt(byte[] b, int at, int v) {
        if (b.length >= at + 4) {
            b[at] = (byte) (v >>> 24);
            b[at + 1] = (byte) (v >>> 16);
            b[at + 2] = (byte) (v >>> 8);
            b[at + 3] = (byte) v;
        }
    }

    private static String pick(Random r, String[] from) {
        return from[r.nextInt(from.length)];
    }

    /** How the server's frame decoder must judge a stream of frames (the protocol header already read). */
    enum Framing { CLEAN, TRUNCATED, BROKEN }

    /**
     * The framing rules, written from the spec rather than from FrameDecoder: each frame is type,
     * channel, size, payload, 0xCE; the type is 1, 2, 3 or 8; a frame is at most {@code frameMax}
     * bytes whole; heartbeats are empty and on channel 0. A bad header is judged as soon as its seven
     * bytes are in, before any payload.
     */
    static Framing judge(byte[] stream, int frameMax) {
        int pos = 0;
        while (pos < stream.length) {
            if (stream.length - pos < 7) {
                return Framing.TRUNCATED;
            }
            int type = stream[pos] & 0xFF;
            int channel = ((stream[pos + 1] & 0xFF) << 8) | (stream[pos + 2] & 0xFF);
            long size = Integer.toUnsignedLong(((stream[pos + 3] & 0xFF) << 24) | ((stream[pos + 4] & 0xFF) << 16)
                    | ((stream[pos + 5] & 0xFF) << 8) | (stream[pos + 6] & 0xFF));
            boolean knownType = type == FrameType.METHOD || type == FrameType.HEADER || type == FrameType.BODY
                    || type == FrameType.HEARTBEAT;
            if (!knownType || size > frameMax - FrameType.FRAME_OVERHEAD
                    || type == FrameType.HEARTBEAT && (channel != 0 || size != 0)) {
                return Framing.BROKEN;
            }
            long end = pos + 7 + size;
            if (end >= stream.length) {
                return Framing.TRUNCATED;
            }
            if ((stream[(int) end] & 0xFF) != FrameType.FRAME_END) {
                return Framing.BROKEN;
            }
            pos = (int) end + 1;
        }
        return Framing.CLEAN;
    }
}
