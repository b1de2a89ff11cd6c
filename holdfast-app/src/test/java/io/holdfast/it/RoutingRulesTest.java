package io.holdfast.it;

import static io.holdfast.it.AmqpAssertions.assertChannelClosedWith;
import static io.holdfast.it.AmqpAssertions.awaitConnectionClosedWith;
import static io.holdfast.it.TopologyTest.drain;
import static org.assertj.core.api.Assertions.assertThat;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.BuiltinExchangeType;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The spec's routing and naming rules as RabbitMQ applies them. */
class RoutingRulesTest extends SharedBrokerTest {
    private void publish(String exchange, String key, String body) throws Exception {
        ch.basicPublish(exchange, key, null, body.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void emptyQueueNameMeansTheLastDeclaredQueueAndEmptyKeyItsName() throws Exception {
        String q = ch.queueDeclare().getQueue();
        ch.queueBind("", "amq.direct", "");
        publish("amq.direct", q, "by-its-name");
        assertThat(ch.basicGet("", true).getBody()).asString().isEqualTo("by-its-name");
        publish("amq.direct", q, "purged");
        assertThat(ch.queuePurge("").getMessageCount()).isEqualTo(1);
        publish("amq.direct", q, "consumed");
        Inbox inbox = new Inbox(ch);
        ch.basicConsume("", true, inbox);
        assertThat(Inbox.text(inbox.next())).isEqualTo("consumed");
        ch.queueUnbind("", "amq.direct", "");
        publish("amq.direct", q, "unbound");
        ch.queueDelete("");
        Channel other = conn.createChannel();
        assertChannelClosedWith(AMQP.NOT_FOUND, () -> other.queueDeclarePassive(q));
        assertThat(inbox.waiting()).isZero();
    }

    @Test
    void emptyQueueNameWithoutADeclaredQueueIsNotFound() {
        AMQP.Channel.Close close = assertChannelClosedWith(AMQP.NOT_FOUND, () -> ch.queueBind("", "amq.direct", ""));
        assertThat(close.getReplyText()).isEqualTo("NOT_FOUND - no previously declared queue");
    }

    @Test
    void messageMatchingSeveralBindingsOfAQueueIsEnqueuedOnce() throws Exception {
        String q = ch.queueDeclare().getQueue();
        ch.queueBind(q, "amq.topic", "a.*");
        ch.queueBind(q, "amq.topic", "#");
        ch.queueBind(q, "amq.headers", "", Map.of("x-match", "any", "h", "1"));
        ch.queueBind(q, "amq.headers", "", Map.of("x-match", "all", "h", "1"));
        publish("amq.topic", "a.b", "once");
        ch.basicPublish("amq.headers", "", new AMQP.BasicProperties.Builder().headers(Map.of("h", "1")).build(),
                "also-once".getBytes(StandardCharsets.UTF_8));
        assertThat(drain(ch, q)).containsExactly("once", "also-once");
    }

    @Test
    void immediatePublishIsNotImplementedAndOnlyItsConnectionCloses() throws Exception {
        try (Connection bystander = broker.connect()) {
            Channel other = bystander.createChannel();
            ch.basicPublish("", "anything", false, true, null, new byte[0]);
            AMQP.Connection.Close close = awaitConnectionClosedWith(AMQP.NOT_IMPLEMENTED, conn);
            assertThat(close.getReplyText()).isEqualTo("NOT_IMPLEMENTED - immediate=true");
            assertThat(other.queueDeclare().getQueue()).as("the broker goes on").isNotEmpty();
        }
    }

    @Test
    void unbindingWhatDoesNotExistIsUnbindOk() throws Exception {
        String q = ch.queueDeclare().getQueue();
        ch.queueUnbind(q, "amq.direct", "never-bound");
        ch.queueUnbind("rr.no-such-queue", "amq.direct", "k");
        ch.queueUnbind(q, "rr.no-such-exchange", "k");
        ch.exchangeUnbind("rr.no-such-exchange", "amq.direct", "k");
        assertThat(ch.isOpen()).isTrue();
    }

    @Test
    void lineBreaksAreStrippedFromQueueAndExchangeNames() throws Exception {
        assertThat(ch.queueDeclare("rr.line\nbreak\r", false, false, true, null).getQueue())
                .isEqualTo("rr.linebreak");
        ch.exchangeDeclare("rr.ex\r\nchange", BuiltinExchangeType.DIRECT, false, true, null);
        ch.queueBind("rr.linebreak", "rr.exchange", "k");
        publish("rr.exchange", "k", "m");
        assertThat(drain(ch, "rr.linebreak")).containsExactly("m");
    }

    @Test
    void headersBindingWithAnUnknownXMatchIsPreconditionFailed() throws Exception {
        String q = ch.queueDeclare().getQueue();
        AMQP.Channel.Close close = assertChannelClosedWith(AMQP.PRECONDITION_FAILED,
                () -> ch.queueBind(q, "amq.headers", "", Map.of("x-match", "bogus")));
        assertThat(close.getReplyText()).isEqualTo("PRECONDITION_FAILED - Invalid x-match field value "
                + "<<\"bogus\">>; expected all, any, all-with-x, or any-with-x");
        Channel other = conn.createChannel();
        close = assertChannelClosedWith(AMQP.PRECONDITION_FAILED,
                () -> other.queueBind(q, "amq.headers", "", Map.of("x-match", 1)));
        assertThat(close.getReplyText())
                .isEqualTo("PRECONDITION_FAILED - Invalid x-match field type signedint (value 1); expected longstr");
    }

    @Test
    void withXModesAlsoMatchHeadersStartingWithX() throws Exception {
        String allWithX = ch.queueDeclare().getQueue();
        ch.queueBind(allWithX, "amq.headers", "", Map.of("x-match", "all-with-x", "x-kind", "a", "n", 1));
        String anyWithX = ch.queueDeclare().getQueue();
        ch.queueBind(anyWithX, "amq.headers", "", Map.of("x-match", "any-with-x", "x-kind", "a"));
        String any = ch.queueDeclare().getQueue();
        ch.queueBind(any, "amq.headers", "", Map.of("x-match", "any", "x-kind", "a"));

        ch.basicPublish("amq.headers", "", new AMQP.BasicProperties.Builder().headers(Map.of("x-kind", "a", "n", 1))
                .build(), "match".getBytes(StandardCharsets.UTF_8));
        ch.basicPublish("amq.headers", "", new AMQP.BasicProperties.Builder().headers(Map.of("x-kind", "b", "n", 1))
                .build(), "other-kind".getBytes(StandardCharsets.UTF_8));

        assertThat(drain(ch, allWithX)).containsExactly("match");
        assertThat(drain(ch, anyWithX)).containsExactly("match");
        assertThat(drain(ch, any)).as("x- keys count only with -with-x").isEmpty();
    }
}
