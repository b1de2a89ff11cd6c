package io.holdfast.it;

import static io.holdfast.it.AmqpAssertions.assertChannelClosedWith;
import static io.holdfast.it.AmqpAssertions.awaitChannelClosedWith;
import static io.holdfast.it.Inbox.text;
import static io.holdfast.it.Inbox.texts;
import static org.assertj.core.api.Assertions.assertThat;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.BuiltinExchangeType;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.Delivery;
import com.rabbitmq.client.GetResponse;
import com.rabbitmq.client.LongString;
import com.rabbitmq.client.Return;
import io.holdfast.protocol.Method;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Publishing and consuming: returns, properties, bodies, consumers, get, settlement and prefetch. */
class PublishConsumeTest extends SharedBrokerTest {
    // ---- publishing ----

    @Test
    void mandatoryUnroutablePublishComesBackAsNoRoute() throws Exception {
        CompletableFuture<Return> returned = new CompletableFuture<>();
        ch.addReturnListener(returned::complete);
        String q = newQueue();
        ch.basicPublish("", q, true, null, bytes("routable"));
        AMQP.BasicProperties props = new AMQP.BasicProperties.Builder().contentType("text/plain").build();
        ch.basicPublish("amq.direct", "nobody-bound", true, props, bytes("unroutable"));

        Return r = returned.get(10, TimeUnit.SECONDS);
        assertThat(new String(r.getBody(), StandardCharsets.UTF_8)).as("only the unroutable one").isEqualTo("unroutable");
        assertThat(r.getReplyCode()).isEqualTo(AMQP.NO_ROUTE);
        assertThat(r.getReplyText()).isEqualTo("NO_ROUTE");
        assertThat(r.getExchange()).isEqualTo("amq.direct");
        assertThat(r.getRoutingKey()).isEqualTo("nobody-bound");
        assertThat(r.getProperties().getContentType()).isEqualTo("text/plain");
        assertThat(ch.queueDeclarePassive(q).getMessageCount()).isEqualTo(1);
    }

    @Test
    void nonMandatoryUnroutablePublishIsDroppedSilently() throws Exception {
        CompletableFuture<Return> returned = new CompletableFuture<>();
        ch.addReturnListener(returned::complete);
        ch.basicPublish("amq.direct", "nobody-bound", false, null, bytes("dropped"));
        ch.basicPublish("amq.direct", "nobody-bound", true, null, bytes("returned"));
        assertThat(new String(returned.get(10, TimeUnit.SECONDS).getBody(), StandardCharsets.UTF_8))
                .isEqualTo("returned");
        assertThat(ch.isOpen()).isTrue();
    }

    @Test
    void publishToAMissingExchangeClosesTheChannelWith404() throws Exception {
        ch.basicPublish("no-such-exchange", "k", null, bytes("lost"));
        AMQP.Channel.Close close = awaitChannelClosedWith(AMQP.NOT_FOUND, ch);
        assertThat(close.getReplyText()).isEqualTo("NOT_FOUND - no exchange 'no-such-exchange' in vhost '/'");
        assertThat(conn.isOpen()).isTrue();
    }

