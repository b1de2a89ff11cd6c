package io.holdfast.it;

import static io.holdfast.it.AmqpAssertions.assertChannelClosedWith;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.DeliverCallback;
import com.rabbitmq.client.MessageProperties;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code x-delayed-message} exchange through the Java client, as RabbitMQ's delayed-message plugin offers
 * it, and its durability: held persistent messages survive kill -9 and are delivered on time after it.
 */
class DelayedMessageTest extends SharedBrokerTest {
    @TempDir
    Path crashDir;

    /** A delivery as the consumer saw it, with the wall-clock time it arrived. */
    record Arrival(String body, long atMillis, Object delayHeader) {}

    private static AMQP.BasicProperties delayed(int delayMillis) {
        return MessageProperties.PERSISTENT_TEXT_PLAIN.builder().headers(Map.of("x-delay", delayMillis)).build();
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** A durable delayed exchange routing as direct, and a durable queue bound to it with {@code key}. */
    private static void declareDelayedRoute(Channel c, String exchange, String queue, String key) throws IOException {
        c.exchangeDeclare(exchange, "x-delayed-message", true, false, Map.of("x-delayed-type", "direct"));
        c.queueDeclare(queue, true, false, false, null);
        c.queueBind(queue, exchange, key);
    }

    private static List<Arrival> consume(Channel c, String queue) throws IOException {
        List<Arrival> arrivals = new CopyOnWriteArrayList<>();
        DeliverCallback onDeliver = (tag, d) -> arrivals.add(new Arrival(new String(d.getBody(),
                StandardCharsets.UTF_8), System.currentTimeMillis(),
                d.getProperties().getHeaders() == null ? null : d.getProperties().getHeaders().get("x-delay")));
        c.basicConsume(queue, true, onDeliver, tag -> { });
        return arrivals;
    }

    @Test
    void aDelayedMessageArrivesAfterItsDelayNotBefore() throws Exception {
        declareDelayedRoute(ch, "delay-one", "delay-one-q", "k");
        List<Arrival> arrivals = consume(ch, "delay-one-q");

        long publishedAt = System.currentTimeMillis();
        ch.basicPublish("delay-one", "k", delayed(1000), utf8("later"));
        ch.queueDeclarePassive("delay-one-q"); // a round trip: the publish is processed
        assertThat(Management.sample(Management.metrics(broker), "holdfast_delayed_messages")).isPositive();

        await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(10)).until(() -> !arrivals.isEmpty());
        Arrival a = arrivals.get(0);
        assertThat(a.body()).isEqualTo("later");
        assertThat(a.atMillis() - publishedAt).as("held for its delay").isGreaterThanOrEqualTo(1000);
        assertThat(a.delayHeader()).as("as the plugin: the negated delay").isEqualTo(-1000);
    }

    @Test
    void messagesWithDifferentDelaysArriveInDueOrder() throws Exception {
        declareDelayedRoute(ch, "delay-order", "delay-order-q", "k");
        List<Arrival> arrivals = consume(ch, "delay-order-q");

        ch.basicPublish("delay-order", "k", delayed(1500), utf8("third"));
        ch.basicPublish("delay-order", "k", delayed(300), utf8("first"));
        ch.basicPublish("delay-order", "k", delayed(900), utf8("second"));
        ch.basicPublish("delay-order", "k", MessageProperties.PERSISTENT_TEXT_PLAIN, utf8("at once"));

        await().atMost(Duration.ofSeconds(6)).pollInterval(Duration.ofMillis(10)).until(() -> arrivals.size() == 4);
        assertThat(arrivals).extracting(Arrival::body).containsExactly("at once", "first", "second", "third");
        assertThat(arrivals.get(0).delayHeader()).as("an undelayed message is left as it is").isNull();
    }

    @Test
    void confirmsArriveWhileTheMessageIsHeldAndAMandatoryOneIsNotReturned() throws Exception {
        ch.exchangeDeclare("delay-confirm", "x-delayed-message", true, false, Map.of("x-delayed-type", "topic"));
        AtomicInteger returns = new AtomicInteger();
        ch.addReturnListener(r -> returns.incrementAndGet());
        ch.confirmSelect();

        ch.basicPublish("delay-confirm", "no.binding", true, delayed(60_000), utf8("held"));
        ch.waitForConfirmsOrDie(5_000);
        ch.basicPublish("delay-confirm", "no.binding", true, MessageProperties.PERSISTENT_TEXT_PLAIN, utf8("now"));
        ch.waitForConfirmsOrDie(5_000);

        assertThat(returns.get()).as("a return comes before its confirm: only the undelayed one").isEqualTo(1);
        ch.exchangeDelete("delay-confirm"); // what it held goes with it
    }

    @Test
    void aDeclarationWithoutAUsableDelayedTypeIsRefusedWith406() throws Exception {
        AMQP.Channel.Close missing = assertChannelClosedWith(406,
                () -> ch.exchangeDeclare("delay-bad", "x-delayed-message", true, false, Map.of()));
        assertThat(missing.getReplyText()).contains("'x-delayed-type'");

        Channel other = conn.createChannel();
        AMQP.Channel.Close unknown = assertChannelClosedWith(406, () -> other.exchangeDeclare("delay-bad",
                "x-delayed-message", true, false, Map.of("x-delayed-type", "no-such-type")));
        assertThat(unknown.getReplyText()).contains("'x-delayed-type'");
    }

