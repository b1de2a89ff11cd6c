package io.holdfast.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.GetResponse;
import io.holdfast.server.engine.Engine;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 3 point 5: settled segments are deleted, a segment pinned by one old message is compacted,
 * and after a full drain the journal is back to (almost) nothing, without losing the old message.
 */
class SpaceReclaimTest {
    private static final AMQP.BasicProperties PERSISTENT = new AMQP.BasicProperties.Builder().deliveryMode(2).build();

    @TempDir
    Path dir;

    @Test
    void oneOldMessageDoesNotPinTheJournal() throws Exception {
        try (RunningBroker broker = RunningBroker.start(dir, c -> c.toBuilder().segmentBytesMax(256 * 1024).build())) {
            Engine engine = broker.server().engine();
            try (Connection c = broker.connect()) {
                Channel ch = c.createChannel();
                ch.queueDeclare("old", true, false, false, null);
                ch.queueDeclare("busy", true, false, false, null);
                ch.confirmSelect();
                ch.basicPublish("", "old", PERSISTENT, "the old one".getBytes(StandardCharsets.UTF_8));
                byte[] body = new byte[1024];
                for (int i = 0; i < 3000; i++) {
                    ch.basicPublish("", "busy", PERSISTENT, body);
                }
                ch.waitForConfirmsOrDie(30_000);
                assertThat(engine.journalSegments()).as("3 MB of messages fill several segments").isGreaterThan(8);

                GetResponse r;
                while ((r = ch.basicGet("busy", false)) != null) {
                    ch.basicAck(r.getEnvelope().getDeliveryTag(), false);
                }
                await().atMost(Duration.ofSeconds(20)).untilAsserted(() ->
                        assertThat(engine.journalSegments()).as("segments left after compaction").isLessThanOrEqualTo(3));
            }
            broker.restart();
            try (Connection c = broker.connect()) {
                Channel ch = c.createChannel();
                GetResponse old = ch.basicGet("old", false);
                assertThat(old).isNotNull();
                assertThat(new String(old.getBody(), StandardCharsets.UTF_8)).isEqualTo("the old one");
                assertThat(ch.basicGet("old", false)).as("moved, not copied").isNull();
                assertThat(ch.basicGet("busy", true)).isNull();
                ch.basicAck(old.getEnvelope().getDeliveryTag(), false);
            }
            Engine restarted = broker.server().engine();
            await().atMost(Duration.ofSeconds(20)).untilAsserted(() ->
                    assertThat(restarted.journalDiskBytes()).as("journal after a full drain").isLessThan(300 * 1024));
        }
    }
}