    @Test
    void everyBasicPropertyRoundTripsExactly() throws Exception {
        Map<String, Object> nested = new LinkedHashMap<>();
        nested.put("inner-string", "deep");
        nested.put("inner-table", Map.of("deepest", 42));
        Map<String, Object> headers = new LinkedHashMap<>();
        headers.put("string", "text é ✓");
        headers.put("int", 123_456);
        headers.put("long", 9_876_543_210L);
        headers.put("short", (short) -12);
        headers.put("byte", (byte) 7);
        headers.put("true", true);
        headers.put("false", false);
        headers.put("double", 3.5d);
        headers.put("float", 1.25f);
        headers.put("decimal", new BigDecimal("-1234.56"));
        headers.put("timestamp", new Date(1_700_000_000_000L));
        headers.put("bytes", new byte[] {0, 1, 2, (byte) 0xff});
        headers.put("void", null);
        headers.put("table", nested);
        headers.put("array", List.of("a", 1, 2L, true, List.of("nested", "list"), Map.of("k", "v")));
        headers.put("empty-array", List.of());
        headers.put("empty-table", Map.of());
        AMQP.BasicProperties sent = new AMQP.BasicProperties.Builder()
                .contentType("application/json")
                .contentEncoding("gzip")
                .headers(headers)
                .deliveryMode(2)
                .priority(5)
                .correlationId("corr-1")
                .replyTo("reply-queue")
                .expiration("600000")
                .messageId("msg-1")
                .timestamp(new Date(1_600_000_000_000L))
                .type("order.created")
                .userId("guest")
                .appId("holdfast-it")
                .clusterId("cluster-x")
                .build();
        String q = newQueue();
        ch.basicPublish("", q, sent, bytes("props"));
        ch.basicPublish("", q, sent, bytes("props"));

        GetResponse got = ch.basicGet(q, true);
        assertSameProperties(got.getProps(), sent);
        Inbox inbox = new Inbox(ch);
        ch.basicConsume(q, true, inbox);
        assertSameProperties(inbox.next().getProperties(), sent);
    }

    @Test
    void emptyPropertiesStayEmpty() throws Exception {
        String q = newQueue();
        ch.basicPublish("", q, null, bytes("bare"));
        AMQP.BasicProperties p = ch.basicGet(q, true).getProps();
        assertThat(List.of(String.valueOf(p.getContentType()), String.valueOf(p.getHeaders()),
                String.valueOf(p.getDeliveryMode()), String.valueOf(p.getTimestamp())))
                .containsOnly("null");
    }

    @ParameterizedTest(name = "client frame_max {0}")
    @ValueSource(ints = {0, 4096})
    void bodiesOfEverySizeArriveByteForByte(int clientFrameMax) throws Exception {
        ConnectionFactory f = broker.factory();
        f.setRequestedFrameMax(clientFrameMax);
        try (Connection c = f.newConnection()) {
            Channel pub = c.createChannel();
            int chunk = c.getFrameMax() - 8;
            int[] sizes = {0, 1, 100, chunk - 1, chunk, chunk + 1, 2 * chunk, 3 * chunk + 17, 5 * 1024 * 1024 + 3};
            String q = pub.queueDeclare().getQueue();
            List<byte[]> bodies = new ArrayList<>();
            Random random = new Random(clientFrameMax);
            for (int size : sizes) {
                byte[] b = new byte[size];
                random.nextBytes(b);
                bodies.add(b);
                pub.basicPublish("", q, null, b);
            }
            // Half through basic.get, half through basic.deliver: both paths split content the same way.
            for (int i = 0; i < sizes.length / 2; i++) {
                assertThat(pub.basicGet(q, true).getBody()).as("size %d", sizes[i]).isEqualTo(bodies.get(i));
            }
            Channel sub = c.createChannel();
            Inbox inbox = new Inbox(sub);
            sub.basicConsume(q, true, inbox);
            for (int i = sizes.length / 2; i < sizes.length; i++) {
                assertThat(inbox.next().getBody()).as("size %d", sizes[i]).isEqualTo(bodies.get(i));
            }
        }
    }

    @Test
    void publishAboveTheMaxMessageSizeClosesOnlyThatChannel(@TempDir Path ownDir) throws Exception {
        try (RunningBroker own = RunningBroker.start(ownDir, c -> c.withMaxMessageBytes(1000));
             Connection c = own.connect()) {
            Channel bystander = c.createChannel();
            String q = bystander.queueDeclare().getQueue();
            Channel offender = c.createChannel();
            offender.basicPublish("", q, null, new byte[1001]);
            AMQP.Channel.Close close = awaitChannelClosedWith(AMQP.PRECONDITION_FAILED, offender);
            assertThat(close.getReplyText())
                    .isEqualTo("PRECONDITION_FAILED - message size 1001 is larger than configured max size 1000");
            assertThat(close.getClassId()).isEqualTo(60);
            assertThat(close.getMethodId()).isEqualTo(40);

            assertThat(c.isOpen()).isTrue();
            assertThat(bystander.isOpen()).isTrue();
            bystander.basicPublish("", q, null, new byte[1000]);
            assertThat(bystander.basicGet(q, true).getBody()).hasSize(1000);
            Channel fresh = c.createChannel();
            fresh.basicPublish("", q, null, new byte[10]);
            assertThat(fresh.basicGet(q, true).getBody()).hasSize(10);
            assertThat(bystander.queueDeclarePassive(q).getMessageCount()).as("the oversized one never arrived").isZero();
        }
    }

