package io.holdfast.it;

import static io.holdfast.it.AmqpAssertions.assertChannelClosedWith;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.GetResponse;
import com.rabbitmq.client.MessageProperties;
import com.rabbitmq.client.impl.AbstractMetricsCollector;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Publisher confirms and AMQP transactions, through the Java client. */
class ConfirmTransactionTest extends SharedBrokerTest {
    /** One basic.ack or basic.nack as the client saw it. */
    record Confirm(boolean ack, long tag, boolean multiple) {}

    // ---- confirms ----

    @Test
    void everyConfirmedPublishIsAckedAndStored() throws Exception {
        String q = durableQueue("confirm-durable");
        ch.confirmSelect();
        for (int i = 0; i < 200; i++) {
            ch.basicPublish("", q, MessageProperties.PERSISTENT_BASIC, body("m" + i));
        }
        assertThat(ch.getNextPublishSeqNo()).isEqualTo(201);
        ch.waitForConfirmsOrDie(10_000);
        assertThat(ch.queueDeclarePassive(q).getMessageCount()).isEqualTo(200);
    }

    @Test
    void confirmListenerSeesMultipleAcksCoveringEveryPublish() throws Exception {
        String q = durableQueue("confirm-listener");
        List<Confirm> confirms = Collections.synchronizedList(new ArrayList<>());
        ch.addConfirmListener((tag, multiple) -> confirms.add(new Confirm(true, tag, multiple)),
                (tag, multiple) -> confirms.add(new Confirm(false, tag, multiple)));
        ch.confirmSelect();
        int n = 100;
        for (int i = 0; i < n; i++) {
            ch.basicPublish("", q, i % 2 == 0 ? MessageProperties.PERSISTENT_BASIC : null, body("m" + i));
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> highestAcked(confirms) == n);
        synchronized (confirms) {
            assertThat(confirms).extracting(Confirm::ack).containsOnly(true);
            assertThat(confirms).anyMatch(Confirm::multiple);
            assertThat(confirms).extracting(Confirm::tag).isSorted();
        }
        assertThat(ch.waitForConfirms(10_000)).isTrue();
    }

    @Test
    void confirmOfASingleMessageIsNotMultiple() throws Exception {
        String q = durableQueue("confirm-single");
        List<Confirm> confirms = Collections.synchronizedList(new ArrayList<>());
        ch.addConfirmListener((tag, multiple) -> confirms.add(new Confirm(true, tag, multiple)),
                (tag, multiple) -> confirms.add(new Confirm(false, tag, multiple)));
        ch.confirmSelect();
        ch.basicPublish("", q, MessageProperties.PERSISTENT_BASIC, body("alone"));
        await().atMost(Duration.ofSeconds(10)).until(() -> highestAcked(confirms) == 1);
        assertThat(confirms).containsExactly(new Confirm(true, 1, false));
    }

    @Test
    void javaClientMetricsCountEveryConfirmOfOnePublishAtATime() throws Exception {
        PublishAckCounter metrics = new PublishAckCounter();
        ConnectionFactory f = broker.factory();
        f.setMetricsCollector(metrics);
        try (Connection c = f.newConnection()) {
            Channel confirming = c.createChannel();
            String q = confirming.queueDeclare().getQueue();
            confirming.confirmSelect();
            for (int i = 0; i < 5; i++) {
                confirming.basicPublish("", q, null, body("m" + i));
                confirming.waitForConfirmsOrDie(10_000);
            }
        }
        // The client counts only acks with multiple=false: each of these covers one message.
        assertThat(metrics.publishAcks.get()).isEqualTo(5);
    }

    @Test
    void returnOfAnUnroutableMandatoryPublishComesBeforeItsAck() throws Exception {
        List<String> events = Collections.synchronizedList(new ArrayList<>());
        ch.addReturnListener(r -> events.add("return " + r.getReplyCode()));
        ch.addConfirmListener((tag, multiple) -> events.add("ack " + tag), (tag, multiple) -> events.add("nack " + tag));
        ch.confirmSelect();
        ch.basicPublish("amq.direct", "nobody-bound", true, null, body("lost"));
        ch.waitForConfirmsOrDie(10_000);
        assertThat(events).containsExactly("return 312", "ack 1");
    }

    @Test
    void unroutablePublishIsStillAcked() throws Exception {
        ch.confirmSelect();
        ch.basicPublish("amq.direct", "nobody-bound", null, body("dropped"));
        assertThat(ch.waitForConfirms(10_000)).as("acked, not nacked").isTrue();
    }

