package io.holdfast.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.protocol.FrameType;
import io.holdfast.protocol.Method;
import io.holdfast.protocol.ReplyCode;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.holdfast.protocol.WireFormat;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Methods that do not belong: unknown ids, methods on channels never opened or already closed, a
 * second channel.open, server-only methods, arguments that do not parse. Each closes that one
 * connection with the code RabbitMQ uses; the healthy connection keeps publishing and consuming
 * (checked after every test by {@link BrokerUnderAbuse}).
 */
class BadInputChannelTest extends BrokerUnderAbuse {

    @Test
    void unknownClassIsNotImplemented() throws Exception {
        HostileClient c = opened();
        c.openChannel(1);
        c.sendRaw(HostileClient.frame(FrameType.METHOD, 1, new byte[] {0, 99, 0, 1}));
        expectConnectionClose(c, ReplyCode.NOT_IMPLEMENTED, "unknown method: class 99, method 1");
    }

    @Test
    void unknownMethodOfAKnownClassIsNotImplemented() throws Exception {
        HostileClient c = opened();
        c.openChannel(1);
        c.sendRaw(HostileClient.frame(FrameType.METHOD, 1, new byte[] {0, 60, 3, (byte) 0xe7}));
        expectConnectionClose(c, ReplyCode.NOT_IMPLEMENTED, "unknown method: class 60, method 999");
    }

    @Test
    void methodOnAChannelNeverOpenedIsAChannelError() throws Exception {
        HostileClient c = opened();
        c.send(7, new Method.BasicQos(0, 10, false));
        expectConnectionClose(c, ReplyCode.CHANNEL_ERROR,
                "expected 'channel.open' on channel 7, got basic.qos");
    }

    @Test
    void methodOnAChannelTheClientClosedIsAChannelError() throws Exception {
        HostileClient c = opened();
        c.openChannel(1);
        c.send(1, new Method.ChannelClose(200, "bye", 0, 0));
        c.expectMethod(1, Method.ChannelCloseOk.class);
        c.send(1, new Method.QueueDeclare(0, "", false, false, true, true, false, Map.of()));
        expectConnectionClose(c, ReplyCode.CHANNEL_ERROR,
                "expected 'channel.open' on channel 1, got queue.declare");
    }

    @Test
    void afterTheServerClosesAChannelItIgnoresItUntilCloseOkThenRefusesIt() throws Exception {
        HostileClient c = opened();
        c.openChannel(1);
        c.send(1, new Method.QueueDeclare(0, "no-such-queue", true, false, false, false, false, Map.of()));
        HostileClient.RawFrame f = c.readFrame();
        assertThat(f.method()).isInstanceOfSatisfying(Method.ChannelClose.class,
                close -> assertThat(close.replyCode()).isEqualTo(ReplyCode.NOT_FOUND));
        // Until close-ok the channel is closing: what the client still sends on it is dropped.
        c.send(1, new Method.BasicQos(0, 10, false));
        c.send(1, new Method.ChannelCloseOk());
        c.send(1, new Method.BasicQos(0, 10, false));
        expectConnectionClose(c, ReplyCode.CHANNEL_ERROR,
                "expected 'channel.open' on channel 1, got basic.qos");
    }

    @Test
    void channelNumberIsReusableAfterCloseOk() throws Exception {
        HostileClient c = opened();
        c.openChannel(1);
        c.send(1, new Method.ChannelClose(200, "bye", 0, 0));
        c.expectMethod(1, Method.ChannelCloseOk.class);
        c.openChannel(1);
        c.send(1, new Method.BasicQos(0, 10, false));
        c.expectMethod(1, Method.BasicQosOk.class);
    }

    @Test
    void secondChannelOpenIsAChannelError() throws Exception {
        HostileClient c = opened();
        c.openChannel(1);
        c.send(1, new Method.ChannelOpen(""));
        expectConnectionClose(c, ReplyCode.CHANNEL_ERROR, "second 'channel.open' seen on channel 1");
    }

    @Test
    void serverOnlyMethodFromTheClientIsCommandInvalid() throws Exception {
        HostileClient c = opened();
        c.openChannel(1);
        c.send(1, new Method.BasicGetEmpty(""));
        expectConnectionClose(c, ReplyCode.COMMAND_INVALID, "basic.get-empty");
    }

    @Test
    void truncatedArgumentsAreASyntaxError() throws Exception {
        HostileClient c = opened();
        c.openChannel(1);
        byte[] declare = HostileClient.methodPayload(
                new Method.QueueDeclare(0, "some-queue", false, false, false, false, false, Map.of()));
        c.sendRaw(HostileClient.frame(FrameType.METHOD, 1, java.util.Arrays.copyOf(declare, 10)));
        HostileClient.Closed closed = expectConnectionClose(c, ReplyCode.SYNTAX_ERROR, "short string of 10 bytes runs past the frame");
        assertThat(closed.classId()).as("class blamed").isEqualTo(Method.QueueDeclare.CLASS_ID);
        assertThat(closed.methodId()).as("method blamed").isEqualTo(Method.QueueDeclare.METHOD_ID);
    }