    // ---- consumers ----

    @Test
    void autoAckConsumerSettlesOnDelivery() throws Exception {
        String q = queueWith("a", "b", "c");
        Channel sub = conn.createChannel();
        Inbox inbox = new Inbox(sub);
        sub.basicConsume(q, true, inbox);
        assertThat(texts(inbox.next(3))).containsExactly("a", "b", "c");
        sub.close();
        assertThat(ch.queueDeclarePassive(q).getMessageCount()).as("nothing comes back: all settled").isZero();
    }

    @Test
    void manualAckSettlesOnlyWhatWasAcked() throws Exception {
        String q = queueWith("a", "b", "c");
        Channel sub = conn.createChannel();
        Inbox inbox = new Inbox(sub);
        sub.basicConsume(q, false, inbox);
        List<Delivery> ds = inbox.next(3);
        assertThat(ch.queueDeclarePassive(q).getMessageCount()).as("all three out, unacked").isZero();
        sub.basicAck(ds.get(0).getEnvelope().getDeliveryTag(), false);
        sub.basicAck(ds.get(2).getEnvelope().getDeliveryTag(), false);
        sub.close();
        assertThat(drain(q)).containsExactly("b");
    }

    @Test
    void consumeFromAMissingQueueIsRefusedWith404() {
        assertChannelClosedWith(AMQP.NOT_FOUND, () -> ch.basicConsume("no-such-queue", true, new Inbox(ch)));
    }

    @Test
    void exclusiveConsumerKeepsOthersOut() throws Exception {
        String q = newQueue();
        Channel owner = conn.createChannel();
        owner.basicConsume(q, false, "", false, true, null, new Inbox(owner));
        Channel other = conn.createChannel();
        AMQP.Channel.Close close = assertChannelClosedWith(AMQP.ACCESS_REFUSED,
                () -> other.basicConsume(q, true, new Inbox(other)));
        assertThat(close.getReplyText()).contains("in exclusive use");
    }

    @Test
    void exclusiveConsumeOnAQueueWithConsumersIsRefused() throws Exception {
        String q = newQueue();
        ch.basicConsume(q, true, new Inbox(ch));
        Channel other = conn.createChannel();
        assertChannelClosedWith(AMQP.ACCESS_REFUSED,
                () -> other.basicConsume(q, false, "", false, true, null, new Inbox(other)));
    }

    @Test
    void emptyConsumerTagGetsAGeneratedOneAndAGivenTagIsKept() throws Exception {
        String q = newQueue();
        String a = ch.basicConsume(q, true, new Inbox(ch));
        String b = ch.basicConsume(q, true, new Inbox(ch));
        String mine = ch.basicConsume(q, true, "my-tag", new Inbox(ch));
        assertThat(a).startsWith("amq.ctag-");
        assertThat(b).startsWith("amq.ctag-").isNotEqualTo(a);
        assertThat(mine).isEqualTo("my-tag");
        assertThat(ch.queueDeclarePassive(q).getConsumerCount()).isEqualTo(3);
    }

    @Test
    void reusingAConsumerTagOnTheChannelClosesTheConnectionWith530() throws Exception {
        // The Java client refuses a duplicate tag itself, so this one goes on the wire by hand.
        String q = ch.queueDeclare("dup-tag-q", false, false, false, null).getQueue();
        try (RawAmqpClient raw = RawAmqpClient.connect(broker.port())) {
            raw.handshake(0, 0, 0);
            raw.openChannel(1);
            raw.send(1, new Method.BasicConsume(0, q, "dup", false, true, false, false, Map.of()));
            raw.expect(Method.BasicConsumeOk.class);
            raw.send(1, new Method.BasicConsume(0, q, "dup", false, true, false, false, Map.of()));
            Method.ConnectionClose close = raw.expect(Method.ConnectionClose.class);
            assertThat(close.replyCode()).isEqualTo(AMQP.NOT_ALLOWED);
            assertThat(close.replyText()).contains("dup");
        }
    }

