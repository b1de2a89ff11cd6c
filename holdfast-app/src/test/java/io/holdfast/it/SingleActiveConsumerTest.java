package io.holdfast.it;

import static io.holdfast.it.AmqpAssertions.assertChannelClosedWith;
import static io.holdfast.it.Inbox.text;
import static io.holdfast.it.Inbox.texts;
import static org.assertj.core.api.Assertions.assertThat;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.Delivery;
import com.rabbitmq.client.MessageProperties;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code x-single-active-consumer} through the Java client: one consumer at a time, handed over in order. */
class SingleActiveConsumerTest extends SharedBrokerTest {
    private static final Map<String, Object> SAC = Map.of("x-single-active-consumer", true);

    @BeforeEach
    void confirms() throws IOException {
        ch.confirmSelect();
    }

    @Test
    void closingTheActiveConnectionHandsEveryRemainingMessageToTheNextInOrder() throws Exception {
        ch.queueDeclare("sac-handover", true, false, false, SAC);
        Connection firstConn = broker.connect();
        Connection secondConn = broker.connect();
        try {
            Channel first = firstConn.createChannel();
            first.basicQos(5);
            Inbox firstInbox = new Inbox(first);
            first.basicConsume("sac-handover", false, firstInbox);
            Channel second = secondConn.createChannel();
            Inbox secondInbox = new Inbox(second);
            second.basicConsume("sac-handover", false, secondInbox);

            publish("sac-handover", 1, 10);
            List<Delivery> taken = firstInbox.next(5);
            assertThat(texts(taken)).containsExactly("1", "2", "3", "4", "5");
            first.basicAck(taken.get(1).getEnvelope().getDeliveryTag(), true);
            assertThat(texts(firstInbox.next(2))).as("prefetch 5: two acks free room for two more")
                    .containsExactly("6", "7");
            assertThat(ch.queueDeclarePassive("sac-handover").getConsumerCount())
                    .as("the waiting consumer is registered").isEqualTo(2);

            firstConn.close();
            publish("sac-handover", 11, 20);

            // Had the second consumer received anything while the first was active, "6" would come first.
            List<Delivery> handedOver = secondInbox.next(18);
            assertThat(texts(handedOver)).containsExactlyElementsOf(range(3, 20));
            assertThat(handedOver).extracting(d -> d.getEnvelope().isRedeliver())
                    .as("the first consumer's unacked five come back first, redelivered")
                    .containsExactlyElementsOf(IntStream.rangeClosed(3, 20).mapToObj(i -> i <= 7).toList());
            second.basicAck(handedOver.get(17).getEnvelope().getDeliveryTag(), true);
            assertThat(firstInbox.waiting()).isZero();
            assertThat(ch.queueDeclarePassive("sac-handover").getMessageCount()).isZero();
        } finally {
            if (firstConn.isOpen()) {
                firstConn.close();
            }
            secondConn.close();
        }
    }

    @Test
    void onlyTheFirstConsumerReceivesUntilItCancels() throws Exception {
        ch.queueDeclare("sac-cancel", false, false, false, SAC);
        Connection firstConn = broker.connect();
        Connection secondConn = broker.connect();
        try {
            Channel first = firstConn.createChannel();
            Inbox firstInbox = new Inbox(first);
            String firstTag = first.basicConsume("sac-cancel", true, firstInbox);
            Channel second = secondConn.createChannel();
            Inbox secondInbox = new Inbox(second);
            second.basicConsume("sac-cancel", true, secondInbox);

            publish("sac-cancel", 1, 10);
            assertThat(texts(firstInbox.next(10))).containsExactlyElementsOf(range(1, 10));

            first.basicCancel(firstTag);
            firstInbox.cancelOk.get(10, TimeUnit.SECONDS);
            publish("sac-cancel", 11, 15);
            assertThat(text(secondInbox.next())).as("the second consumer received nothing before").isEqualTo("11");
            assertThat(texts(secondInbox.next(4))).containsExactlyElementsOf(range(12, 15));
            assertThat(firstInbox.waiting()).isZero();
        } finally {
            firstConn.close();
            secondConn.close();
        }
    }

    @Test
    void aNonBooleanArgumentIsRefusedWith406() {
        AMQP.Channel.Close close = assertChannelClosedWith(AMQP.PRECONDITION_FAILED,
                () -> ch.queueDeclare("sac-bad", false, false, false, Map.of("x-single-active-consumer", "yes")));
        assertThat(close.getReplyText()).contains("x-single-active-consumer");
    }

    @Test
    void theArgumentSurvivesARestartAndIsComparedOnRedeclare(@TempDir Path ownDir) throws Exception {
        try (RunningBroker own = RunningBroker.start(ownDir)) {
            try (Connection c = own.connect()) {
                c.createChannel().queueDeclare("sac-durable", true, false, false, SAC);
            }
            own.restart();
            try (Connection c = own.connect()) {
                Channel redeclare = c.createChannel();
                assertThat(redeclare.queueDeclare("sac-durable", true, false, false, SAC).getQueue())
                        .isEqualTo("sac-durable");
                AMQP.Channel.Close close = assertChannelClosedWith(AMQP.PRECONDITION_FAILED,
                        () -> redeclare.queueDeclare("sac-durable", true, false, false, Map.of()));
                assertThat(close.getReplyText()).contains("x-single-active-consumer");
            }
        }
    }

    private void publish(String queue, int from, int to) throws Exception {
        for (int i = from; i <= to; i++) {
            ch.basicPublish("", queue, MessageProperties.PERSISTENT_BASIC,
                    String.valueOf(i).getBytes(StandardCharsets.UTF_8));
        }
        assertThat(ch.waitForConfirms(10_000)).isTrue();
    }

    private static List<String> range(int from, int to) {
        return IntStream.rangeClosed(from, to).mapToObj(String::valueOf).toList();
    }
}
