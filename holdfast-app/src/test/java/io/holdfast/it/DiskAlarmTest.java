package io.holdfast.it;

import static io.holdfast.it.AlarmWatch.consume;
import static io.holdfast.it.AlarmWatch.recordBlocking;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
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
            List<String> events = recordBlocking(publisher);
            Channel pub = publisher.createChannel();
            pub.queueDeclare("alarm-q", true, false, false, null);
            pub.confirmSelect();
            AMQP.BasicProperties persistent = new AMQP.BasicProperties.Builder().deliveryMode(2).build();
            pub.basicPublish("", "alarm-q", persistent, "before".getBytes(StandardCharsets.UTF_8));
            pub.waitForConfirmsOrDie(10_000);

            broker.server().diskMonitor().setLimitBytes(Long.MAX_VALUE);
            await("connection.blocked received").atMost(Duration.ofSeconds(10)).until(() -> !events.isEmpty());
            assertThat(events).containsExactly("blocked: low on disk");

            List<String> received = consume(consumer, "alarm-q");
            await().atMost(Duration.ofSeconds(10)).until(() -> received.contains("before"));

            pub.basicPublish("", "alarm-q", persistent, "during".getBytes(StandardCharsets.UTF_8));
            await().during(Duration.ofMillis(700)).atMost(Duration.ofSeconds(2))
                    .until(() -> !received.contains("during"));

            broker.server().diskMonitor().setLimitBytes(0);
            await("connection.unblocked received").atMost(Duration.ofSeconds(10))
                    .until(() -> events.contains("unblocked"));
            pub.waitForConfirmsOrDie(10_000);
            await().atMost(Duration.ofSeconds(10)).until(() -> received.contains("during"));
            assertThat(received).containsExactly("before", "during");
            assertThat(events).containsExactly("blocked: low on disk", "unblocked");
        }
    }
}
