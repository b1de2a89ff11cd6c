package io.holdfast.it;

import static io.holdfast.it.Management.metrics;
import static io.holdfast.it.Management.sample;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.DefaultConsumer;
import com.rabbitmq.client.Envelope;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 10 item 3: a consumer draining a paged-out (cold) backlog gets it whole and in order, read on the
 * journal's reader threads, while another queue is served meanwhile; a cold body damaged on disk is dropped on
 * that path too; a cold queue purged or deleted while its reads are in flight reports no damage.
 */
class ColdBacklogTest {
    private static final int BODY_BYTES = 1024;

    @TempDir
    Path dir;

    private static byte[] body(int i) {
        return NumberedBodies.body(i, BODY_BYTES);
    }

    private static int number(byte[] body) {
        return NumberedBodies.number(body);
    }

    private static RunningBroker coldBroker(Path dir) throws Exception {
        return RunningBroker.start(dir, c -> c.toBuilder().residentMessageBytesMax(0).segmentBytesMax(512 * 1024).build());
    }

    private static void publishConfirmed(Channel ch, String queue, int from, int count) throws Exception {
        ch.confirmSelect();
        AMQP.BasicProperties persistent = new AMQP.BasicProperties.Builder().deliveryMode(2).build();
        for (int i = from; i < from + count; i++) {
            ch.basicPublish("", queue, persistent, body(i));
        }
        ch.waitForConfirmsOrDie(60_000);
    }

    /** Consumes {@code queue} with manual acks and prefetch {@code prefetch}, recording the numbers in order. */
    private static List<Integer> consume(Connection c, String queue, int prefetch) throws Exception {
        List<Integer> got = new CopyOnWriteArrayList<>();
        Channel ch = c.createChannel();
        ch.basicQos(prefetch);
        ch.basicConsume(queue, false, new DefaultConsumer(ch) {
            @Override
            public void handleDelivery(String tag, Envelope envelope, AMQP.BasicProperties props, byte[] body)
                    throws java.io.IOException {
                got.add(number(body));
                getChannel().basicAck(envelope.getDeliveryTag(), false);
            }
        });
        return got;
    }

    @Test
    void aColdBacklogDrainsWholeAndInOrderWhileAnotherQueueIsServed() throws Exception {
        int cold = 6000;
        int hot = 2000;
        try (RunningBroker broker = coldBroker(dir); Connection c = broker.connect(); Connection other = broker.connect()) {
            Channel ch = c.createChannel();
            ch.queueDeclare("cold", true, false, false, null);
            ch.queueDeclare("hot", true, false, false, null);
            publishConfirmed(ch, "cold", 0, cold);
            long readsBefore = sample(metrics(broker), "holdfast_message_journal_reads_total");

            List<Integer> hotGot = consume(other, "hot", 50);
            List<Integer> coldGot = consume(c, "cold", 100);
            publishConfirmed(other.createChannel(), "hot", 0, hot);

            await().atMost(Duration.ofSeconds(60)).until(() -> coldGot.size() >= cold && hotGot.size() >= hot);
            assertThat(coldGot).hasSize(cold).isSorted().doesNotHaveDuplicates();
            assertThat(hotGot).hasSize(hot).isSorted().doesNotHaveDuplicates();
            String m = metrics(broker);
            assertThat(sample(m, "holdfast_message_journal_reads_total") - readsBefore).as("read back from disk")
                    .isGreaterThanOrEqualTo(cold);
            assertThat(sample(m, "holdfast_message_read_failures_total")).isZero();
        }
    }

    @Test
    void aColdBodyDamagedOnDiskIsNeverDeliveredToAConsumer() throws Exception {
        try (RunningBroker broker = coldBroker(dir); Connection c = broker.connect()) {
            Channel ch = c.createChannel();
            ch.queueDeclare("cold", true, false, false, null);
            publishConfirmed(ch, "cold", 0, 300);
            damageBodyOf(150);

            List<Integer> got = consume(c, "cold", 20);

            await().atMost(Duration.ofSeconds(30)).until(() -> got.size() >= 299);
            assertThat(got).hasSize(299).isSorted().doesNotContain(150);
            assertThat(sample(metrics(broker), "holdfast_message_read_failures_total")).isEqualTo(1);
        }
    }

    @Test
    void aColdQueuePurgedOrDeletedWhileItsReadsAreInFlightReportsNoDamage() throws Exception {
        try (RunningBroker broker = coldBroker(dir); Connection c = broker.connect()) {
            Channel ch = c.createChannel();
            ch.queueDeclare("purged", true, false, false, null);
            ch.queueDeclare("deleted", true, false, false, null);
            publishConfirmed(ch, "purged", 0, 3000);
            publishConfirmed(ch, "deleted", 0, 3000);

            List<Integer> purgedGot = consume(c, "purged", 100);
            List<Integer> deletedGot = consume(c, "deleted", 100);
            await().atMost(Duration.ofSeconds(30)).until(() -> !purgedGot.isEmpty() && !deletedGot.isEmpty());
            int purged = ch.queuePurge("purged").getMessageCount();
            ch.queueDelete("deleted");

            publishConfirmed(ch, "purged", 3000, 10);
            await().atMost(Duration.ofSeconds(30)).until(() -> purgedGot.contains(3009));
            assertThat(purgedGot).isSorted().doesNotHaveDuplicates();
            assertThat(purgedGot.size() + purged).as("each delivered or purged, once").isEqualTo(3010);
            assertThat(deletedGot).isSorted().doesNotHaveDuplicates();
            assertThat(sample(metrics(broker), "holdfast_message_read_failures_total")).isZero();
        }
    }

    /** Flips a byte in the stored body of message {@code n}, as a failing disk would. */
    private void damageBodyOf(int n) throws Exception {
        JournalFiles.flipByteAt(dir.resolve("journal"), ByteBuffer.allocate(8).putInt(n).putInt(~n).array(), 100);
    }
}
