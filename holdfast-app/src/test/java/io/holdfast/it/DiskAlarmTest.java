package io.holdfast.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.BlockedListener;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.DeliverCallback;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Issue 3 point 6: below disk_free_limit publishers are blocked, consumers go on, and it clears. */
class DiskAlarmTest {
    @TempDir
    Path dir;

    @Test
    void lowDiskBlocksPublishersButNotConsumersUntilSpaceReturns() throws Exception {
        try (RunningBroker broker = RunningBroker.start(dir);
             Connection publisher = broker.connect();
             Connection consumer = broker.connect()) {
            CountDownLatch blocked = new CountDownLatch(1);
            CountDownLatch unblocked = new CountDownLatch(1);
            List<String> reasons = new CopyOnWriteArrayList<>();
            publisher.addBlockedListener(new BlockedListener() {
                @Override
                public void handleBlocked(String reason) {
                    reasons.add(reason);
                    blocked.countDown();
                }

                @Override
                public void handleUnblocked() {
                    unblocked.countDown();
                }
            });
            Channel pub = publisher.createChannel();
            pub.queueDeclare("alarm-q", true, false, false, null);
            pub.confirmSelect();
            AMQP.BasicProperties persistent = new AMQP.BasicProperties.Builder().deliveryMode(2).build();
            pub.basicPublish("", "alarm-q", persistent, "before".getBytes(StandardCharsets.UTF_8));
            pub.waitForConfirmsOrDie(10_000);

            broker.server().diskMonitor().setLimitBytes(Long.MAX_VALUE);
            assertThat(blocked.await(10, TimeUnit.SECONDS)).as("connection.blocked received").isTrue();
            assertThat(reasons).containsExactly("low on disk");

            List<String> received = new CopyOnWriteArrayList<>();
            Channel con = consumer.createChannel();
            DeliverCallback onMessage = (tag, d) -> {
                received.add(new String(d.getBody(), StandardCharsets.UTF_8));
                con.basicAck(d.getEnvelope().getDeliveryTag(), false);
            };
            con.basicConsume("alarm-q", false, onMessage, tag -> { });
            await().atMost(Duration.ofSeconds(10)).until(() -> received.contains("before"));

            pub.basicPublish("", "alarm-q", persistent, "during".getBytes(StandardCharsets.UTF_8));
            await().during(Duration.ofMillis(700)).atMost(Duration.ofSeconds(2))
                    .until(() -> !received.contains("during"));

            broker.server().diskMonitor().setLimitBytes(0);
            assertThat(unblocked.await(10, TimeUnit.SECONDS)).as("connection.unblocked received").isTrue();
            pub.waitForConfirmsOrDie(10_000);
            await().atMost(Duration.ofSeconds(10)).until(() -> received.contains("during"));
            assertThat(received).containsExactly("before", "during");
        }
    }
}
