package io.holdfast.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.DefaultConsumer;
import com.rabbitmq.client.Envelope;
import com.rabbitmq.client.GetResponse;
import com.rabbitmq.client.ShutdownSignalException;
import io.holdfast.server.config.ServerConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 4 point 10: {@code x-max-priority} queues as RabbitMQ's classic priority queues, over the wire with the
 * RabbitMQ Java client: higher priority first, each priority in publish order, a nacked message back at its place
 * within its priority, and the order kept across a restart, with the bodies in memory or all on disk.
 */
class PriorityQueueTest {
    @TempDir
    Path dir;

    /** Priorities of the messages published, in publish order: body "i:p" for the i-th with priority p. */
    private static final int[] PRIORITIES = {0, 5, 9, 5, 0, 3, 9, 12, 3, 0, 1};

    private static AMQP.BasicProperties props(Integer priority) {
        return new AMQP.BasicProperties.Builder().deliveryMode(2).contentType("text/plain")
                .headers(Map.of("h", "v")).priority(priority).build();
    }

    private static void publishAll(Channel ch, String queue) throws Exception {
        ch.confirmSelect();
        for (int i = 0; i < PRIORITIES.length; i++) {
            ch.basicPublish("", queue, props(PRIORITIES[i]), (i + ":" + PRIORITIES[i]).getBytes(StandardCharsets.UTF_8));
        }
        ch.basicPublish("", queue, props(null), ("none").getBytes(StandardCharsets.UTF_8));
        ch.waitForConfirmsOrDie(10_000);
    }

    /** The order a queue with {@code x-max-priority} 10 must give them: 12 counts as 10, no priority as 0. */
    private static final List<String> EXPECTED = List.of("7:12", "2:9", "6:9", "1:5", "3:5", "5:3", "8:3", "10:1",
            "0:0", "4:0", "9:0", "none");

    private static void declare(Channel ch, String queue) throws IOException {
        ch.queueDeclare(queue, true, false, false, Map.of("x-max-priority", 10));
    }

