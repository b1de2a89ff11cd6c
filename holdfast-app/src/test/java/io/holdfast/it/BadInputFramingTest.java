package io.holdfast.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.holdfast.protocol.FrameType;
import io.holdfast.protocol.Method;
import io.holdfast.protocol.ReplyCode;
import java.nio.charset.StandardCharsets;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Bad framing on an open connection: garbage, unknown frame types, frames over frame_max, a missing
 * frame-end octet, misplaced heartbeats, a client that vanishes mid-frame. Each is a connection
 * error (501 FRAME_ERROR unless said otherwise) for that connection only; the healthy connection
 * keeps publishing and consuming (checked after every test by {@link BrokerUnderAbuse}). After a
 * framing error the server cannot read the client's close-ok; the tests do not wait out its grace
 * period (but one does) and close the socket themselves.
 */
class BadInputFramingTest extends BrokerUnderAbuse {

    @Test
    void garbageAfterTheHandshakeIsAFrameError() throws Exception {
        HostileClient c = opened();
        c.openChannel(1);
        c.sendRaw("hello, is this the broker?\r\n".getBytes(StandardCharsets.US_ASCII));
        assertClose(c.awaitConnectionClose(), ReplyCode.FRAME_ERROR, "unknown frame type 104");
    }

    @Test
    void unknownFrameTypeIsAFrameError() throws Exception {
        HostileClient c = opened();
        c.sendRaw(HostileClient.frame(9, 0, new byte[0]));
        assertClose(c.awaitConnectionClose(), ReplyCode.FRAME_ERROR, "unknown frame type 9");
    }

    @Test
    void frameLargerThanTheNegotiatedFrameMaxIsRefusedFromItsHeader() throws Exception {
        HostileClient c = opened(4096);
        c.openChannel(1);
        // The header alone announces 5000 bytes: the server must not wait for (or buffer) them.
        c.sendRaw(new byte[] {FrameType.BODY, 0, 1, 0, 0, 0x13, (byte) 0x88});
        assertClose(c.awaitConnectionClose(), ReplyCode.FRAME_ERROR, "frame size 5008 exceeds frame_max 4096");
    }

    @Test
    void frameOneByteOverFrameMaxIsAFrameError() throws Exception {
        HostileClient c = opened(4096);
        c.openChannel(1);
        c.sendRaw(HostileClient.concat(
                HostileClient.methodFrame(1, new Method.BasicPublish(0, "", "nowhere", false, false)),
                HostileClient.frame(FrameType.HEADER, 1, HostileClient.contentHeaderPayload(4089)),
                HostileClient.frame(FrameType.BODY, 1, new byte[4089])));
        assertClose(c.awaitConnectionClose(), ReplyCode.FRAME_ERROR, "frame size 4097 exceeds frame_max 4096");
    }

    @Test
    void frameOfExactlyFrameMaxIsAccepted() throws Exception {
        HostileClient c = opened(4096);
        c.openChannel(1);
        c.send(1, new Method.QueueDeclare(0, "", false, false, true, true, false, Map.of()));
        String q = c.expectMethod(1, Method.QueueDeclareOk.class).queue();
        byte[] body = new byte[4096 - FrameType.FRAME_OVERHEAD];
        Arrays.fill(body, (byte) 'x');
        c.sendRaw(HostileClient.publishFrames(1, "", q, body, 4096));
        c.send(1, new Method.BasicGet(0, q, true));
        c.expectMethod(1, Method.BasicGetOk.class);
        HostileClient.RawFrame header = c.readFrame();
        HostileClient.RawFrame bodyFrame = c.readFrame();
        assertThat(header.type()).isEqualTo(FrameType.HEADER);
        assertThat(bodyFrame.payload()).isEqualTo(body);
    }

    @Test
    void frameWithoutItsEndOctetIsAFrameError() throws Exception {
        HostileClient c = opened();
        c.openChannel(1);
        byte[] qos = HostileClient.methodPayload(new Method.BasicQos(0, 10, false));
        c.sendRaw(HostileClient.frame(FrameType.METHOD, 1, qos, 0x00));
        assertClose(c.awaitConnectionClose(), ReplyCode.FRAME_ERROR, "frame end octet missing (got 0x00)");
        // Framing is lost, so the server cannot read our close-ok: like RabbitMQ it closes by itself
        // after a grace period that lets the close reach us.
        c.awaitEndOfStream();
    }

    @Test
    void heartbeatOnAChannelOtherThanZeroIsAnUnexpectedFrame() throws Exception {
        HostileClient c = opened();
        c.openChannel(1);
        c.sendRaw(HostileClient.frame(FrameType.HEARTBEAT, 1, new byte[0]));
        assertClose(c.awaitConnectionClose(), ReplyCode.UNEXPECTED_FRAME, "heartbeat frame on channel 1");
    }