    @Test
    void cancelledConsumerGetsNoMoreDeliveries() throws Exception {
        String q = newQueue();
        Channel sub = conn.createChannel();
        Inbox inbox = new Inbox(sub);
        String tag = sub.basicConsume(q, true, inbox);
        ch.basicPublish("", q, null, bytes("before"));
        assertThat(text(inbox.next())).isEqualTo("before");
        sub.basicCancel(tag);
        assertThat(inbox.cancelOk.get(10, TimeUnit.SECONDS)).isEqualTo(tag);
        ch.basicPublish("", q, null, bytes("after"));
        assertThat(ch.queueDeclarePassive(q).getMessageCount()).isEqualTo(1);
        assertThat(ch.queueDeclarePassive(q).getConsumerCount()).isZero();
        assertThat(inbox.waiting()).isZero();
    }

    @Test
    void deletingTheQueueCancelsItsConsumersFromTheBroker() throws Exception {
        String q = ch.queueDeclare("consumed-then-deleted", false, false, false, null).getQueue();
        Channel sub = conn.createChannel();
        Inbox inbox = new Inbox(sub);
        String tag = sub.basicConsume(q, false, inbox);
        ch.basicPublish("", q, null, bytes("in-flight"));
        Delivery inFlight = inbox.next();
        ch.queueDelete(q);
        assertThat(inbox.cancelledByBroker.get(10, TimeUnit.SECONDS)).isEqualTo(tag);
        // A delivery from the deleted queue may still be acked, as in RabbitMQ.
        sub.basicAck(inFlight.getEnvelope().getDeliveryTag(), false);
        sub.queueDeclare(q, false, false, false, null);
        assertThat(sub.isOpen()).as("the channel stays open").isTrue();
        assertThat(sub.queueDeclarePassive(q).getMessageCount()).as("the new queue inherits nothing").isZero();
    }

    @Test
    void basicGetReturnsMessagesWithTheRemainingCountThenEmpty() throws Exception {
        String q = newQueue();
        assertThat(ch.basicGet(q, true)).as("get-empty").isNull();
        ch.basicPublish("", q, null, bytes("1"));
        ch.basicPublish("", q, null, bytes("2"));
        GetResponse first = ch.basicGet(q, true);
        assertThat(new String(first.getBody(), StandardCharsets.UTF_8)).isEqualTo("1");
        assertThat(first.getMessageCount()).isEqualTo(1);
        assertThat(first.getEnvelope().isRedeliver()).isFalse();
        assertThat(first.getEnvelope().getRoutingKey()).isEqualTo(q);
        GetResponse second = ch.basicGet(q, true);
        assertThat(second.getMessageCount()).isZero();
        assertThat(ch.basicGet(q, true)).isNull();
    }

    // ---- settlement ----

    @Test
    void ackMultipleSettlesUpToAndIncludingTheTag() throws Exception {
        String q = queueWith("1", "2", "3", "4", "5");
        Channel sub = conn.createChannel();
        List<Long> tags = getTags(sub, q, 5);
        sub.basicAck(tags.get(2), true);
        sub.close();
        assertThat(drain(q)).containsExactly("4", "5");
    }

    @Test
    void nackMultipleWithRequeueReturnsAllInOrderRedelivered() throws Exception {
        String q = queueWith("1", "2", "3", "4");
        Channel sub = conn.createChannel();
        List<Long> tags = getTags(sub, q, 3);
        sub.basicNack(tags.get(2), true, true);
        List<GetResponse> again = getAll(sub, q);
        assertThat(again).extracting(r -> new String(r.getBody(), StandardCharsets.UTF_8))
                .containsExactly("1", "2", "3", "4");
        assertThat(again).extracting(r -> r.getEnvelope().isRedeliver())
                .containsExactly(true, true, true, false);
    }

