package io.holdfast.it;

import static io.holdfast.it.AmqpAssertions.awaitChannelClosedWith;
import static io.holdfast.it.Inbox.text;
import static io.holdfast.it.Inbox.texts;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.Delivery;
import com.rabbitmq.client.GetResponse;
import com.rabbitmq.client.MessageProperties;
import io.holdfast.protocol.Method;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Consumers that fail get their messages back, in their original place and flagged (contract rules 2,
 * 3 and 4); bad acknowledgements cost only their channel; order is kept.
 */
class ConsumerReliabilityTest extends SharedBrokerTest {
    private static final List<String> ONE_TO_TEN = IntStream.rangeClosed(1, 10).mapToObj(String::valueOf).toList();

    // ---- requeue on failure ----

    @ParameterizedTest(name = "persistent on a durable queue: {0}")
    @ValueSource(booleans = {false, true})
    void unackedMessagesOfAClosedChannelComeBackInPlaceRedelivered(boolean durable) throws Exception {
        String q = queueWithOneToTen("closed-channel-" + durable, durable);
        Channel failing = conn.createChannel();
        takeFiveWithoutAck(failing, q);
        failing.close();
        assertRedeliveredOneToFiveThenFreshSixToTen(q);
    }

    @ParameterizedTest(name = "persistent on a durable queue: {0}")
    @ValueSource(booleans = {false, true})
    void unackedMessagesOfAClosedConnectionComeBackInPlaceRedelivered(boolean durable) throws Exception {
        String q = queueWithOneToTen("closed-connection-" + durable, durable);
        try (Connection failing = broker.connect()) {
            takeFiveWithoutAck(failing.createChannel(), q);
        }
        assertRedeliveredOneToFiveThenFreshSixToTen(q);
    }

    @Test
    void unackedMessagesOfADroppedSocketComeBackInPlaceRedelivered() throws Exception {
        String q = queueWithOneToTen("dropped-socket", false);
        try (RawAmqpClient raw = RawAmqpClient.connect(broker.port())) {
            raw.handshake(0, 0, 0);
            raw.openChannel(1);
            raw.send(1, new Method.BasicQos(0, 5, false));
            raw.expect(Method.BasicQosOk.class);
            raw.send(1, new Method.BasicConsume(0, q, "", false, false, false, false, Map.of()));
            raw.expect(Method.BasicConsumeOk.class);
            for (int i = 1; i <= 5; i++) {
                assertThat(new String(raw.readContent().body(), StandardCharsets.UTF_8)).isEqualTo(String.valueOf(i));
            }
        } // closes the socket without connection.close
        await().atMost(Duration.ofSeconds(10)).until(() -> ch.queueDeclarePassive(q).getMessageCount() == 10);
        assertRedeliveredOneToFiveThenFreshSixToTen(q);
    }

    @Test
    void unackedMessagesComeBackInPlaceRedeliveredAfterACleanRestart(@TempDir Path ownDir) throws Exception {
        try (RunningBroker own = RunningBroker.start(ownDir)) {
            Connection before = own.connect();
            try {
                String q = queueWithOneToTen(before.createChannel(), "restart-q", true);
                takeFiveWithoutAck(before.createChannel(), q);
                own.restart();
            } finally {
                before.abort();
            }
            try (Connection after = own.connect()) {
                assertRedeliveredOneToFiveThenFreshSixToTen(after, "restart-q");
            }
        }
    }

    @Test
    void requeuedMessagesStayFlaggedRedeliveredAcrossACleanRestart(@TempDir Path ownDir) throws Exception {
        try (RunningBroker own = RunningBroker.start(ownDir)) {
            try (Connection before = own.connect()) {
                String q = queueWithOneToTen(before.createChannel(), "requeued-restart-q", true);
                Channel failing = before.createChannel();
                takeFiveWithoutAck(failing, q);
                failing.close();
            }
            own.restart();
            try (Connection after = own.connect()) {
                assertRedeliveredOneToFiveThenFreshSixToTen(after, "requeued-restart-q");
            }
        }
    }

    @Test
    void unackedDeliveriesOfACancelledConsumerStayAckable() throws Exception {
        String q = queueWithOneToTen("cancelled-consumer", false);
        Channel sub = conn.createChannel();
        sub.basicQos(3);
        Inbox inbox = new Inbox(sub);
        String tag = sub.basicConsume(q, false, inbox);
        List<Delivery> got = inbox.next(3);
        sub.basicCancel(tag);
        inbox.cancelOk.get(10, TimeUnit.SECONDS);
        sub.basicAck(got.get(2).getEnvelope().getDeliveryTag(), true);
        assertThat(sub.queueDeclarePassive(q).getMessageCount()).isEqualTo(7);
        sub.close();
        assertThat(drain(q)).as("the acked three are gone, nothing else came back early")
                .containsExactlyElementsOf(ONE_TO_TEN.subList(3, 10));
    }