    @Test
    void connectionErrorAboutALongNameHasItsTextCutToFitAsRabbitMQDoes() throws Exception {
        String key = "k".repeat(250);
        byte[] table = table(t -> {
            for (int i = 0; i < 2; i++) {
                WireFormat.writeShortString(t, key);
                t.writeByte('I');
                t.writeInt(10);
            }
        });
        HostileClient c = opened();
        c.openChannel(1);
        c.sendRaw(HostileClient.frame(FrameType.METHOD, 1, queueDeclareWithRawArguments(table)));
        HostileClient.Closed closed = expectConnectionClose(c, ReplyCode.SYNTAX_ERROR, "field table has the key 'kkk");
        assertThat(closed.replyText()).endsWith("...").hasSize(255);
    }

    @Test
    void channelErrorAboutALongNameHasItsTextCutToFitAndTheConnectionGoesOn() throws Exception {
        String name = "q".repeat(255);
        HostileClient c = opened();
        c.openChannel(1);
        c.send(1, new Method.QueueDeclare(0, name, true, false, false, false, false, Map.of()));
        HostileClient.Closed closed = c.awaitChannelClose(1);
        assertClose(closed, ReplyCode.NOT_FOUND, "no queue 'qqq");
        assertThat(closed.replyText()).endsWith("...").hasSize(255);
        c.openChannel(1);
        c.send(1, new Method.BasicQos(0, 10, false));
        c.expectMethod(1, Method.BasicQosOk.class);
    }

    static Stream<Arguments> malformedTables() {
        return Stream.of(
                Arguments.of("unknown type tag", table(t -> {
                    WireFormat.writeShortString(t, "x-arg");
                    t.writeByte('Z');
                    t.writeInt(1);
                }), "unknown field value type 'Z'"),
                Arguments.of("boolean of 2", table(t -> {
                    WireFormat.writeShortString(t, "x-flag");
                    t.writeByte('t');
                    t.writeByte(2);
                }), "boolean field value must be 0 or 1"),
                Arguments.of("value cut short", table(t -> {
                    WireFormat.writeShortString(t, "x-message-ttl");
                    t.writeByte('l');
                    t.writeInt(1000);
                }), "field value of type 'l'"),
                Arguments.of("long string past the table", table(t -> {
                    WireFormat.writeShortString(t, "x-queue-type");
                    t.writeByte('S');
                    t.writeInt(1_000_000);
                    t.writeBytes("quorum".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
                }), "long string of 1000000 bytes runs past the frame"),
                Arguments.of("same key twice", table(t -> {
                    for (int i = 0; i < 2; i++) {
                        WireFormat.writeShortString(t, "x-max-length");
                        t.writeByte('I');
                        t.writeInt(10);
                    }
                }), "the key 'x-max-length' twice"),
                Arguments.of("table length past the frame", lengthOnly(1 << 30), "field table needs 1073741824 bytes"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("malformedTables")
    void malformedArgumentsTableIsASyntaxError(String what, byte[] table, String text) throws Exception {
        HostileClient c = opened();
        c.openChannel(1);
        c.sendRaw(HostileClient.frame(FrameType.METHOD, 1, queueDeclareWithRawArguments(table)));
        HostileClient.Closed closed = expectConnectionClose(c, ReplyCode.SYNTAX_ERROR, text);
        assertThat(closed.classId()).as("class blamed").isEqualTo(Method.QueueDeclare.CLASS_ID);
        assertThat(closed.methodId()).as("method blamed").isEqualTo(Method.QueueDeclare.METHOD_ID);
    }

    /** queue.declare "bad-args" whose arguments table is {@code table}, exactly as given. */
    private static byte[] queueDeclareWithRawArguments(byte[] table) {
        ByteBuf b = Unpooled.buffer();
        b.writeShort(Method.QueueDeclare.CLASS_ID);
        b.writeShort(Method.QueueDeclare.METHOD_ID);
        b.writeShort(0); // ticket
        WireFormat.writeShortString(b, "bad-args");
        b.writeByte(0); // passive, durable, exclusive, auto-delete, nowait
        b.writeBytes(table);
        return drain(b);
    }

    private static byte[] table(Consumer<ByteBuf> entries) {
        ByteBuf body = Unpooled.buffer();
        entries.accept(body);
        ByteBuf t = Unpooled.buffer();
        t.writeInt(body.readableBytes());
        t.writeBytes(body);
        body.release();
        return drain(t);
    }

    private static byte[] lengthOnly(int length) {
        ByteBuf t = Unpooled.buffer();
        t.writeInt(length);
        t.writeInt(0);
        return drain(t);
    }

    private static byte[] drain(ByteBuf b) {
        byte[] bytes = ByteBufUtil.getBytes(b);
        b.release();
        return bytes;
    }
}
