package io.holdfast.it;

import static io.holdfast.it.AmqpAssertions.assertChannelClosedWith;
import static io.holdfast.it.Inbox.texts;
import static org.assertj.core.api.Assertions.assertThat;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Delivery;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Issue 13 points 5 and 7 through the Java client: consumer priorities ({@code x-priority} on basic.consume) and
 * RabbitMQ's meaning of basic.qos (global: shared by the channel's consumers, no-ack ones included; not global:
 * per consumer, for consumers created after it), with round-robin among consumers that have room.
 */
class ConsumerPriorityTest extends SharedBrokerTest {
    private void publish(String queue, String... bodies) throws Exception {
        ch.confirmSelect();
        for (String body : bodies) {
            ch.basicPublish("", queue, null, body.getBytes(StandardCharsets.UTF_8));
        }
        ch.waitForConfirmsOrDie(10_000);
    }

    private static Inbox consume(Channel c, String queue, int priority) throws Exception {
        Inbox inbox = new Inbox(c);
        c.basicConsume(queue, false, Map.of("x-priority", priority), inbox);
        return inbox;
    }

    @Test
    void theHighestPriorityConsumerGetsMessagesWhileItHasRoom() throws Exception {
        ch.queueDeclare("prio-room", false, false, true, null);
        Channel lowCh = conn.createChannel();
        Inbox low = consume(lowCh, "prio-room", 1);
        Channel highCh = conn.createChannel();
        highCh.basicQos(2);
        Inbox high = consume(highCh, "prio-room", 10);

        publish("prio-room", "1", "2", "3", "4");

        List<Delivery> toHigh = high.next(2);
        assertThat(texts(toHigh)).containsExactly("1", "2");
        assertThat(texts(low.next(2))).as("the low one only once the high one is full").containsExactly("3", "4");
        highCh.basicAck(toHigh.get(1).getEnvelope().getDeliveryTag(), true);
        publish("prio-room", "5", "6");
        assertThat(texts(high.next(2))).containsExactly("5", "6");
        assertThat(low.waiting()).isZero();
    }

    @Test
    void consumersOfEqualPriorityTakeTurnsAndLowerOnesWait() throws Exception {
        ch.queueDeclare("prio-turns", false, false, true, null);
        Channel c = conn.createChannel();
        Inbox a = consume(c, "prio-turns", 5);
        Inbox b = consume(c, "prio-turns", 5);
        Inbox lower = consume(c, "prio-turns", -1);

        publish("prio-turns", "1", "2", "3", "4");

        assertThat(texts(a.next(2))).containsExactly("1", "3");
        assertThat(texts(b.next(2))).containsExactly("2", "4");
        assertThat(lower.waiting()).isZero();
    }

    @Test
    void aNonIntegerPriorityIsRefusedWith406AndTheConnectionGoesOn() throws Exception {
        ch.queueDeclare("prio-bad", false, false, false, null);
        Channel c = conn.createChannel();

        AMQP.Channel.Close close = assertChannelClosedWith(406,
                () -> c.basicConsume("prio-bad", false, Map.of("x-priority", "high"), new Inbox(c)));

        assertThat(close.getReplyText()).isEqualTo("PRECONDITION_FAILED - invalid arg 'x-priority' for queue "
                + "'prio-bad' in vhost '/': {unacceptable_type,longstr}");
        assertThat(ch.queueDeclarePassive("prio-bad").getConsumerCount()).isZero();
        ch.queueDelete("prio-bad");
    }

    @Test
    void globalPrefetchIsSharedByTheChannelsConsumersAndHoldsBackNoAckOnes() throws Exception {
        ch.queueDeclare("qos-global-a", false, false, true, null);
        ch.queueDeclare("qos-global-b", false, false, true, null);
        Channel c = conn.createChannel();
        c.basicQos(2, true);
        Inbox a = new Inbox(c);
        c.basicConsume("qos-global-a", false, a);
        Inbox noAck = new Inbox(c);
        c.basicConsume("qos-global-b", true, noAck);

        publish("qos-global-a", "a1", "a2", "a3");
        List<Delivery> taken = a.next(2);
        publish("qos-global-b", "b1", "b2");
        assertThat(ch.queueDeclarePassive("qos-global-b").getMessageCount())
                .as("the no-ack consumer waits while its channel is at its shared limit").isEqualTo(2);

        c.basicAck(taken.get(1).getEnvelope().getDeliveryTag(), true);
        assertThat(texts(noAck.next(2))).containsExactly("b1", "b2");
        assertThat(texts(a.next(1))).containsExactly("a3");
    }

    @Test
    void perConsumerPrefetchAppliesToConsumersCreatedAfterIt() throws Exception {
        ch.queueDeclare("qos-per-consumer", false, false, true, null);
        Channel c = conn.createChannel();
        Inbox unlimited = new Inbox(c);
        c.basicConsume("qos-per-consumer", false, unlimited);
        c.basicQos(1);
        Inbox limited = new Inbox(c);
        c.basicConsume("qos-per-consumer", false, limited);

        publish("qos-per-consumer", "1", "2", "3", "4", "5");

        assertThat(texts(unlimited.next(4))).as("round-robin while both have room, then all to the one with room")
                .containsExactly("1", "3", "4", "5");
        assertThat(texts(limited.next(1))).containsExactly("2");
        assertThat(limited.waiting()).isZero();
    }
}
