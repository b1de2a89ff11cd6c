package io.holdfast.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.GetResponse;
import io.holdfast.protocol.FrameType;
import io.holdfast.protocol.FrameWriter;
import io.holdfast.protocol.Method;
import io.holdfast.protocol.ProtocolException;
import io.holdfast.protocol.ReplyCode;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.util.ResourceLeakDetector;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Promise 6 under fire: a few connections at a time, for a fixed time budget, each does a valid
 * handshake (or garbles it) and then sends a random mix of valid client frames and mutations of them
 * (bit flips, truncations, wrong sizes, class/method ids, channels, frame types and end octets,
 * junk), while a healthy Java-client connection publishes with confirms and consumes throughout.
 *
 * <p>Per connection it checks what can be known from outside: every byte the server sends frames
 * and decodes; every close carries a code the spec allows for it (never 541 INTERNAL_ERROR) and a
 * text led by the code's name; a stream whose framing is broken (judged by {@link FuzzFrames#judge})
 * gets a connection.close; a client's connection.close after clean framing gets close-ok (or the
 * server's own close); the server always ends the connection, never hangs. Afterwards: the healthy
 * connection lost nothing and was never closed; every fuzz connection is gone from the broker; the
 * broker thread is alive and a fresh client round-trips; no error or leaked buffer was logged; used
 * heap after GC grew by less than a generous bound.
 *
 * <p>The seed is printed; {@code -Dholdfast.fuzz.seed=N} replays it (connection i always gets the same
 * bytes; {@code -Dholdfast.fuzz.workers=1} also removes the interleaving between connections).
 * {@code -Dholdfast.fuzz.millis} sets the budget.
 */
class LiveFuzzTest {
    private static final long BUDGET_MILLIS = Long.getLong("holdfast.fuzz.millis", 12_000);
    private static final int WORKERS = Integer.getInteger("holdfast.fuzz.workers", 3);
    private static final long HEAP_GROWTH_LIMIT = 24L * 1024 * 1024;
    private static final Set<Integer> CONNECTION_CODES = Set.of(ReplyCode.ACCESS_REFUSED, ReplyCode.FRAME_ERROR,
            ReplyCode.SYNTAX_ERROR, ReplyCode.COMMAND_INVALID, ReplyCode.CHANNEL_ERROR, ReplyCode.UNEXPECTED_FRAME,
            ReplyCode.RESOURCE_ERROR, ReplyCode.NOT_ALLOWED, ReplyCode.NOT_IMPLEMENTED);
    private static final Set<Integer> CHANNEL_CODES = Set.of(ReplyCode.ACCESS_REFUSED, ReplyCode.NOT_FOUND,
            ReplyCode.RESOURCE_LOCKED, ReplyCode.PRECONDITION_FAILED);

    @TempDir
    Path dir;

    private enum Ending { CLOSE, HALF_CLOSE, ABORT }

    private final Map<String, AtomicInteger> outcomes = new ConcurrentHashMap<>();

