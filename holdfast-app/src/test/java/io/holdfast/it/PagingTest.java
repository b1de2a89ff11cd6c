package io.holdfast.it;

import static io.holdfast.it.Management.metrics;
import static io.holdfast.it.Management.request;
import static io.holdfast.it.Management.sample;
import static org.assertj.core.api.Assertions.assertThat;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.GetResponse;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 3 point 4 (contract rule 7): beyond {@code message_memory_limit.absolute} the bodies of stored
 * messages live only on disk; they are read back, CRC checked, when delivered, with every property
 * intact and in order. A body damaged on disk after it was confirmed is never served.
 */
class PagingTest {
    @TempDir
    Path dir;

    private static AMQP.BasicProperties props(int i) {
        return new AMQP.BasicProperties.Builder().deliveryMode(2).correlationId("c" + i).priority(i % 10)
                .headers(Map.of("n", i)).build();
    }

    private static byte[] body(int i) {
        byte[] b = new byte[1024];
        byte[] tag = ("message-" + i + "-").getBytes(StandardCharsets.UTF_8);
        for (int k = 0; k < b.length; k++) {
            b[k] = tag[k % tag.length];
        }
        return b;
    }

    @Test
    void aBacklogBeyondTheMemoryLimitIsDeliveredFromDiskIntactAndInOrder() throws Exception {
        int count = 2000;
        try (RunningBroker broker = RunningBroker.start(dir, c -> c.toBuilder().residentMessageBytesMax(64 * 1024)
                .segmentBytesMax(256 * 1024).build())) {
            try (Connection c = broker.connect()) {
                Channel ch = c.createChannel();
                ch.queueDeclare("backlog", true, false, false, null);
                ch.confirmSelect();
                for (int i = 0; i < count; i++) {
                    ch.basicPublish("", "backlog", props(i), body(i));
                }
                ch.waitForConfirmsOrDie(30_000);
                String m = metrics(broker);
                assertThat(sample(m, "holdfast_message_resident_bytes")).as("within the limit").isLessThanOrEqualTo(64 * 1024);

                GetResponse first = ch.basicGet("backlog", false);
                ch.basicNack(first.getEnvelope().getDeliveryTag(), false, true); // back to the head, read again
                List<Integer> seen = new ArrayList<>();
                GetResponse r;
                while ((r = ch.basicGet("backlog", false)) != null) {
                    int n = (Integer) r.getProps().getHeaders().get("n");
                    assertThat(r.getBody()).as("body of %d", n).isEqualTo(body(n));
                    assertThat(r.getProps().getCorrelationId()).isEqualTo("c" + n);
                    assertThat(r.getProps().getPriority()).isEqualTo(n % 10);
                    assertThat(r.getEnvelope().isRedeliver()).isEqualTo(n == 0);
                    seen.add(n);
                    ch.basicAck(r.getEnvelope().getDeliveryTag(), false);
                }
                assertThat(seen).hasSize(count).isSorted();
                m = metrics(broker);
                assertThat(sample(m, "holdfast_message_journal_reads_total")).as("most came from disk")
                        .isGreaterThan(count - 100);
                assertThat(sample(m, "holdfast_message_read_failures_total")).isZero();
                assertThat(sample(m, "holdfast_message_resident_bytes")).isZero();
            }
        }
    }

    @Test
    void aPagedOutBodyDamagedOnDiskIsDroppedAndNeverDelivered() throws Exception {
        try (RunningBroker broker = RunningBroker.start(dir, c -> c.toBuilder().residentMessageBytesMax(0).build())) {
            try (Connection c = broker.connect()) {
                Channel ch = c.createChannel();
                ch.queueDeclare("q", true, false, false, null);
                ch.confirmSelect();
                for (String s : new String[] {"first", "second", "third"}) {
                    ch.basicPublish("", "q", props(0), ("body of the " + s + " message").getBytes(StandardCharsets.UTF_8));
                }
                ch.waitForConfirmsOrDie(10_000);

                flipByteOf("body of the second message");

                List<String> got = new ArrayList<>();
                GetResponse r;
                while ((r = ch.basicGet("q", true)) != null) {
                    got.add(new String(r.getBody(), StandardCharsets.UTF_8));
                }
                assertThat(got).containsExactly("body of the first message", "body of the third message");
                assertThat(sample(metrics(broker), "holdfast_message_read_failures_total")).isEqualTo(1);
                assertThat(ch.isOpen()).as("the damage costs the message, not the channel").isTrue();
                HttpResponse<String> health = request(broker, "GET", "/api/health");
                assertThat(health.statusCode()).as("degraded until acknowledged").isEqualTo(503);
                assertThat(health.body()).contains("\"unreadable_messages_dropped\":1");
                assertThat(request(broker, "POST", "/api/health/acknowledge").statusCode()).isEqualTo(200);
                assertThat(request(broker, "GET", "/api/health").statusCode()).isEqualTo(200);
            }
        }
    }

    /** Flips one byte of {@code text} where it is stored in the journal, as a failing disk would. */
    private void flipByteOf(String text) throws Exception {
        JournalFiles.flipByteAt(dir.resolve("journal"), text.getBytes(StandardCharsets.UTF_8), 5);
    }
}