    private static List<String> consumeAll(Channel ch, String queue, int count) throws Exception {
        ch.basicQos(1);
        LinkedBlockingQueue<String> got = new LinkedBlockingQueue<>();
        String tag = ch.basicConsume(queue, false, new DefaultConsumer(ch) {
            @Override
            public void handleDelivery(String consumerTag, Envelope envelope, AMQP.BasicProperties properties,
                                       byte[] body) throws IOException {
                got.add(new String(body, StandardCharsets.UTF_8));
                getChannel().basicAck(envelope.getDeliveryTag(), false);
            }
        });
        List<String> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            String s = got.poll(10, TimeUnit.SECONDS);
            assertThat(s).as("delivery %d of %d", i, count).isNotNull();
            out.add(s);
        }
        ch.basicCancel(tag);
        return out;
    }

    @Test
    void consumersGetHigherPriorityFirstAndEachPriorityInPublishOrder() throws Exception {
        try (RunningBroker broker = RunningBroker.start(dir); Connection c = broker.connect()) {
            Channel ch = c.createChannel();
            declare(ch, "pq");
            publishAll(ch, "pq");
            assertThat(consumeAll(ch, "pq", EXPECTED.size())).containsExactlyElementsOf(EXPECTED);
        }
    }

    @Test
    void aNackedMessageGoesBackToItsPlaceWithinItsPriority() throws Exception {
        try (RunningBroker broker = RunningBroker.start(dir); Connection c = broker.connect()) {
            Channel ch = c.createChannel();
            declare(ch, "pq");
            publishAll(ch, "pq");
            GetResponse first = ch.basicGet("pq", false); // 7:12
            GetResponse second = ch.basicGet("pq", false); // 2:9
            assertThat(new String(second.getBody(), StandardCharsets.UTF_8)).isEqualTo("2:9");
            ch.basicNack(second.getEnvelope().getDeliveryTag(), false, true);
            ch.basicNack(first.getEnvelope().getDeliveryTag(), false, true);

            GetResponse again = ch.basicGet("pq", true);
            assertThat(new String(again.getBody(), StandardCharsets.UTF_8)).isEqualTo("7:12");
            assertThat(again.getEnvelope().isRedeliver()).isTrue();
            assertThat(consumeAll(ch, "pq", EXPECTED.size() - 1)).containsExactlyElementsOf(EXPECTED.subList(1,
                    EXPECTED.size()));
        }
    }

    @Test
    void deliveriesReturnedByAChannelCloseGoBackToTheirPlacesAcrossPriorities() throws Exception {
        try (RunningBroker broker = RunningBroker.start(dir); Connection c = broker.connect()) {
            Channel ch = c.createChannel();
            declare(ch, "pq");
            publishAll(ch, "pq");
            Channel taker = c.createChannel();
            List<Long> tags = new ArrayList<>();
            for (int i = 0; i < 6; i++) { // 7:12 2:9 6:9 1:5 3:5 5:3, across four priorities
                tags.add(taker.basicGet("pq", false).getEnvelope().getDeliveryTag());
            }
            taker.basicNack(tags.get(1), true, true); // 7:12 and 2:9 back at once
            ch.basicPublish("", "pq", props(9), "late:9".getBytes(StandardCharsets.UTF_8));
            ch.basicPublish("", "pq", props(3), "late:3".getBytes(StandardCharsets.UTF_8));

            taker.close(); // 6:9 1:5 3:5 5:3 back to their places

            List<String> expected = new ArrayList<>(EXPECTED);
            expected.add(expected.indexOf("1:5"), "late:9");
            expected.add(expected.indexOf("10:1"), "late:3");
            assertThat(consumeAll(ch, "pq", expected.size())).containsExactlyElementsOf(expected);
        }
    }

    @Test
    void theOrderSurvivesARestart() throws Exception {
        survivesRestart(UnaryOperator.identity());
    }

    @Test
    void theOrderSurvivesARestartWithEveryBodyOnDisk() throws Exception {
        survivesRestart(c -> c.toBuilder().residentMessageBytesMax(0).build());
    }

    private void survivesRestart(UnaryOperator<ServerConfig> tweak) throws Exception {
        try (RunningBroker broker = RunningBroker.start(dir, tweak)) {
            try (Connection c = broker.connect()) {
                Channel ch = c.createChannel();
                declare(ch, "pq");
                publishAll(ch, "pq");
                GetResponse taken = ch.basicGet("pq", false); // 7:12, out for delivery at the restart
                assertThat(new String(taken.getBody(), StandardCharsets.UTF_8)).isEqualTo("7:12");
                GetResponse nacked = ch.basicGet("pq", false); // 2:9, back at its place before the restart
                ch.basicNack(nacked.getEnvelope().getDeliveryTag(), false, true);
            }
            broker.restart();
            try (Connection c = broker.connect()) {
                Channel ch = c.createChannel();
                declare(ch, "pq"); // the redeclaration matches the recovered queue
                assertThat(consumeAll(ch, "pq", EXPECTED.size())).containsExactlyElementsOf(EXPECTED);
                publishAll(ch, "pq"); // and it still sorts new messages after the restart
                assertThat(consumeAll(ch, "pq", EXPECTED.size())).containsExactlyElementsOf(EXPECTED);
            }
        }
    }

    @Test
    void anInvalidMaxPriorityOrAnotherOnRedeclareIsRefused() throws Exception {
        try (RunningBroker broker = RunningBroker.start(dir); Connection c = broker.connect()) {
            Channel ch = c.createChannel();
            assertThatThrownBy(() -> ch.queueDeclare("bad", true, false, false, Map.of("x-max-priority", 256)))
                    .hasStackTraceContaining("PRECONDITION_FAILED").hasStackTraceContaining("x-max-priority");
            Channel ch2 = c.createChannel();
            declare(ch2, "pq");
            assertThatThrownBy(() -> ch2.queueDeclare("pq", true, false, false, Map.of("x-max-priority", 5)))
                    .isInstanceOf(IOException.class).cause().isInstanceOf(ShutdownSignalException.class)
                    .hasMessageContaining("PRECONDITION_FAILED");
        }
    }

    @Test
    void priorityOrderSurvivesKillDashNine() throws Exception {
        Path data = dir.resolve("killed");
        try (ChildBroker broker = ChildBroker.spawn(data, ChildBroker.testConfig(dir), dir.resolve("first.log"))) {
            broker.awaitListening(60);
            try (Connection conn = broker.connect("priority")) {
                Channel ch = conn.createChannel();
                declare(ch, "pq");
                publishAll(ch, "pq");
            }
            broker.kill();
        }
        try (ChildBroker broker = ChildBroker.spawn(data, ChildBroker.testConfig(dir), dir.resolve("second.log"))) {
            broker.awaitListening(60);
            try (Connection conn = broker.connect("priority")) {
                assertThat(consumeAll(conn.createChannel(), "pq", EXPECTED.size())).containsExactlyElementsOf(EXPECTED);
            }
        }
    }
}
