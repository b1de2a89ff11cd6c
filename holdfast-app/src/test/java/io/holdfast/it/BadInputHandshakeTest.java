package io.holdfast.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.protocol.FrameType;
import io.holdfast.protocol.FrameWriter;
import io.holdfast.protocol.Method;
import io.holdfast.protocol.ReplyCode;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Bad input before a connection is open: a wrong protocol header, a wrong password, garbage or the
 * wrong method in the handshake, a client that vanishes mid-frame. Each costs only that connection;
 * the healthy one keeps publishing and consuming (checked after every test by {@link BrokerUnderAbuse}).
 */
class BadInputHandshakeTest extends BrokerUnderAbuse {

    static Stream<Arguments> notAnAmqp091Header() {
        return Stream.of(
                Arguments.of("HTTP", "GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII)),
                Arguments.of("AMQP 1.0", new byte[] {'A', 'M', 'Q', 'P', 0, 1, 0, 0}),
                Arguments.of("AMQP 0-8", new byte[] {'A', 'M', 'Q', 'P', 1, 1, 8, 0}),
                Arguments.of("TLS client hello", new byte[] {0x16, 0x03, 0x01, 0x00, (byte) 0xa5, 0x01, 0x00, 0x00}),
                Arguments.of("a method frame", HostileClient.methodFrame(0, new Method.ConnectionOpen("/", "", false))),
                Arguments.of("one wrong byte", new byte[] {'A', 'M', 'Q', 'X'}));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("notAnAmqp091Header")
    void garbageInsteadOfTheProtocolHeaderIsAnsweredWithTheAmqp091HeaderAndClosed(String what, byte[] garbage)
            throws Exception {
        HostileClient c = connected();
        c.sendRaw(garbage);
        assertThat(c.readBytes(64)).as("all the server sends before closing").isEqualTo(FrameWriter.PROTOCOL_HEADER);
        awaitConnectionsBackTo(1);
    }

    @Test
    void wrongPasswordIsRefusedWith403() throws Exception {
        HostileClient c = connected();
        c.sendRaw(FrameWriter.PROTOCOL_HEADER);
        c.expectMethod(0, Method.ConnectionStart.class);
        c.sendStartOk("guest", "not-the-password");
        expectConnectionClose(c, ReplyCode.ACCESS_REFUSED,
                "Login was refused using authentication mechanism PLAIN");
        awaitConnectionsBackTo(1);
    }

    @Test
    void unknownMechanismWithALongNameIsRefusedWith403AndATextCutToFit() throws Exception {
        HostileClient c = connected();
        c.sendRaw(FrameWriter.PROTOCOL_HEADER);
        c.expectMethod(0, Method.ConnectionStart.class);
        c.send(0, new Method.ConnectionStartOk(HostileClient.CLIENT_PROPERTIES, "M".repeat(255), new byte[0], "en_US"));
        HostileClient.Closed closed = expectConnectionClose(c, ReplyCode.ACCESS_REFUSED,
                "unsupported authentication mechanism 'MMM");
        assertThat(closed.replyText()).endsWith("...").hasSize(255);
    }

    @Test
    void garbageInsteadOfStartOkIsAFrameError() throws Exception {
        HostileClient c = connected();
        c.sendRaw(FrameWriter.PROTOCOL_HEADER);
        c.expectMethod(0, Method.ConnectionStart.class);
        c.sendRaw("GET / HTTP/1.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        expectConnectionClose(c, ReplyCode.FRAME_ERROR, "unknown frame type 71");
    }

    @Test
    void anotherMethodInsteadOfStartOkIsCommandInvalid() throws Exception {
        HostileClient c = connected();
        c.sendRaw(FrameWriter.PROTOCOL_HEADER);
        c.expectMethod(0, Method.ConnectionStart.class);
        c.send(0, new Method.ConnectionOpen("/", "", false));
        expectConnectionClose(c, ReplyCode.COMMAND_INVALID,
                "expected connection.start-ok, got connection.open");
    }

    @Test
    void tooSmallFrameMaxInTuneOkIsNotAllowed() throws Exception {
        HostileClient c = connected();
        c.sendRaw(FrameWriter.PROTOCOL_HEADER);
        c.expectMethod(0, Method.ConnectionStart.class);
        c.sendStartOk("guest", "guest");
        c.expectMethod(0, Method.ConnectionTune.class);
        c.send(0, new Method.ConnectionTuneOk(0, 1024, 0));
        expectConnectionClose(c, ReplyCode.NOT_ALLOWED, "frame_max=1024 < 4096 min size");
    }

    @Test
    void frameOverTheHandshakeFrameMaxIsAFrameError() throws Exception {
        HostileClient c = connected();
        c.sendRaw(FrameWriter.PROTOCOL_HEADER);
        c.expectMethod(0, Method.ConnectionStart.class);
        // Only the header of a 1 MB frame: the server must refuse it without waiting for the payload.
        c.sendRaw(new byte[] {FrameType.METHOD, 0, 0, 0, 0x10, 0, 0});
        expectConnectionClose(c, ReplyCode.FRAME_ERROR, "exceeds frame_max 4096");
    }

    @Test
    void clientVanishingMidFrameDuringTheHandshakeLeavesNothingBehind() throws Exception {
        HostileClient c = connected();
        c.sendRaw(FrameWriter.PROTOCOL_HEADER);
        c.expectMethod(0, Method.ConnectionStart.class);
        byte[] startOk = HostileClient.methodFrame(0, new Method.ConnectionStartOk(Map.of(), "PLAIN",
                "\0guest\0guest".getBytes(StandardCharsets.UTF_8), "en_US"));
        c.sendRaw(Arrays.copyOf(startOk, startOk.length / 2));
        c.close();
        awaitConnectionsBackTo(1);
    }
}
