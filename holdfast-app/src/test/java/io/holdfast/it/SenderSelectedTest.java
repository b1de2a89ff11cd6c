package io.holdfast.it;

import static io.holdfast.it.AmqpAssertions.awaitChannelClosedWith;
import static io.holdfast.it.TopologyTest.drain;
import static org.assertj.core.api.Assertions.assertThat;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.BuiltinExchangeType;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.GetResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Sender-selected distribution: the {@code CC} and {@code BCC} headers add routing keys, as in RabbitMQ. */
class SenderSelectedTest extends SharedBrokerTest {
    private String bound(String exchange, String key) throws Exception {
        String q = ch.queueDeclare().getQueue();
        ch.queueBind(q, exchange, key);
        return q;
    }

    private void publish(String exchange, String key, Map<String, Object> headers, String body) throws Exception {
        ch.basicPublish(exchange, key, new AMQP.BasicProperties.Builder().headers(headers).build(),
                body.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void ccAndBccAddRoutingKeysOnADirectExchangeAndBccIsRemoved() throws Exception {
        ch.exchangeDeclare("ssd.direct", BuiltinExchangeType.DIRECT, false, true, null);
        String a = bound("ssd.direct", "a");
        String b = bound("ssd.direct", "b");
        String c = bound("ssd.direct", "c");
        String d = bound("ssd.direct", "d");

        publish("ssd.direct", "a", Map.of("CC", List.of("b", "a"), "BCC", List.of("c")), "m");

        assertThat(drain(ch, a)).as("one copy, though two keys match").containsExactly("m");
        assertThat(drain(ch, b)).containsExactly("m");
        assertThat(drain(ch, d)).isEmpty();
        GetResponse r = ch.basicGet(c, true);
        assertThat(new String(r.getBody(), StandardCharsets.UTF_8)).isEqualTo("m");
        assertThat(r.getProps().getHeaders()).as("BCC is gone before delivery").doesNotContainKey("BCC")
                .containsKey("CC");
        assertThat(r.getEnvelope().getRoutingKey()).as("the key it was published with").isEqualTo("a");
    }

    @Test
    void ccAddsRoutingKeysOnATopicExchangeAndKeepsTheHeader() throws Exception {
        ch.exchangeDeclare("ssd.topic", BuiltinExchangeType.TOPIC, false, true, null);
        String stock = bound("ssd.topic", "stock.#");

        publish("ssd.topic", "bond.x", Map.of("CC", List.of("stock.ibm", 42)), "m");

        GetResponse r = ch.basicGet(stock, true);
        assertThat(new String(r.getBody(), StandardCharsets.UTF_8)).isEqualTo("m");
        assertThat(r.getProps().getHeaders()).containsKey("CC");
    }

    @Test
    void ccThatIsNotAnArrayIsPreconditionFailedAndTheConnectionGoesOn() throws Exception {
        String q = ch.queueDeclare("ssd.bad", false, false, true, null).getQueue();
        publish("", q, Map.of("CC", "not-an-array"), "m");
        AMQP.Channel.Close close = awaitChannelClosedWith(AMQP.PRECONDITION_FAILED, ch);
        assertThat(close.getReplyText())
                .isEqualTo("PRECONDITION_FAILED - invalid message: {unacceptable_type_in_header,\"CC\",longstr}");
        Channel other = conn.createChannel();
        assertThat(other.queueDeclarePassive(q).getMessageCount()).isZero();
    }

    @Test
    void deadLetteringWithARoutingKeyDropsCcAndBcc() throws Exception {
        ch.exchangeDeclare("ssd.dlx", BuiltinExchangeType.DIRECT, false, true, null);
        String dead = bound("ssd.dlx", "dead");
        String work = ch.queueDeclare("ssd.work", false, false, true, Map.of("x-dead-letter-exchange", "ssd.dlx",
                "x-dead-letter-routing-key", "dead")).getQueue();
        publish("", work, Map.of("CC", List.of("elsewhere"), "keep", "me"), "m");

        GetResponse r = ch.basicGet(work, false);
        ch.basicReject(r.getEnvelope().getDeliveryTag(), false);

        GetResponse copy = ch.basicGet(dead, true);
        assertThat(copy).isNotNull();
        assertThat(copy.getProps().getHeaders()).containsKey("keep").doesNotContainKeys("CC", "BCC");
    }
}
