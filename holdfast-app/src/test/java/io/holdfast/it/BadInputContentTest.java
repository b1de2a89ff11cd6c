package io.holdfast.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.GetResponse;
import io.holdfast.protocol.FrameType;
import io.holdfast.protocol.Method;
import io.holdfast.protocol.ReplyCode;
import io.holdfast.server.config.ServerConfig;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/**
 * Content that does not assemble: headers and bodies out of place, a body longer than declared, a
 * method where content was due, a message over the size limit. Framing faults close the connection
 * (505 UNEXPECTED_FRAME, or 501 for a body overrunning its header); an oversize message closes only
 * its channel (406), as RabbitMQ's max_message_size does. The broker here allows at most
 * {@value #MAX_MESSAGE_BYTES} bytes per message; the healthy connection's messages are far smaller.
 */
class BadInputContentTest extends BrokerUnderAbuse {
    static final int MAX_MESSAGE_BYTES = 1024;

    @Override
    UnaryOperator<ServerConfig> config() {
        return c -> c.withMaxMessageBytes(MAX_MESSAGE_BYTES);
    }

    @Test
    void contentHeaderWithoutAPublishIsUnexpected() throws Exception {
        HostileClient c = opened();
        c.openChannel(1);
        c.sendRaw(HostileClient.frame(FrameType.HEADER, 1, HostileClient.contentHeaderPayload(5)));
        expectConnectionClose(c, ReplyCode.UNEXPECTED_FRAME,
                "content header frame on channel 1 without a basic.publish before it");
    }

    @Test
    void bodyWithoutAnythingBeforeItIsUnexpected() throws Exception {
        HostileClient c = opened();
        c.openChannel(1);
        c.sendRaw(HostileClient.frame(FrameType.BODY, 1, "hello".getBytes(StandardCharsets.UTF_8)));
        expectConnectionClose(c, ReplyCode.UNEXPECTED_FRAME,
                "content body frame on channel 1 without a content header before it");
    }

    @Test
    void bodyRightAfterThePublishWithoutAHeaderIsUnexpected() throws Exception {
        HostileClient c = opened();
        c.openChannel(1);
        c.sendRaw(HostileClient.concat(
                HostileClient.methodFrame(1, new Method.BasicPublish(0, "", "q", false, false)),
                HostileClient.frame(FrameType.BODY, 1, "hello".getBytes(StandardCharsets.UTF_8))));
        expectConnectionClose(c, ReplyCode.UNEXPECTED_FRAME,
                "content body frame on channel 1 without a content header before it");
    }

    @Test
    void bodyLongerThanItsHeaderDeclaredIsAFrameError() throws Exception {
        HostileClient c = opened();
        c.openChannel(1);
        c.sendRaw(HostileClient.concat(
                HostileClient.methodFrame(1, new Method.BasicPublish(0, "", "q", false, false)),
                HostileClient.frame(FrameType.HEADER, 1, HostileClient.contentHeaderPayload(5)),
                HostileClient.frame(FrameType.BODY, 1, "hello, world".getBytes(StandardCharsets.UTF_8))));
        expectConnectionClose(c, ReplyCode.FRAME_ERROR,
                "content body on channel 1 is longer than the 5 bytes its header declared");
    }

    @Test
    void methodWhereTheContentHeaderWasDueIsUnexpected() throws Exception {
        HostileClient c = opened();
        c.openChannel(1);
        c.sendRaw(HostileClient.concat(
                HostileClient.methodFrame(1, new Method.BasicPublish(0, "", "q", false, false)),
                HostileClient.methodFrame(1, new Method.BasicQos(0, 10, false))));
        expectConnectionClose(c, ReplyCode.UNEXPECTED_FRAME,
                "expected content header for class 60, got basic.qos on channel 1");
    }

    @Test
    void methodWhereMoreBodyWasDueIsUnexpected() throws Exception {
        HostileClient c = opened();
        c.openChannel(1);
        c.sendRaw(HostileClient.concat(
                HostileClient.methodFrame(1, new Method.BasicPublish(0, "", "q", false, false)),
                HostileClient.frame(FrameType.HEADER, 1, HostileClient.contentHeaderPayload(10)),
                HostileClient.frame(FrameType.BODY, 1, "hello".getBytes(StandardCharsets.UTF_8)),
                HostileClient.methodFrame(1, new Method.BasicQos(0, 10, false))));
        expectConnectionClose(c, ReplyCode.UNEXPECTED_FRAME,
                "expected content body for class 60, got basic.qos on channel 1");
    }