    @Test
    void nackWithoutRequeueDropsTheMessage() throws Exception {
        String q = queueWith("1", "2");
        Channel sub = conn.createChannel();
        List<Long> tags = getTags(sub, q, 2);
        sub.basicNack(tags.get(1), true, false);
        sub.close();
        assertThat(drain(q)).isEmpty();
    }

    @Test
    void rejectRequeuesOrDropsOneMessage() throws Exception {
        String q = queueWith("keep", "drop", "rest");
        Channel sub = conn.createChannel();
        List<Long> tags = getTags(sub, q, 2);
        sub.basicReject(tags.get(1), false);
        sub.basicReject(tags.get(0), true);
        GetResponse r = sub.basicGet(q, true);
        assertThat(new String(r.getBody(), StandardCharsets.UTF_8)).isEqualTo("keep");
        assertThat(r.getEnvelope().isRedeliver()).isTrue();
        assertThat(drain(q)).containsExactly("rest");
    }

    @Test
    void recoverRequeuesEveryUnackedDeliveryOfTheChannel() throws Exception {
        String q = queueWith("1", "2", "3");
        Channel sub = conn.createChannel();
        Inbox inbox = new Inbox(sub);
        sub.basicConsume(q, false, inbox);
        List<Delivery> first = inbox.next(3);
        assertThat(first).extracting(d -> d.getEnvelope().isRedeliver()).containsOnly(false);
        sub.basicRecover(true);
        List<Delivery> again = inbox.next(3);
        assertThat(texts(again)).containsExactly("1", "2", "3");
        assertThat(again).extracting(d -> d.getEnvelope().isRedeliver()).containsOnly(true);
        assertThat(again.get(0).getEnvelope().getDeliveryTag()).as("new tags").isGreaterThan(3);
        sub.basicAck(again.get(2).getEnvelope().getDeliveryTag(), true);
        sub.close();
        assertThat(ch.queueDeclarePassive(q).getMessageCount()).isZero();
    }

    @Test
    void redeliveredFlagIsSetOnlyAfterADeliveryCameBack() throws Exception {
        String q = queueWith("m");
        GetResponse first = ch.basicGet(q, false);
        assertThat(first.getEnvelope().isRedeliver()).isFalse();
        ch.basicNack(first.getEnvelope().getDeliveryTag(), false, true);
        GetResponse second = ch.basicGet(q, false);
        assertThat(second.getEnvelope().isRedeliver()).isTrue();
        assertThat(second.getBody()).isEqualTo(first.getBody());
    }

    // ---- prefetch ----

    @Test
    void perConsumerPrefetchLimitsUnackedDeliveries() throws Exception {
        String q = queueWith("1", "2", "3", "4", "5");
        Channel sub = conn.createChannel();
        sub.basicQos(2);
        Inbox inbox = new Inbox(sub);
        sub.basicConsume(q, false, inbox);
        // basic.consume dispatched what prefetch allowed before this declare was handled.
        assertThat(sub.queueDeclarePassive(q).getMessageCount()).isEqualTo(3);
        List<Delivery> ds = inbox.next(2);
        assertThat(texts(ds)).containsExactly("1", "2");
        sub.basicAck(ds.get(0).getEnvelope().getDeliveryTag(), false);
        assertThat(text(inbox.next())).isEqualTo("3");
        assertThat(sub.queueDeclarePassive(q).getMessageCount()).isEqualTo(2);
        assertThat(inbox.waiting()).isZero();
    }

    @Test
    void perConsumerPrefetchAppliesToEachConsumerOfTheChannel() throws Exception {
        String q1 = queueWith("1", "2", "3", "4", "5");
        String q2 = queueWith("1", "2", "3", "4", "5");
        Channel sub = conn.createChannel();
        sub.basicQos(2, false);
        sub.basicConsume(q1, false, new Inbox(sub));
        sub.basicConsume(q2, false, new Inbox(sub));
        assertThat(sub.queueDeclarePassive(q1).getMessageCount()).isEqualTo(3);
        assertThat(sub.queueDeclarePassive(q2).getMessageCount()).isEqualTo(3);
    }