    @Test
    void heartbeatWithAPayloadIsAFrameError() throws Exception {
        HostileClient c = opened();
        c.sendRaw(HostileClient.frame(FrameType.HEARTBEAT, 0, new byte[] {1, 2, 3}));
        assertClose(c.awaitConnectionClose(), ReplyCode.FRAME_ERROR, "heartbeat frame with a payload of 3 bytes");
    }

    @Test
    void heartbeatOnChannelZeroIsFine() throws Exception {
        HostileClient c = opened();
        c.sendRaw(HostileClient.frame(FrameType.HEARTBEAT, 0, new byte[0]));
        c.openChannel(1);
    }

    @Test
    void contentFrameOnChannelZeroIsUnexpected() throws Exception {
        HostileClient c = opened();
        c.sendRaw(HostileClient.frame(FrameType.HEADER, 0, HostileClient.contentHeaderPayload(1)));
        expectConnectionClose(c, ReplyCode.UNEXPECTED_FRAME, "content frame on channel 0");
    }

    @Test
    void methodFrameTooShortForItsIdsIsAFrameError() throws Exception {
        HostileClient c = opened();
        c.openChannel(1);
        c.sendRaw(HostileClient.frame(FrameType.METHOD, 1, new byte[] {0, 60}));
        expectConnectionClose(c, ReplyCode.FRAME_ERROR, "method frame shorter than its class and method ids");
    }

    @Test
    void clientVanishingMidFrameLeavesNothingBehind() throws Exception {
        HostileClient c = opened();
        c.openChannel(1);
        String q = "abandoned-" + System.nanoTime();
        c.send(1, new Method.QueueDeclare(0, q, false, false, true, false, false, Map.of()));
        c.expectMethod(1, Method.QueueDeclareOk.class);
        // A frame header announcing 100 bytes, 10 of them, and then the client is gone.
        c.sendRaw(HostileClient.concat(new byte[] {FrameType.METHOD, 0, 1, 0, 0, 0, 100}, new byte[10]));
        c.close();
        awaitConnectionsBackTo(1);
        // The server ran its connection cleanup: the exclusive queue went with its connection.
        await("exclusive queue of the vanished connection deleted").atMost(Duration.ofSeconds(15))
                .pollInterval(Duration.ofMillis(20))
                .until(() -> !queueExists(q));
    }

    @Test
    void clientsThatBreakFramingMidMessageAndLeaveCostNoMemoryAfterwards() throws Exception {
        // Each client announces a 1 MB message (the server sets aside up to 64 KB for its body), breaks
        // framing (the server closes with 501 and waits for close-ok) and leaves at once. What they
        // cost must go when they go, not when the close-ok grace period ends: otherwise a stream of
        // such clients holds the broker's memory for the grace period.
        int clients = 200;
        List<HostileClient> all = new ArrayList<>();
        for (int i = 0; i < clients; i++) {
            HostileClient c = opened();
            c.openChannel(1);
            all.add(c);
        }
        long before = usedHeapAfterGc();
        for (HostileClient c : all) {
            c.sendRaw(HostileClient.concat(
                    HostileClient.methodFrame(1, new Method.BasicPublish(0, "", "nowhere", false, false)),
                    HostileClient.frame(FrameType.HEADER, 1, HostileClient.contentHeaderPayload(1 << 20)),
                    HostileClient.frame(FrameType.BODY, 1, new byte[] {1, 2, 3}),
                    "junk, not a frame".getBytes(StandardCharsets.US_ASCII)));
        }
        for (HostileClient c : all) {
            assertClose(c.awaitConnectionClose(), ReplyCode.FRAME_ERROR, "unknown frame type 106");
            c.close();
        }
        awaitConnectionsBackTo(1);
        long after = usedHeapAfterGc();
        assertThat(after - before).as("heap held after %s clients left (64 KB each if kept)", clients)
                .isLessThan(clients * 64L * 1024 / 3);
    }

    private static long usedHeapAfterGc() {
        for (int i = 0; i < 3; i++) {
            System.gc();
        }
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    /** Asks over a fresh raw connection: declare-ok or 405 (exclusive elsewhere) mean it exists, 404 not. */
    private boolean queueExists(String q) throws Exception {
        try (HostileClient probe = HostileClient.open(broker.port())) {
            probe.openChannel(1);
            probe.send(1, new Method.QueueDeclare(0, q, true, false, false, false, false, Map.of()));
            HostileClient.RawFrame reply = probe.readFrame();
            Method m = reply.method();
            if (m instanceof Method.ChannelClose close) {
                assertThat(close.replyCode()).isIn(ReplyCode.NOT_FOUND, ReplyCode.RESOURCE_LOCKED);
                return close.replyCode() != ReplyCode.NOT_FOUND;
            }
            assertThat(m).isInstanceOf(Method.QueueDeclareOk.class);
            return true;
        }
    }
}