    // ---- bad acknowledgements ----

    @Test
    void ackingAnUnknownDeliveryTagClosesTheChannelWith406() throws Exception {
        String q = queueWithOneToTen("unknown-tag", false);
        Channel sub = conn.createChannel();
        long tag = sub.basicGet(q, false).getEnvelope().getDeliveryTag();
        sub.basicAck(tag + 98, false);
        AMQP.Channel.Close close = awaitChannelClosedWith(AMQP.PRECONDITION_FAILED, sub);
        assertThat(close.getReplyText()).isEqualTo("PRECONDITION_FAILED - unknown delivery tag " + (tag + 98));
        assertThat(close.getClassId()).isEqualTo(60);
        assertThat(close.getMethodId()).isEqualTo(80);
        assertThat(conn.isOpen()).isTrue();
        // The failed channel's unacked delivery went back to the queue.
        GetResponse r = ch.basicGet(q, true);
        assertThat(new String(r.getBody(), StandardCharsets.UTF_8)).isEqualTo("1");
        assertThat(r.getEnvelope().isRedeliver()).isTrue();
    }

    @Test
    void ackingTheSameDeliveryTwiceClosesTheChannelWith406() throws Exception {
        String q = queueWithOneToTen("double-ack", false);
        Channel sub = conn.createChannel();
        long first = sub.basicGet(q, false).getEnvelope().getDeliveryTag();
        sub.basicGet(q, false);
        sub.basicAck(first, false);
        sub.basicAck(first, false);
        AMQP.Channel.Close close = awaitChannelClosedWith(AMQP.PRECONDITION_FAILED, sub);
        assertThat(close.getReplyText()).isEqualTo("PRECONDITION_FAILED - unknown delivery tag " + first);
        List<GetResponse> rest = getAll(q);
        assertThat(rest).extracting(ConsumerReliabilityTest::body).containsExactlyElementsOf(ONE_TO_TEN.subList(1, 10));
        assertThat(rest.get(0).getEnvelope().isRedeliver()).as("message 2 was unacked on the failed channel").isTrue();
        assertThat(rest.get(1).getEnvelope().isRedeliver()).isFalse();
    }

    @Test
    void nackAndRejectOfAnUnknownTagCloseTheChannelWith406() throws Exception {
        Channel a = conn.createChannel();
        a.basicNack(5, false, true);
        awaitChannelClosedWith(AMQP.PRECONDITION_FAILED, a);
        Channel b = conn.createChannel();
        b.basicReject(5, true);
        awaitChannelClosedWith(AMQP.PRECONDITION_FAILED, b);
        Channel c = conn.createChannel();
        c.basicAck(5, true);
        awaitChannelClosedWith(AMQP.PRECONDITION_FAILED, c);
        assertThat(conn.isOpen()).isTrue();
    }

    @Test
    void ackMultipleWithTagZeroAcksEverythingOutstanding() throws Exception {
        String q = queueWithOneToTen("ack-zero", false);
        Channel sub = conn.createChannel();
        for (int i = 0; i < 4; i++) {
            sub.basicGet(q, false);
        }
        sub.basicAck(0, true);
        sub.close();
        assertThat(drain(q)).containsExactlyElementsOf(ONE_TO_TEN.subList(4, 10));
    }

    // ---- order ----

    @Test
    void singleConsumerSeesPublishOrder() throws Exception {
        String q = ch.queueDeclare("order-q", true, false, false, null).getQueue();
        ch.confirmSelect();
        int n = 2000;
        for (int i = 0; i < n; i++) {
            ch.basicPublish("", q, i % 3 == 0 ? MessageProperties.PERSISTENT_BASIC : null, body(String.valueOf(i)));
        }
        ch.waitForConfirmsOrDie(10_000);
        Channel sub = conn.createChannel();
        sub.basicQos(50);
        Inbox inbox = new Inbox(sub);
        sub.basicConsume(q, false, inbox);
        for (int i = 0; i < n; i++) {
            Delivery d = inbox.next();
            assertThat(text(d)).isEqualTo(String.valueOf(i));
            sub.basicAck(d.getEnvelope().getDeliveryTag(), false);
        }
    }

