package io.holdfast.it;

import static io.holdfast.it.AmqpAssertions.awaitChannelClosedWith;
import static io.holdfast.it.Inbox.text;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.Delivery;
import com.rabbitmq.client.GetResponse;
import io.holdfast.core.ConsumerTimeoutAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The consumer timeout through the Java client (contract rule 2): a consumer that holds a delivery too
 * long is cancelled and the message goes to another, flagged redelivered; with
 * {@code consumer_timeout.action = close_channel} its channel is closed with 406 instead.
 */
class ConsumerTimeoutTest {
    @TempDir
    Path dir;

    private static void publish(Channel ch, String queue, String body) throws Exception {
        ch.basicPublish("", queue, null, body.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void aConsumerThatNeverAcksIsCancelledAndAnotherGetsTheMessageRedelivered() throws Exception {
        try (RunningBroker broker = RunningBroker.start(dir, c -> c.toBuilder().consumerTimeoutMillis(500).build());
             Connection conn = broker.connect()) {
            assertLateConsumerIsCancelled(conn, "q", Map.of());
        }
    }

    @Test
    void theQueueArgumentSetsTheTimeoutForItsDeliveries() throws Exception {
        try (RunningBroker broker = RunningBroker.start(dir); Connection conn = broker.connect()) {
            assertLateConsumerIsCancelled(conn, "q-arg", Map.of("x-consumer-timeout", 500));
        }
    }

    private static void assertLateConsumerIsCancelled(Connection conn, String q, Map<String, Object> args)
            throws Exception {
        Channel ch = conn.createChannel();
        ch.queueDeclare(q, false, false, false, args);
        ch.queueDeclare(q + "-other", false, false, false, Map.of());
        Inbox late = new Inbox(ch);
        ch.basicConsume(q, false, late);
        Inbox steady = new Inbox(ch);
        ch.basicConsume(q + "-other", false, steady);
        publish(ch, q, "held");
        Delivery held = late.next();
        assertThat(held.getEnvelope().isRedeliver()).isFalse();

        Channel otherCh = conn.createChannel();
        Inbox second = new Inbox(otherCh);
        otherCh.basicConsume(q, false, second); // waits behind the late consumer for its turn

        assertThat(late.cancelledByBroker.get(10, TimeUnit.SECONDS)).isNotEmpty();
        Delivery again = second.next();
        assertThat(text(again)).isEqualTo("held");
        assertThat(again.getEnvelope().isRedeliver()).isTrue();
        otherCh.basicAck(again.getEnvelope().getDeliveryTag(), false);

        // The channel and its other consumer go on.
        assertThat(ch.isOpen()).isTrue();
        publish(ch, q + "-other", "still here");
        Delivery d = steady.next();
        assertThat(text(d)).isEqualTo("still here");
        ch.basicAck(d.getEnvelope().getDeliveryTag(), false);
        await().atMost(Duration.ofSeconds(10)).until(() -> otherCh.queueDeclarePassive(q).getMessageCount() == 0
                && otherCh.messageCount(q + "-other") == 0);

        // The expired tag is no longer the late consumer's to settle: 406, never a second settle.
        ch.basicAck(held.getEnvelope().getDeliveryTag(), false);
        AMQP.Channel.Close close = awaitChannelClosedWith(406, ch);
        assertThat(close.getReplyText()).contains("unknown delivery tag " + held.getEnvelope().getDeliveryTag());
        assertThat(conn.isOpen()).isTrue();
    }

    @Test
    void closeChannelModeClosesTheChannelWith406AndRequeues() throws Exception {
        try (RunningBroker broker = RunningBroker.start(dir, c -> c.toBuilder().consumerTimeoutMillis(500)
                .consumerTimeoutAction(ConsumerTimeoutAction.CLOSE_CHANNEL).build());
             Connection conn = broker.connect()) {
            Channel ch = conn.createChannel();
            ch.queueDeclare("q", false, false, false, Map.of());
            Inbox late = new Inbox(ch);
            ch.basicConsume("q", false, late);
            publish(ch, "q", "held");
            late.next();

            AMQP.Channel.Close close = awaitChannelClosedWith(406, ch);
            assertThat(close.getReplyText()).isEqualTo("PRECONDITION_FAILED - delivery acknowledgement on channel "
                    + ch.getChannelNumber() + " timed out. Timeout value used: 500 ms. This timeout value can be"
                    + " configured, see consumers doc guide to learn more");
            assertThat(late.cancelledByBroker).isNotDone();

            assertThat(conn.isOpen()).isTrue();
            Channel fresh = conn.createChannel();
            GetResponse got = fresh.basicGet("q", true);
            assertThat(got).isNotNull();
            assertThat(new String(got.getBody(), StandardCharsets.UTF_8)).isEqualTo("held");
            assertThat(got.getEnvelope().isRedeliver()).isTrue();
        }
    }
}
