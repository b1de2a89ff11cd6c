package io.holdfast.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** The per-queue counts the management API turns into RabbitMQ's {@code message_stats}: publish, deliver_get, ack. */
class QueueCountsTest {
    @Test
    void publishesDeliveriesGetsRedeliveriesAndAcksAreCounted() {
        BrokerFixture f = new BrokerFixture();
        ChannelState ch = f.channel(1);
        f.topology.declareQueue(ch, "q", false, false, false, false, Map.of());
        f.publishTo(ch, "q", "a", "b", "c");
        Broker.GetResult first = f.broker.get(ch, "q", false, 0);
        f.broker.reject(ch, first.deliveryTag(), false, true); // back, redelivered next time
        Broker.GetResult again = f.broker.get(ch, "q", false, 0);
        f.broker.ack(ch, again.deliveryTag(), false);
        ChannelState consumer = f.channel(2);
        f.consume(consumer, "q", true);

        Queue q = f.queueState("q");
        assertThat(q.publishedTotal()).isEqualTo(3);
        assertThat(q.deliveredTotal()).as("two gets and two deliveries").isEqualTo(4);
        assertThat(q.redeliveredTotal()).isEqualTo(1);
        assertThat(q.ackedTotal()).as("no-ack deliveries are not acks").isEqualTo(1);
    }
}