    @Test
    void nackRequeuedMessageComesBeforeEveryMessagePublishedAfterIt() throws Exception {
        String q = ch.queueDeclare("nack-order", false, false, false, null).getQueue();
        Channel sub = conn.createChannel();
        sub.basicQos(1);
        Inbox inbox = new Inbox(sub);
        sub.basicConsume(q, false, inbox);
        ch.basicPublish("", q, null, body("first"));
        Delivery first = inbox.next();
        for (String later : List.of("second", "third", "fourth")) {
            ch.basicPublish("", q, null, body(later));
        }
        assertThat(ch.queueDeclarePassive(q).getMessageCount()).as("later ones are queued behind").isEqualTo(3);
        sub.basicNack(first.getEnvelope().getDeliveryTag(), false, true);
        List<String> order = new ArrayList<>();
        List<Boolean> redelivered = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            Delivery d = inbox.next();
            order.add(text(d));
            redelivered.add(d.getEnvelope().isRedeliver());
            sub.basicAck(d.getEnvelope().getDeliveryTag(), false);
        }
        assertThat(order).containsExactly("first", "second", "third", "fourth");
        assertThat(redelivered).containsExactly(true, false, false, false);
    }

    @Test
    void messagesRequeuedOutOfOrderGoBackToTheirOriginalPositions() throws Exception {
        String q = queueWithOneToTen("requeue-positions", false);
        Channel sub = conn.createChannel();
        List<Long> tags = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            tags.add(sub.basicGet(q, false).getEnvelope().getDeliveryTag());
        }
        sub.basicReject(tags.get(2), true);
        sub.basicAck(tags.get(1), false);
        sub.basicNack(tags.get(3), false, true);
        sub.basicReject(tags.get(0), true);
        List<GetResponse> all = getAll(q);
        assertThat(all).extracting(ConsumerReliabilityTest::body)
                .containsExactly("1", "3", "4", "5", "6", "7", "8", "9", "10");
        assertThat(all).extracting(g -> g.getEnvelope().isRedeliver())
                .containsExactly(true, true, true, false, false, false, false, false, false);
    }

    // ---- helpers ----

    private String queueWithOneToTen(String name, boolean durable) throws Exception {
        return queueWithOneToTen(ch, name, durable);
    }

    private static String queueWithOneToTen(Channel c, String name, boolean durable) throws Exception {
        c.queueDeclare(name, durable, false, false, null);
        c.confirmSelect();
        for (String m : ONE_TO_TEN) {
            c.basicPublish("", name, durable ? MessageProperties.PERSISTENT_BASIC : null, body(m));
        }
        c.waitForConfirmsOrDie(10_000);
        return name;
    }

    /** Consumes 1..5 with prefetch 5 and acks none of them. */
    private static void takeFiveWithoutAck(Channel c, String q) throws Exception {
        c.basicQos(5);
        Inbox inbox = new Inbox(c);
        c.basicConsume(q, false, inbox);
        assertThat(texts(inbox.next(5))).containsExactlyElementsOf(ONE_TO_TEN.subList(0, 5));
        assertThat(c.queueDeclarePassive(q).getMessageCount()).isEqualTo(5);
    }

    /** A new consumer sees 1..10 in order, 1..5 flagged redelivered and 6..10 not. */
    private void assertRedeliveredOneToFiveThenFreshSixToTen(String q) throws Exception {
        assertRedeliveredOneToFiveThenFreshSixToTen(conn, q);
    }

    private static void assertRedeliveredOneToFiveThenFreshSixToTen(Connection c, String q) throws Exception {
        Channel sub = c.createChannel();
        Inbox inbox = new Inbox(sub);
        sub.basicConsume(q, false, inbox);
        List<Delivery> all = inbox.next(10);
        assertThat(texts(all)).containsExactlyElementsOf(ONE_TO_TEN);
        assertThat(all).extracting(d -> d.getEnvelope().isRedeliver())
                .containsExactly(true, true, true, true, true, false, false, false, false, false);
        sub.basicAck(all.get(9).getEnvelope().getDeliveryTag(), true);
    }

    private List<GetResponse> getAll(String q) throws IOException {
        List<GetResponse> out = new ArrayList<>();
        GetResponse r;
        while ((r = ch.basicGet(q, true)) != null) {
            out.add(r);
        }
        return out;
    }

    private List<String> drain(String q) throws IOException {
        return TopologyTest.drain(ch, q);
    }

    private static String body(GetResponse r) {
        return new String(r.getBody(), StandardCharsets.UTF_8);
    }

    private static byte[] body(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