    @Test
    void compactionMovesAHeldMessageSoItDoesNotPinTheJournal() throws Exception {
        try (RunningBroker small = RunningBroker.start(crashDir.resolve("compaction"),
                c -> c.toBuilder().segmentBytesMax(256 * 1024).build())) {
            long publishedAt;
            try (Connection c = small.connect()) {
                Channel ch1 = c.createChannel();
                declareDelayedRoute(ch1, "delay-compact", "delay-compact-q", "k");
                ch1.queueDeclare("delay-busy", true, false, false, null);
                ch1.confirmSelect();
                publishedAt = System.currentTimeMillis();
                ch1.basicPublish("delay-compact", "k", delayed(8000), utf8("held through compaction"));
                byte[] body = new byte[1024];
                for (int i = 0; i < 3000; i++) {
                    ch1.basicPublish("", "delay-busy", MessageProperties.PERSISTENT_BASIC, body);
                }
                ch1.waitForConfirmsOrDie(30_000);
                ch1.queuePurge("delay-busy");
                await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(
                        small.server().engine().journalSegments()).as("segments left").isLessThanOrEqualTo(3));
            }
            assertThat(System.currentTimeMillis() - publishedAt).as("compacted while still held").isLessThan(8000);
            small.restart();
            try (Connection c = small.connect()) {
                List<Arrival> arrivals = consume(c.createChannel(), "delay-compact-q");
                await().atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(10))
                        .until(() -> !arrivals.isEmpty());
                assertThat(arrivals).extracting(Arrival::body).containsExactly("held through compaction");
                assertThat(arrivals.get(0).atMillis() - publishedAt).isGreaterThanOrEqualTo(8000);
            }
        }
    }

    @Test
    void aHeldMessageSurvivesKillDashNineAndArrivesOnTime() throws Exception {
        Path data = crashDir.resolve("data");
        long publishedAt;
        try (ChildBroker child = ChildBroker.spawn(data, ChildBroker.testConfig(crashDir),
                crashDir.resolve("first.log"))) {
            child.awaitListening(60);
            try (Connection c = child.connect("delayed")) {
                Channel ch1 = c.createChannel();
                declareDelayedRoute(ch1, "delay-crash", "delay-crash-q", "k");
                ch1.confirmSelect();
                publishedAt = System.currentTimeMillis();
                ch1.basicPublish("delay-crash", "k", delayed(3000), utf8("survivor"));
                ch1.waitForConfirmsOrDie(10_000);
            }
            child.kill(); // at once: the message is held, nowhere near due
            assertThat(System.currentTimeMillis() - publishedAt).as("killed before it was due").isLessThan(3000);
        }
        try (ChildBroker child = ChildBroker.spawn(data, ChildBroker.testConfig(crashDir),
                crashDir.resolve("second.log"))) {
            child.awaitListening(60);
            try (Connection c = child.connect("delayed")) {
                List<Arrival> arrivals = consume(c.createChannel(), "delay-crash-q");
                await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(10))
                        .until(() -> !arrivals.isEmpty());
                assertThat(arrivals).extracting(Arrival::body).containsExactly("survivor");
                assertThat(arrivals.get(0).atMillis() - publishedAt).as("not before its time")
                        .isGreaterThanOrEqualTo(3000);
                assertThat(arrivals.get(0).delayHeader()).isEqualTo(-3000);
            }
            assertThat(child.log()).contains("recovered 1 delayed messages");
        }
    }

    @Test
    void aMessageThatFellDueWhileTheBrokerWasDownArrivesRightAfterTheRestart() throws Exception {
        Path data = crashDir.resolve("data");
        long dueAt;
        try (ChildBroker child = ChildBroker.spawn(data, ChildBroker.testConfig(crashDir),
                crashDir.resolve("first.log"))) {
            child.awaitListening(60);
            try (Connection c = child.connect("delayed")) {
                Channel ch1 = c.createChannel();
                declareDelayedRoute(ch1, "delay-down", "delay-down-q", "k");
                ch1.confirmSelect();
                dueAt = System.currentTimeMillis() + 1000;
                ch1.basicPublish("delay-down", "k", delayed(1000), utf8("overdue"));
                ch1.waitForConfirmsOrDie(10_000);
            }
            child.kill();
        }
        await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(50))
                .until(() -> System.currentTimeMillis() > dueAt + 200); // due while nothing runs
        try (ChildBroker child = ChildBroker.spawn(data, ChildBroker.testConfig(crashDir),
                crashDir.resolve("second.log"))) {
            child.awaitListening(60);
            try (Connection c = child.connect("delayed")) {
                Channel ch2 = c.createChannel();
                await().atMost(Duration.ofSeconds(2)).pollInterval(Duration.ofMillis(20))
                        .until(() -> ch2.queueDeclarePassive("delay-down-q").getMessageCount() == 1);
                assertThat(new String(ch2.basicGet("delay-down-q", true).getBody(), StandardCharsets.UTF_8))
                        .isEqualTo("overdue");
            }
        }
    }
}