    @Test
    void perConsumerPrefetchAppliesToConsumersCreatedAfterIt() throws Exception {
        String q1 = queueWith("1", "2", "3", "4", "5");
        String q2 = queueWith("1", "2", "3", "4", "5");
        Channel sub = conn.createChannel();
        sub.basicQos(1);
        sub.basicConsume(q1, false, new Inbox(sub));
        sub.basicQos(3);
        sub.basicConsume(q2, false, new Inbox(sub));
        assertThat(sub.queueDeclarePassive(q1).getMessageCount()).as("first consumer keeps prefetch 1").isEqualTo(4);
        assertThat(sub.queueDeclarePassive(q2).getMessageCount()).isEqualTo(2);
    }

    @Test
    void globalPrefetchIsSharedByAllConsumersOfTheChannel() throws Exception {
        String q1 = queueWith("1", "2", "3", "4", "5");
        String q2 = queueWith("1", "2", "3", "4", "5");
        Channel sub = conn.createChannel();
        sub.basicQos(3, true);
        Inbox a = new Inbox(sub);
        Inbox b = new Inbox(sub);
        sub.basicConsume(q1, false, a);
        sub.basicConsume(q2, false, b);
        int ready = sub.queueDeclarePassive(q1).getMessageCount() + sub.queueDeclarePassive(q2).getMessageCount();
        assertThat(ready).as("3 of the 10 out, across both consumers").isEqualTo(7);
        assertThat(sub.queueDeclarePassive(q1).getMessageCount()).as("the first consumer took all 3").isEqualTo(2);
        Delivery d = a.next();
        a.next(2);
        sub.basicAck(d.getEnvelope().getDeliveryTag(), false);
        // Freed channel credit goes to whichever consumer can take.
        int readyAfterAck = sub.queueDeclarePassive(q1).getMessageCount()
                + sub.queueDeclarePassive(q2).getMessageCount();
        assertThat(readyAfterAck).isEqualTo(6);
    }

    @Test
    void perConsumerAndGlobalPrefetchBothApply() throws Exception {
        String q1 = queueWith("1", "2", "3", "4", "5");
        String q2 = queueWith("1", "2", "3", "4", "5");
        Channel sub = conn.createChannel();
        sub.basicQos(2, false);
        sub.basicQos(3, true);
        sub.basicConsume(q1, false, new Inbox(sub));
        sub.basicConsume(q2, false, new Inbox(sub));
        assertThat(sub.queueDeclarePassive(q1).getMessageCount()).as("per-consumer limit").isEqualTo(3);
        assertThat(sub.queueDeclarePassive(q2).getMessageCount()).as("the channel's remaining credit").isEqualTo(4);
    }

    @Test
    void basicGetIsNotLimitedByPrefetch() throws Exception {
        String q = queueWith("1", "2", "3");
        ch.basicQos(1, true);
        assertThat(getTags(ch, q, 3)).hasSize(3);
    }

    // ---- distribution ----

    @Test
    void twoConsumersOnOneQueueShareMessagesRoundRobin() throws Exception {
        String q = newQueue();
        Channel subA = conn.createChannel();
        Channel subB = conn.createChannel();
        Inbox a = new Inbox(subA);
        Inbox b = new Inbox(subB);
        subA.basicConsume(q, true, a);
        subB.basicConsume(q, true, b);
        for (int i = 1; i <= 10; i++) {
            ch.basicPublish("", q, null, bytes(String.valueOf(i)));
        }
        List<String> gotA = texts(a.next(5));
        List<String> gotB = texts(b.next(5));
        assertThat(gotA).doesNotContainAnyElementsOf(gotB);
        assertThat(List.of(gotA.get(0), gotB.get(0))).containsExactlyInAnyOrder("1", "2");
        assertThat(ch.queueDeclarePassive(q).getMessageCount()).isZero();
        assertThat(a.waiting() + b.waiting()).isZero();
    }