    @Test
    void confirmModeAndTransactionsExcludeEachOther() throws Exception {
        ch.txSelect();
        AMQP.Channel.Close close = assertChannelClosedWith(AMQP.PRECONDITION_FAILED, ch::confirmSelect);
        assertThat(close.getReplyText()).contains("cannot switch from tx to confirm mode");
        Channel other = conn.createChannel();
        other.confirmSelect();
        close = assertChannelClosedWith(AMQP.PRECONDITION_FAILED, other::txSelect);
        assertThat(close.getReplyText()).contains("cannot switch from confirm to tx mode");
    }

    // ---- transactions ----

    @Test
    void rolledBackPublishesNeverArriveAndCommittedOnesDo() throws Exception {
        String q = durableQueue("tx-publish");
        ch.txSelect();
        ch.basicPublish("", q, MessageProperties.PERSISTENT_BASIC, body("rolled-back-1"));
        ch.basicPublish("", q, null, body("rolled-back-2"));
        assertThat(ch.queueDeclarePassive(q).getMessageCount()).as("nothing before commit").isZero();
        ch.txRollback();
        ch.basicPublish("", q, MessageProperties.PERSISTENT_BASIC, body("committed-1"));
        ch.basicPublish("", q, null, body("committed-2"));
        assertThat(ch.queueDeclarePassive(q).getMessageCount()).isZero();
        ch.txCommit();
        assertThat(TopologyTest.drain(conn.createChannel(), q)).containsExactly("committed-1", "committed-2");
    }

    @Test
    void unroutableMandatoryPublishInATransactionIsReturnedAtCommitOnly() throws Exception {
        List<String> returned = Collections.synchronizedList(new ArrayList<>());
        ch.addReturnListener(r -> returned.add(new String(r.getBody(), StandardCharsets.UTF_8)));
        ch.txSelect();
        ch.basicPublish("amq.direct", "nobody-bound", true, null, body("rolled-back"));
        ch.txRollback();
        ch.basicPublish("amq.direct", "nobody-bound", true, null, body("committed"));
        ch.exchangeDeclarePassive("amq.direct"); // a round trip: a return sent at publish would be here by now
        assertThat(returned).as("nothing is routed before commit").isEmpty();
        ch.txCommit();
        await().atMost(Duration.ofSeconds(10)).until(() -> !returned.isEmpty());
        assertThat(returned).containsExactly("committed");
    }

    @Test
    void committedAcksTakeEffectAndRolledBackAcksDoNot() throws Exception {
        String q = durableQueue("tx-ack");
        for (String m : List.of("m1", "m2", "m3")) {
            ch.basicPublish("", q, null, body(m));
        }
        Channel tx = conn.createChannel();
        tx.txSelect();
        long tag1 = tx.basicGet(q, false).getEnvelope().getDeliveryTag();
        long tag2 = tx.basicGet(q, false).getEnvelope().getDeliveryTag();
        long tag3 = tx.basicGet(q, false).getEnvelope().getDeliveryTag();
        tx.basicAck(tag1, false);
        tx.basicReject(tag3, false);
        tx.txRollback();
        tx.basicAck(tag2, false);
        tx.txCommit();
        tx.close();
        // m1's ack and m3's reject were rolled back: both were still unacked when the channel closed.
        List<GetResponse> left = new ArrayList<>();
        GetResponse r;
        while ((r = ch.basicGet(q, true)) != null) {
            left.add(r);
        }
        assertThat(left).extracting(g -> new String(g.getBody(), StandardCharsets.UTF_8)).containsExactly("m1", "m3");
        assertThat(left).extracting(g -> g.getEnvelope().isRedeliver()).containsOnly(true);
    }

    @Test
    void acksInAnOpenTransactionWaitForCommit() throws Exception {
        String q = durableQueue("tx-pending-ack");
        ch.basicPublish("", q, null, body("m"));
        Channel tx = conn.createChannel();
        tx.txSelect();
        long tag = tx.basicGet(q, false).getEnvelope().getDeliveryTag();
        tx.basicAck(tag, false);
        tx.close();
        GetResponse r = ch.basicGet(q, true);
        assertThat(r).as("the uncommitted ack did not settle it").isNotNull();
        assertThat(r.getEnvelope().isRedeliver()).isTrue();
    }

    @Test
    void anAckOfAnUnknownTagInATransactionIsRefusedAtOnce() throws Exception {
        Channel tx = conn.createChannel();
        tx.txSelect();

        tx.basicAck(99, false); // no commit: RabbitMQ checks the tag when the ack arrives

        AMQP.Channel.Close close = AmqpAssertions.awaitChannelClosedWith(AMQP.PRECONDITION_FAILED, tx);
        assertThat(close.getReplyText()).isEqualTo("PRECONDITION_FAILED - unknown delivery tag 99");
        assertThat(ch.isOpen()).as("only that channel is closed").isTrue();
    }