    @Test
    void brokerSurvivesRandomAndMutatedFrames() throws Exception {
        long seed = Long.getLong("holdfast.fuzz.seed", new Random().nextLong());
        System.out.println("LiveFuzzTest seed " + seed + " (replay: -Dholdfast.fuzz.seed=" + seed + ")");
        ResourceLeakDetector.Level leakLevel = ResourceLeakDetector.getLevel();
        ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.PARANOID);
        Set<Thread> brokerThreadsBefore = brokerThreads();
        try (BrokerErrorLog errors = BrokerErrorLog.attach(); RunningBroker broker = RunningBroker.start(dir)) {
            Thread brokerThread = theNewBrokerThread(brokerThreadsBefore);
            HealthyTraffic healthy = HealthyTraffic.start(broker);
            long heapBefore = usedHeapAfterGc();
            long publishedBefore = healthy.published();

            int connections = fuzz(broker.port(), seed);

            healthy.assertProgressSince(publishedBefore, 50);
            healthy.assertCaughtUp();
            await("every fuzz connection gone from the broker").atMost(Duration.ofSeconds(20))
                    .pollInterval(Duration.ofMillis(20)).until(() -> broker.server().connectionCount() == 1);
            assertThat(brokerThread.isAlive()).as("broker thread alive").isTrue();
            deleteWhatTheFuzzDeclared(broker);
            long heapAfter = usedHeapAfterGc();
            freshClientRoundTrips(broker);
            healthy.close();
            reportLeaks();
            System.out.printf("LiveFuzzTest seed %d: %d connections in %d ms; heap %d -> %d KB; outcomes %s%n",
                    seed, connections, BUDGET_MILLIS, heapBefore / 1024, heapAfter / 1024, new TreeMap<>(outcomes));
            assertThat(heapAfter - heapBefore).as("used heap growth after GC").isLessThan(HEAP_GROWTH_LIMIT);
            assertThat(errors.drain()).as("errors or leaks the broker logged (seed " + seed + ")").isEmpty();
            assertThat(connections).as("fuzz connections made").isGreaterThan(20);
        } finally {
            ResourceLeakDetector.setLevel(leakLevel);
        }
    }

    /** Runs fuzz connections on a few threads until the budget is spent; returns how many ran. */
    private int fuzz(int port, long seed) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(BUDGET_MILLIS);
        AtomicInteger next = new AtomicInteger();
        AtomicBoolean failed = new AtomicBoolean();
        ExecutorService pool = Executors.newFixedThreadPool(WORKERS);
        try {
            List<Future<?>> workers = new ArrayList<>();
            for (int w = 0; w < WORKERS; w++) {
                workers.add(pool.submit(() -> {
                    while (System.nanoTime() < deadline && !failed.get()) {
                        int i = next.getAndIncrement();
                        long connectionSeed = new SplittableRandom(seed + i).nextLong();
                        try {
                            fuzzOne(port, new Random(connectionSeed));
                        } catch (Throwable t) {
                            failed.set(true);
                            throw new AssertionError("fuzz connection " + i + " of seed " + seed + ": " + t, t);
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : workers) {
                f.get(BUDGET_MILLIS + 120_000, TimeUnit.MILLISECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        return next.get();
    }

    private void fuzzOne(int port, Random r) throws Exception {
        if (r.nextInt(8) == 0) {
            fuzzHandshake(port, r);
            return;
        }
        try (HostileClient c = HostileClient.open(port, r.nextInt(3) == 0 ? 4096 + r.nextInt(8192) : 0)) {
            int frameMax = c.frameMax();
            ByteArrayOutputStream stream = new ByteArrayOutputStream();
            FuzzFrames.ClientState state = new FuzzFrames.ClientState(frameMax);
            state.openChannels(1 + r.nextInt(3)).forEach(stream::writeBytes);
            int mutationPercent = r.nextInt(4) == 0 ? 0 : 1 + r.nextInt(r.nextBoolean() ? 5 : 40);
            for (int units = 1 + r.nextInt(40); units > 0; units--) {
                for (byte[] f : FuzzFrames.validUnit(r, state)) {
                    stream.writeBytes(r.nextInt(100) < mutationPercent ? FuzzFrames.mutate(r, f) : f);
                }
            }
            byte[] bytes = stream.toByteArray();
            FuzzFrames.Framing framing = FuzzFrames.judge(bytes, frameMax);
            Ending ending = framing == FuzzFrames.Framing.CLEAN && r.nextInt(3) > 0 ? Ending.CLOSE
                    : r.nextInt(5) == 0 ? Ending.ABORT : Ending.HALF_CLOSE;
            boolean sent = sendInPieces(c, bytes, r);
            if (ending == Ending.ABORT) {
                c.abort();
                count("abort");
                return;
            }
            if (ending == Ending.CLOSE && sent) {
                sent = trySend(c, HostileClient.methodFrame(0, new Method.ConnectionClose(200, "bye", 0, 0)));
            }
            halfClose(c);
            Reply reply = readUntilClosed(c);
            check(reply, framing, ending, sent);
        }
    }

    /** Garbles the handshake: junk for a header, or a header and then mutated handshake frames. */
    private void fuzzHandshake(int port, Random r) throws Exception {
        try (HostileClient c = HostileClient.connect(port)) {
            ByteArrayOutputStream stream = new ByteArrayOutputStream();
            boolean goodHeader = r.nextInt(3) > 0;
            if (goodHeader) {
                stream.writeBytes(FrameWriter.PROTOCOL_HEADER);
                List<byte[]> frames = List.of(
                        HostileClient.methodFrame(0, new Method.ConnectionStartOk(Map.of(), "PLAIN",
                                (r.nextBoolean() ? "\0guest\0guest" : "\0guest\0wrong").getBytes(StandardCharsets.UTF_8),
                                "en_US")),
                        HostileClient.methodFrame(0, new Method.ConnectionTuneOk(r.nextInt(3000),
                                r.nextBoolean() ? 0 : r.nextInt(200_000), 0)),
                        HostileClient.methodFrame(0, new Method.ConnectionOpen(r.nextBoolean() ? "/" : "nowhere", "", false)),
                        HostileClient.methodFrame(1, new Method.ChannelOpen("")));
                for (byte[] f : frames) {
                    stream.writeBytes(r.nextInt(3) == 0 ? FuzzFrames.mutate(r, f) : f);
                }
            } else {
                byte[] junk = FrameWriter.PROTOCOL_HEADER.clone();
                junk = Arrays.copyOf(junk, r.nextInt(9));
                if (junk.length > 0) {
                    junk[r.nextInt(junk.length)] ^= (byte) (1 << r.nextInt(8));
                }
                stream.writeBytes(junk);
                byte[] tail = new byte[r.nextInt(20)];
                r.nextBytes(tail);
                stream.writeBytes(tail);
            }
            byte[] bytes = stream.toByteArray();
            sendInPieces(c, bytes, r);
            halfClose(c);
            byte[] got = c.readAllUntilClosed();
            int headerMismatch = firstMismatchWithHeader(bytes);
            if (headerMismatch >= 0) {
                assertThat(got).as("answer to a wrong protocol header").isEqualTo(FrameWriter.PROTOCOL_HEADER);
                count("handshake: bad header");
            } else if (bytes.length < FrameWriter.PROTOCOL_HEADER.length) {
                assertThat(got).as("answer to part of the protocol header").isEmpty();
                count("handshake: partial header");
            } else {
                Reply reply = parse(got, c.wasReset());
                if (!reply.methods().isEmpty() || !reply.reset()) {
                    assertThat(reply.methods()).as("what the server sent").isNotEmpty();
                    assertThat(reply.methods().get(0)).isInstanceOf(Method.ConnectionStart.class);
                }
                for (Method m : reply.methods()) {
                    if (m instanceof Method.ConnectionClose close) {
                        assertCode(close.replyCode(), close.replyText(), CONNECTION_CODES);
                    }
                }
                count("handshake: " + reply.summary());
            }
        }
    }

    /** -1 if {@code bytes} agree with the protocol header as far as both go, else the first index that differs. */
    private static int firstMismatchWithHeader(byte[] bytes) {
        for (int i = 0; i < Math.min(bytes.length, FrameWriter.PROTOCOL_HEADER.length); i++) {
            if (bytes[i] != FrameWriter.PROTOCOL_HEADER[i]) {
                return i;
            }
        }
        return -1;
    }

    /** Writes in random pieces so that the decoder meets frames split anywhere; false if the server hung up. */
    private static boolean sendInPieces(HostileClient c, byte[] bytes, Random r) {
        int at = 0;
        while (at < bytes.length) {
            int n = r.nextInt(4) == 0 ? 1 + r.nextInt(16) : bytes.length - at;
            n = Math.min(n, bytes.length - at);
            if (!trySend(c, Arrays.copyOfRange(bytes, at, at + n))) {
                return false;
            }
            at += n;
        }
        return true;
    }

    /** Tells the server we are done sending; it closes on end of stream, having answered what it read. */
    private static void halfClose(HostileClient c) {
        try {
            c.shutdownOutput();
        } catch (IOException e) {
            // the server closed (or reset) the connection already
        }
    }

    private static boolean trySend(HostileClient c, byte[] bytes) {
        try {
            c.sendRaw(bytes);
            return true;
        } catch (IOException e) {
            return false; // the server closed: allowed, after it found an error
        }
    }

    /** Every method the server sent, parsed; whether the stream was cut by a reset. */
    private record Reply(List<Method> methods, boolean reset) {
        boolean has(Class<? extends Method> type) {
            return methods.stream().anyMatch(type::isInstance);
        }

        String summary() {
            for (Method m : methods) {
                if (m instanceof Method.ConnectionClose c) {
                    return "connection closed " + c.replyCode();
                }
            }
            return has(Method.ConnectionCloseOk.class) ? "close-ok" : reset ? "reset" : "closed without a word";
        }
    }

    private static Reply readUntilClosed(HostileClient c) throws IOException {
        byte[] got = c.readAllUntilClosed();
        return parse(got, c.wasReset());
    }

    /**
     * Frames the server's bytes and decodes its methods: anything that does not is a broker bug.
     * After a reset the bytes may stop in the middle of a frame; that part is ignored.
     */
    private static Reply parse(byte[] got, boolean reset) {
        List<Method> methods = new ArrayList<>();
        var b = Unpooled.wrappedBuffer(got);
        while (b.isReadable()) {
            if (reset && (b.readableBytes() < 7 || b.readableBytes() < b.getInt(b.readerIndex() + 3) + 8L)) {
                break;
            }
            assertThat(b.readableBytes()).as("server frame header").isGreaterThanOrEqualTo(7);
            int type = b.readUnsignedByte();
            b.readUnsignedShort();
            int size = b.readInt();
            assertThat(size).as("server frame size").isBetween(0, b.readableBytes() - 1);
            var payload = b.readSlice(size);
            assertThat((int) b.readUnsignedByte()).as("server frame end octet").isEqualTo(FrameType.FRAME_END);
            if (type == FrameType.METHOD) {
                try {
                    methods.add(Method.decode(payload));
                } catch (ProtocolException e) {
                    throw new AssertionError("the server sent a method that does not decode: " + e.getMessage(), e);
                }
            } else {
                assertThat(type).as("server frame type").isIn(FrameType.HEADER, FrameType.BODY, FrameType.HEARTBEAT);
            }
        }
        return new Reply(methods, reset);
    }

    private void check(Reply reply, FuzzFrames.Framing framing, Ending ending, boolean sentAll) {
        for (Method m : reply.methods()) {
            if (m instanceof Method.ConnectionClose close) {
                assertCode(close.replyCode(), close.replyText(), CONNECTION_CODES);
            } else if (m instanceof Method.ChannelClose close) {
                assertCode(close.replyCode(), close.replyText(), CHANNEL_CODES);
                count("(channel closed " + close.replyCode() + ")");
            } else if (m instanceof Method.BasicDeliver || m instanceof Method.BasicGetOk
                    || m instanceof Method.BasicReturn || m instanceof Method.BasicAck
                    || m instanceof Method.TxCommitOk) {
                count("(" + m.name() + ")");
            }
        }
        boolean closed = reply.has(Method.ConnectionClose.class);
        if (!reply.reset() && framing == FuzzFrames.Framing.BROKEN) {
            assertThat(closed).as("connection.close after broken framing; got %s", reply.methods()).isTrue();
        }
        if (!reply.reset() && ending == Ending.CLOSE && sentAll) {
            assertThat(closed || reply.has(Method.ConnectionCloseOk.class))
                    .as("close-ok or close answering connection.close; got %s", reply.methods()).isTrue();
        }
        count(framing.name().toLowerCase() + " framing, " + ending.name().toLowerCase() + ": " + reply.summary());
    }

    private static void assertCode(int code, String text, Set<Integer> allowed) {
        assertThat(code).as("reply code of '%s'", text).isIn(allowed);
        assertThat(text).as("reply text").startsWith(ReplyCode.name(code) + " - ");
        assertThat(text.length()).as("reply text says something: '%s'", text)
                .isGreaterThan(ReplyCode.name(code).length() + 3);
    }

    private void count(String outcome) {
        outcomes.computeIfAbsent(outcome, k -> new AtomicInteger()).incrementAndGet();
    }

    /**
     * Deletes the fuzz's queues and exchanges (those its mutations renamed stay, a few), so that what
     * is left on the heap is what the broker failed to let go of, not messages it was asked to keep.
     */
    private static void deleteWhatTheFuzzDeclared(RunningBroker broker) throws Exception {
        try (Connection c = broker.connect()) {
            Channel ch = c.createChannel();
            for (String q : FuzzFrames.QUEUES) {
                if (!q.isEmpty()) {
                    ch.queueDelete(q);
                }
            }
            for (String x : FuzzFrames.EXCHANGES) {
                if (x.startsWith("fz-")) {
                    ch.exchangeDelete(x);
                }
            }
        }
    }

    private static void freshClientRoundTrips(RunningBroker broker) throws Exception {
        try (Connection c = broker.connect()) {
            Channel ch = c.createChannel();
            String q = ch.queueDeclare().getQueue();
            ch.confirmSelect();
            ch.basicPublish("", q, null, "after the storm".getBytes(StandardCharsets.UTF_8));
            ch.waitForConfirmsOrDie(10_000);
            GetResponse r = ch.basicGet(q, true);
            assertThat(r).isNotNull();
            assertThat(new String(r.getBody(), StandardCharsets.UTF_8)).isEqualTo("after the storm");
        }
    }

    /**
     * Netty reports a leaked buffer when a later buffer is allocated after the leaked one was
     * collected; this makes that happen a few times. The short pauses let the JVM's reference handler
     * queue what the collection found.
     */
    private static void reportLeaks() throws InterruptedException {
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(20);
            PooledByteBufAllocator.DEFAULT.buffer(16).release();
            Unpooled.buffer(16).release();
        }
    }

    private static Set<Thread> brokerThreads() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().equals("holdfast-broker")).collect(Collectors.toSet());
    }

    private static Thread theNewBrokerThread(Set<Thread> before) {
        Set<Thread> now = brokerThreads();
        now.removeAll(before);
        assertThat(now).as("the broker thread this test started").hasSize(1);
        return now.iterator().next();
    }

    private static long usedHeapAfterGc() {
        for (int i = 0; i < 3; i++) {
            System.gc();
        }
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }
}