    @Test
    void onePublishReachesEveryMatchingQueueOnce() throws Exception {
        ch.exchangeDeclare("pc.fanout", BuiltinExchangeType.FANOUT);
        List<String> queues = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            String q = newQueue();
            ch.queueBind(q, "pc.fanout", "");
            queues.add(q);
        }
        byte[] body = bytes("everyone");
        ch.basicPublish("pc.fanout", "", null, body);
        for (String q : queues) {
            assertThat(drain(q)).as(q).containsExactly("everyone");
        }
    }

    // ---- helpers ----

    /** A server-named queue that outlives its consumers (unlike {@code queueDeclare()}'s auto-delete one). */
    private String newQueue() throws IOException {
        return ch.queueDeclare("", false, true, false, null).getQueue();
    }

    private String queueWith(String... bodies) throws IOException {
        String q = newQueue();
        for (String b : bodies) {
            ch.basicPublish("", q, null, bytes(b));
        }
        return q;
    }

    private static List<Long> getTags(Channel c, String q, int n) throws IOException {
        List<Long> tags = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            GetResponse r = c.basicGet(q, false);
            assertThat(r).as("message %d of %d", i + 1, n).isNotNull();
            tags.add(r.getEnvelope().getDeliveryTag());
        }
        return tags;
    }

    private static List<GetResponse> getAll(Channel c, String q) throws IOException {
        List<GetResponse> out = new ArrayList<>();
        GetResponse r;
        while ((r = c.basicGet(q, true)) != null) {
            out.add(r);
        }
        return out;
    }

    private List<String> drain(String q) throws IOException {
        return TopologyTest.drain(ch, q);
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static void assertSameProperties(AMQP.BasicProperties got, AMQP.BasicProperties sent) {
        assertThat(got.getContentType()).isEqualTo(sent.getContentType());
        assertThat(got.getContentEncoding()).isEqualTo(sent.getContentEncoding());
        assertThat(got.getDeliveryMode()).isEqualTo(sent.getDeliveryMode());
        assertThat(got.getPriority()).isEqualTo(sent.getPriority());
        assertThat(got.getCorrelationId()).isEqualTo(sent.getCorrelationId());
        assertThat(got.getReplyTo()).isEqualTo(sent.getReplyTo());
        assertThat(got.getExpiration()).isEqualTo(sent.getExpiration());
        assertThat(got.getMessageId()).isEqualTo(sent.getMessageId());
        assertThat(got.getTimestamp()).isEqualTo(sent.getTimestamp());
        assertThat(got.getType()).isEqualTo(sent.getType());
        assertThat(got.getUserId()).isEqualTo(sent.getUserId());
        assertThat(got.getAppId()).isEqualTo(sent.getAppId());
        assertThat(got.getClusterId()).isEqualTo(sent.getClusterId());
        assertThat(comparable(got.getHeaders())).isEqualTo(comparable(sent.getHeaders()));
        // Types survive too, not just values: an int is not read back as a long.
        assertThat(got.getHeaders().get("int")).isInstanceOf(Integer.class);
        assertThat(got.getHeaders().get("short")).isInstanceOf(Short.class);
        assertThat(got.getHeaders().get("byte")).isInstanceOf(Byte.class);
        assertThat(got.getHeaders().get("float")).isInstanceOf(Float.class);
        assertThat(got.getHeaders().get("bytes")).isInstanceOf(byte[].class);
        assertThat(got.getHeaders()).containsKey("void");
    }

    /** Values as the client reads them compared with values as it wrote them: strings and bytes by content. */
    private static Object comparable(Object v) {
        if (v instanceof LongString s) {
            return s.toString();
        }
        if (v instanceof byte[] b) {
            return ByteBuffer.wrap(b);
        }
        if (v instanceof Map<?, ?> m) {
            Map<Object, Object> out = new TreeMap<>();
            m.forEach((k, value) -> out.put(k, comparable(value)));
            return out;
        }
        if (v instanceof List<?> l) {
            return l.stream().map(PublishConsumeTest::comparable).toList();
        }
        return v;
    }
}