    @Test
    void aTagAckedTwiceInOneTransactionIsRefusedAtTheSecondAck() throws Exception {
        String q = durableQueue("tx-double-ack");
        ch.basicPublish("", q, null, body("m"));
        Channel tx = conn.createChannel();
        tx.txSelect();
        long tag = tx.basicGet(q, false).getEnvelope().getDeliveryTag();

        tx.basicAck(tag, false);
        tx.basicAck(tag, false);

        AMQP.Channel.Close close = AmqpAssertions.awaitChannelClosedWith(AMQP.PRECONDITION_FAILED, tx);
        assertThat(close.getReplyText()).isEqualTo("PRECONDITION_FAILED - unknown delivery tag " + tag);
        GetResponse back = ch.basicGet(q, true);
        assertThat(back).as("the uncommitted ack died with its channel").isNotNull();
    }

    @Test
    void recoverDoesNotRedeliverAMessageAckedInTheOpenTransaction() throws Exception {
        String q = durableQueue("tx-recover");
        Channel tx = conn.createChannel();
        tx.txSelect();
        Inbox inbox = new Inbox(tx);
        tx.basicConsume(q, false, inbox);
        ch.basicPublish("", q, null, body("acked"));
        ch.basicPublish("", q, null, body("not-acked"));
        List<com.rabbitmq.client.Delivery> first = inbox.next(2);

        tx.basicAck(first.get(0).getEnvelope().getDeliveryTag(), false);
        tx.basicRecover(true);

        com.rabbitmq.client.Delivery again = inbox.next();
        assertThat(Inbox.text(again)).isEqualTo("not-acked");
        assertThat(again.getEnvelope().isRedeliver()).isTrue();
        tx.basicAck(again.getEnvelope().getDeliveryTag(), false);
        tx.txCommit(); // its reply follows any delivery the recover made on this channel
        assertThat(inbox.waiting()).as("the acked message was not redelivered").isZero();
        assertThat(ch.queueDeclarePassive(q).getMessageCount()).isZero();
        tx.close();
        assertThat(ch.queueDeclarePassive(q).getMessageCount()).as("both acks were committed").isZero();
    }

    @Test
    void commitAndRollbackNeedATransactionalChannel() throws Exception {
        AMQP.Channel.Close close = assertChannelClosedWith(AMQP.PRECONDITION_FAILED, ch::txCommit);
        assertThat(close.getReplyText()).contains("not transactional");
        Channel other = conn.createChannel();
        assertChannelClosedWith(AMQP.PRECONDITION_FAILED, other::txRollback);
    }

    @Test
    void committedPersistentPublishesSurviveRestart(@TempDir Path ownDir) throws Exception {
        try (RunningBroker own = RunningBroker.start(ownDir)) {
            try (Connection c = own.connect()) {
                Channel tx = c.createChannel();
                tx.queueDeclare("tx-durable", true, false, false, null);
                tx.txSelect();
                tx.basicPublish("", "tx-durable", MessageProperties.PERSISTENT_BASIC, body("discarded"));
                tx.txRollback();
                tx.basicPublish("", "tx-durable", MessageProperties.PERSISTENT_BASIC, body("kept"));
                tx.txCommit();
            }
            own.restart();
            try (Connection c = own.connect()) {
                assertThat(TopologyTest.drain(c.createChannel(), "tx-durable")).containsExactly("kept");
            }
        }
    }

    // ---- helpers ----

    private String durableQueue(String name) throws IOException {
        ch.queueDeclare(name, true, false, false, null);
        ch.queuePurge(name);
        return name;
    }

    private static long highestAcked(List<Confirm> confirms) {
        synchronized (confirms) {
            return confirms.stream().filter(Confirm::ack).mapToLong(Confirm::tag).max().orElse(0);
        }
    }

    private static byte[] body(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** The Java client's metrics, reduced to the one count that multiple acks escape. */
    private static final class PublishAckCounter extends AbstractMetricsCollector {
        final AtomicInteger publishAcks = new AtomicInteger();

        @Override
        protected void markMessagePublishAcknowledged() {
            publishAcks.incrementAndGet();
        }

        @Override
        protected void incrementConnectionCount(Connection connection) {
        }

        @Override
        protected void decrementConnectionCount(Connection connection) {
        }

        @Override
        protected void incrementChannelCount(Channel channel) {
        }

        @Override
        protected void decrementChannelCount(Channel channel) {
        }

        @Override
        protected void markPublishedMessage() {
        }

        @Override
        protected void markMessagePublishFailed() {
        }

        @Override
        protected void markConsumedMessage() {
        }

        @Override
        protected void markAcknowledgedMessage() {
        }

        @Override
        @Deprecated
        protected void markRejectedMessage() {
        }

        @Override
        protected void markMessagePublishNotAcknowledged() {
        }

        @Override
        protected void markPublishedMessageUnrouted() {
        }
    }
}