    @Test
    void contentHeaderOfAnotherClassIsUnexpected() throws Exception {
        HostileClient c = opened();
        c.openChannel(1);
        byte[] header = HostileClient.contentHeaderPayload(5);
        header[1] = 50; // class 50 (queue) instead of 60 (basic)
        c.sendRaw(HostileClient.concat(
                HostileClient.methodFrame(1, new Method.BasicPublish(0, "", "q", false, false)),
                HostileClient.frame(FrameType.HEADER, 1, header)));
        expectConnectionClose(c, ReplyCode.UNEXPECTED_FRAME, "content header for class 50");
    }

    @Test
    void malformedContentPropertiesAreASyntaxError() throws Exception {
        HostileClient c = opened();
        c.openChannel(1);
        byte[] header = HostileClient.contentHeaderPayload(5);
        header[12] = (byte) 0x80; // property flags say content-type follows; nothing does
        c.sendRaw(HostileClient.concat(
                HostileClient.methodFrame(1, new Method.BasicPublish(0, "", "q", false, false)),
                HostileClient.frame(FrameType.HEADER, 1, header)));
        HostileClient.Closed closed = expectConnectionClose(c, ReplyCode.SYNTAX_ERROR,
                "short string length needs 1 bytes but only 0 remain");
        assertThat(closed.classId()).as("class blamed").isEqualTo(Method.BasicPublish.CLASS_ID);
    }

    @Test
    void publishOverTheMaxMessageSizeClosesOnlyItsChannelWith406() throws Exception {
        HostileClient c = opened();
        c.openChannel(1);
        c.send(1, new Method.QueueDeclare(0, "", false, false, true, true, false, Map.of()));
        String q = c.expectMethod(1, Method.QueueDeclareOk.class).queue();
        c.openChannel(2);
        byte[] tooBig = new byte[MAX_MESSAGE_BYTES + 1];
        c.sendRaw(HostileClient.publishFrames(2, "", q, tooBig, c.frameMax()));
        assertClose(c.awaitChannelClose(2), ReplyCode.PRECONDITION_FAILED,
                "message size 1025 is larger than configured max size 1024");

        // The connection and its other channel go on; the channel number can be opened again.
        byte[] justFits = new byte[MAX_MESSAGE_BYTES];
        justFits[0] = 42;
        c.sendRaw(HostileClient.publishFrames(1, "", q, justFits, c.frameMax()));
        c.send(1, new Method.BasicGet(0, q, true));
        assertThat(c.expectMethod(1, Method.BasicGetOk.class).messageCount()).isZero();
        c.readFrame(); // content header
        assertThat(c.readFrame().payload()).isEqualTo(justFits);
        c.openChannel(2);
        c.send(2, new Method.BasicGet(0, q, true));
        c.expectMethod(2, Method.BasicGetEmpty.class);
    }

    @Test
    void publishOverTheMaxMessageSizeFromTheJavaClientClosesOnlyItsChannel() throws Exception {
        try (Connection conn = broker.connect()) {
            Channel good = conn.createChannel();
            String q = good.queueDeclare().getQueue();
            Channel bad = conn.createChannel();
            bad.basicPublish("", q, null, new byte[5000]);
            AMQP.Channel.Close close = AmqpAssertions.awaitChannelClosedWith(ReplyCode.PRECONDITION_FAILED, bad);
            assertThat(close.getReplyText()).isEqualTo(
                    "PRECONDITION_FAILED - message size 5000 is larger than configured max size 1024");
            good.basicPublish("", q, null, "small".getBytes(StandardCharsets.UTF_8));
            GetResponse r = good.basicGet(q, true);
            assertThat(r).isNotNull();
            assertThat(new String(r.getBody(), StandardCharsets.UTF_8)).isEqualTo("small");
            assertThat(conn.isOpen()).isTrue();
        }
    }
}
