package io.holdfast.it;

import static io.holdfast.it.AmqpAssertions.assertChannelClosedWith;
import static io.holdfast.it.AmqpAssertions.awaitChannelClosedWith;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.BuiltinExchangeType;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.GetResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Exchanges, queues and bindings: routing by every exchange type, declaration rules, durability. */
class TopologyTest extends SharedBrokerTest {
    // ---- routing ----

    @Test
    void directExchangeRoutesOnTheExactKey() throws Exception {
        ch.exchangeDeclare("rt.direct", BuiltinExchangeType.DIRECT);
        String a = boundQueue("rt.direct", "a");
        String b = boundQueue("rt.direct", "b");
        publish("rt.direct", "a", "to-a");
        publish("rt.direct", "b", "to-b");
        publish("rt.direct", "c", "nowhere");
        assertThat(drain(a)).containsExactly("to-a");
        assertThat(drain(b)).containsExactly("to-b");
    }

    @Test
    void fanoutExchangeRoutesToEveryBoundQueueWhateverTheKey() throws Exception {
        ch.exchangeDeclare("rt.fanout", BuiltinExchangeType.FANOUT);
        String a = boundQueue("rt.fanout", "");
        String b = boundQueue("rt.fanout", "ignored");
        publish("rt.fanout", "any.key", "m");
        assertThat(drain(a)).containsExactly("m");
        assertThat(drain(b)).containsExactly("m");
    }

    @Test
    void topicExchangeMatchesStarAsOneWordAndHashAsAnyNumber() throws Exception {
        ch.exchangeDeclare("rt.topic", BuiltinExchangeType.TOPIC);
        String q1 = boundQueue("rt.topic", "*.orange.*");
        String q2 = boundQueue("rt.topic", "*.*.rabbit");
        ch.queueBind(q2, "rt.topic", "lazy.#");
        String all = boundQueue("rt.topic", "#");
        for (String key : List.of("quick.orange.rabbit", "lazy.orange.elephant", "quick.orange.fox",
                "lazy.brown.fox", "lazy", "quick.brown.fox", "quick.orange.male.rabbit", "lazy.orange.male.rabbit")) {
            publish("rt.topic", key, key);
        }
        assertThat(drain(q1)).containsExactly("quick.orange.rabbit", "lazy.orange.elephant", "quick.orange.fox");
        assertThat(drain(q2)).containsExactly("quick.orange.rabbit", "lazy.orange.elephant", "lazy.brown.fox",
                "lazy", "lazy.orange.male.rabbit");
        assertThat(drain(all)).hasSize(8);
    }

    @Test
    void headersExchangeMatchesAllOrAnyOfTheBindingHeaders() throws Exception {
        ch.exchangeDeclare("rt.headers", BuiltinExchangeType.HEADERS);
        String all = ch.queueDeclare().getQueue();
        ch.queueBind(all, "rt.headers", "", Map.of("x-match", "all", "format", "pdf", "type", "report"));
        String any = ch.queueDeclare().getQueue();
        ch.queueBind(any, "rt.headers", "", Map.of("x-match", "any", "format", "pdf", "type", "report"));
        String byDefault = ch.queueDeclare().getQueue();
        ch.queueBind(byDefault, "rt.headers", "", Map.of("format", "pdf", "type", "report"));

        publishWithHeaders("rt.headers", Map.of("format", "pdf", "type", "report", "extra", 1), "both");
        publishWithHeaders("rt.headers", Map.of("format", "pdf"), "format-only");
        publishWithHeaders("rt.headers", Map.of("type", "report"), "type-only");
        publishWithHeaders("rt.headers", Map.of("format", "zip", "type", "log"), "neither");
        publishWithHeaders("rt.headers", Map.of(), "no-headers");

        assertThat(drain(all)).containsExactly("both");
        assertThat(drain(byDefault)).as("x-match defaults to all").containsExactly("both");
        assertThat(drain(any)).containsExactly("both", "format-only", "type-only");
    }

    @Test
    void defaultExchangeRoutesToTheQueueTheKeyNames() throws Exception {
        String q = ch.queueDeclare().getQueue();
        publish("", q, "direct-to-queue");
        publish("", "no-such-queue", "lost");
        assertThat(drain(q)).containsExactly("direct-to-queue");
    }

    @Test
    void amqExchangesArePredeclaredWithTheirTypes() throws Exception {
        for (String x : List.of("amq.direct", "amq.fanout", "amq.topic", "amq.headers", "amq.match")) {
            ch.exchangeDeclarePassive(x);
        }
        String direct = boundQueue("amq.direct", "k");
        String fanout = boundQueue("amq.fanout", "unused");
        String topic = boundQueue("amq.topic", "k.#");
        String headers = ch.queueDeclare().getQueue();
        ch.queueBind(headers, "amq.headers", "", Map.of("h", "v"));
        String match = ch.queueDeclare().getQueue();
        ch.queueBind(match, "amq.match", "", Map.of("x-match", "any", "h", "v"));
        publish("amq.direct", "k", "d");
        publish("amq.fanout", "whatever", "f");
        publish("amq.topic", "k.a.b", "t");
        publishWithHeaders("amq.headers", Map.of("h", "v"), "h");
        publishWithHeaders("amq.match", Map.of("h", "v"), "m");
        assertThat(drain(direct)).containsExactly("d");
        assertThat(drain(fanout)).containsExactly("f");
        assertThat(drain(topic)).containsExactly("t");
        assertThat(drain(headers)).containsExactly("h");
        assertThat(drain(match)).containsExactly("m");
    }

    @Test
    void predeclaredExchangeMayBeRedeclaredEquivalently() throws Exception {
        ch.exchangeDeclare("amq.topic", BuiltinExchangeType.TOPIC, true);
        ch.exchangeDeclare("amq.direct", "direct", true, false, false, null);
        assertChannelClosedWith(AMQP.PRECONDITION_FAILED,
                () -> ch.exchangeDeclare("amq.topic", BuiltinExchangeType.FANOUT, true));
    }

    @Test
    void defaultExchangeCannotBeBoundAndAmqExchangesCannotBeDeleted() throws Exception {
        String q = ch.queueDeclare().getQueue();
        assertChannelClosedWith(AMQP.ACCESS_REFUSED, () -> ch.queueBind(q, "", "k"));
        Channel other = conn.createChannel();
        assertChannelClosedWith(AMQP.ACCESS_REFUSED, () -> other.exchangeDelete("amq.direct"));
    }

    @Test
    void oneBindingMatchedTwiceStillDeliversOnce() throws Exception {
        ch.exchangeDeclare("rt.twice", BuiltinExchangeType.TOPIC);
        String q = boundQueue("rt.twice", "a.*");
        ch.queueBind(q, "rt.twice", "#");
        publish("rt.twice", "a.b", "once");
        assertThat(drain(q)).containsExactly("once");
    }

    // ---- exchanges ----

    @Test
    void passiveExchangeDeclareFindsExistingAndRefusesMissingWith404() throws Exception {
        ch.exchangeDeclare("ex.passive", BuiltinExchangeType.DIRECT);
        ch.exchangeDeclarePassive("ex.passive");
        assertChannelClosedWith(AMQP.NOT_FOUND, () -> ch.exchangeDeclarePassive("ex.missing"));
    }

    @Test
    void exchangeRedeclaredWithOtherAttributesIsRefusedWith406() throws Exception {
        ch.exchangeDeclare("ex.attrs", BuiltinExchangeType.DIRECT, false, false, null);
        ch.exchangeDeclare("ex.attrs", BuiltinExchangeType.DIRECT, false, false, null);
        AMQP.Channel.Close close = assertChannelClosedWith(AMQP.PRECONDITION_FAILED,
                () -> ch.exchangeDeclare("ex.attrs", BuiltinExchangeType.FANOUT, false, false, null));
        assertThat(close.getReplyText()).startsWith("PRECONDITION_FAILED - inequivalent arg 'type'");
        Channel c2 = conn.createChannel();
        assertThat(assertChannelClosedWith(AMQP.PRECONDITION_FAILED,
                () -> c2.exchangeDeclare("ex.attrs", BuiltinExchangeType.DIRECT, true, false, null)).getReplyText())
                .contains("durable");
    }

    @Test
    void declaringAnExchangeWithTheAmqPrefixIsRefusedWith403() {
        assertChannelClosedWith(AMQP.ACCESS_REFUSED, () -> ch.exchangeDeclare("amq.mine", BuiltinExchangeType.DIRECT));
    }

    @Test
    void autoDeleteExchangeGoesWithItsLastBinding() throws Exception {
        ch.exchangeDeclare("ex.auto", BuiltinExchangeType.DIRECT, false, true, null);
        String q = boundQueue("ex.auto", "k");
        ch.exchangeDeclarePassive("ex.auto");
        ch.queueUnbind(q, "ex.auto", "k");
        assertChannelClosedWith(AMQP.NOT_FOUND, () -> ch.exchangeDeclarePassive("ex.auto"));
    }

    @Test
    void internalExchangeRefusesDirectPublishesButRoutesFromAnotherExchange() throws Exception {
        ch.exchangeDeclare("ex.internal", BuiltinExchangeType.FANOUT, false, false, true, null);
        ch.exchangeDeclare("ex.front", BuiltinExchangeType.FANOUT);
        ch.exchangeBind("ex.internal", "ex.front", "");
        String q = boundQueue("ex.internal", "");
        publish("ex.front", "", "via-front");
        assertThat(drain(q)).containsExactly("via-front");

        Channel direct = conn.createChannel();
        direct.basicPublish("ex.internal", "", null, "direct".getBytes(StandardCharsets.UTF_8));
        AMQP.Channel.Close close = awaitChannelClosedWith(AMQP.ACCESS_REFUSED, direct);
        assertThat(close.getReplyText()).contains("internal");
        assertThat(drain(q)).isEmpty();
    }

    @Test
    void exchangeDeleteIfUnusedRefusesAnExchangeWithBindings() throws Exception {
        ch.exchangeDeclare("ex.used", BuiltinExchangeType.DIRECT);
        String q = boundQueue("ex.used", "k");
        assertChannelClosedWith(AMQP.PRECONDITION_FAILED, () -> ch.exchangeDelete("ex.used", true));
        ch = conn.createChannel();
        ch.exchangeDeclarePassive("ex.used");
        ch.queueUnbind(q, "ex.used", "k");
        ch.exchangeDelete("ex.used", true);
        assertChannelClosedWith(AMQP.NOT_FOUND, () -> ch.exchangeDeclarePassive("ex.used"));
    }

    @Test
    void deletingAnExchangeRemovesItsBindingsAndIsIdempotent() throws Exception {
        ch.exchangeDeclare("ex.gone", BuiltinExchangeType.FANOUT);
        String q = boundQueue("ex.gone", "");
        ch.exchangeDelete("ex.gone");
        ch.exchangeDelete("ex.gone");
        ch.exchangeDeclare("ex.gone", BuiltinExchangeType.FANOUT);
        publish("ex.gone", "", "after-redeclare");
        assertThat(drain(q)).as("the old binding went with the old exchange").isEmpty();
    }

    @Test
    void exchangeToExchangeBindingRoutesUntilUnbound() throws Exception {
        ch.exchangeDeclare("e2e.src", BuiltinExchangeType.TOPIC);
        ch.exchangeDeclare("e2e.dst", BuiltinExchangeType.FANOUT);
        String q = boundQueue("e2e.dst", "");
        ch.exchangeBind("e2e.dst", "e2e.src", "orders.*");
        publish("e2e.src", "orders.new", "routed");
        publish("e2e.src", "other.new", "not-routed");
        assertThat(drain(q)).containsExactly("routed");
        ch.exchangeUnbind("e2e.dst", "e2e.src", "orders.*");
        publish("e2e.src", "orders.new", "after-unbind");
        assertThat(drain(q)).isEmpty();
    }

    @Test
    void exchangeBindingCyclesDeliverOnce() throws Exception {
        ch.exchangeDeclare("cyc.a", BuiltinExchangeType.FANOUT);
        ch.exchangeDeclare("cyc.b", BuiltinExchangeType.FANOUT);
        ch.exchangeBind("cyc.b", "cyc.a", "");
        ch.exchangeBind("cyc.a", "cyc.b", "");
        String q = boundQueue("cyc.b", "");
        ch.queueBind(q, "cyc.a", "");
        publish("cyc.a", "", "once");
        assertThat(drain(q)).containsExactly("once");
    }

    // ---- queues ----

    @Test
    void passiveQueueDeclareReportsCountsAndRefusesMissingWith404() throws Exception {
        String q = ch.queueDeclare("q.passive", false, false, false, null).getQueue();
        publish("", q, "1");
        publish("", q, "2");
        Channel consumerChannel = conn.createChannel();
        consumerChannel.basicQos(1);
        consumerChannel.basicConsume(q, false, (tag, d) -> { }, tag -> { });
        AMQP.Queue.DeclareOk ok = ch.queueDeclarePassive(q);
        assertThat(ok.getQueue()).isEqualTo(q);
        assertThat(ok.getMessageCount()).as("ready, not counting the unacked one").isEqualTo(1);
        assertThat(ok.getConsumerCount()).isEqualTo(1);
        assertChannelClosedWith(AMQP.NOT_FOUND, () -> ch.queueDeclarePassive("q.missing"));
    }

    @Test
    void serverNamedQueueGetsAnAmqGenName() throws Exception {
        String a = ch.queueDeclare("", false, true, true, null).getQueue();
        String b = ch.queueDeclare("", false, true, true, null).getQueue();
        assertThat(a).startsWith("amq.gen-").isNotEqualTo(b);
        ch.queueDeclarePassive(a);
    }

    @Test
    void queueRedeclaredWithOtherAttributesIsRefusedWith406() throws Exception {
        ch.queueDeclare("q.attrs", false, false, false, null);
        ch.queueDeclare("q.attrs", false, false, false, null);
        AMQP.Channel.Close close = assertChannelClosedWith(AMQP.PRECONDITION_FAILED,
                () -> ch.queueDeclare("q.attrs", true, false, false, null));
        assertThat(close.getReplyText()).startsWith("PRECONDITION_FAILED - inequivalent arg 'durable'");
        Channel c2 = conn.createChannel();
        assertChannelClosedWith(AMQP.PRECONDITION_FAILED, () -> c2.queueDeclare("q.attrs", false, false, true, null));
    }

    @Test
    void queueRedeclaredWithTheOtherExclusiveFlagIsRefusedWith405() throws Exception {
        ch.queueDeclare("q.shared", false, false, false, null);
        AMQP.Channel.Close close = assertChannelClosedWith(AMQP.RESOURCE_LOCKED,
                () -> ch.queueDeclare("q.shared", false, true, false, null));
        assertThat(close.getReplyText()).contains("exclusive property value does not match");
        Channel c2 = conn.createChannel();
        c2.queueDeclare("q.mine", false, true, false, null);
        assertChannelClosedWith(AMQP.RESOURCE_LOCKED, () -> c2.queueDeclare("q.mine", false, false, false, null));
        conn.createChannel().queueDelete("q.shared");
    }

    @Test
    void queueArgumentsAreKeptAndCompared() throws Exception {
        Map<String, Object> args = Map.of("x-message-ttl", 60_000, "x-max-length", 100);
        ch.queueDeclare("q.args", false, false, false, args);
        ch.queueDeclare("q.args", false, false, false, Map.of("x-message-ttl", 60_000L, "x-max-length", 100));
        AMQP.Channel.Close close = assertChannelClosedWith(AMQP.PRECONDITION_FAILED,
                () -> ch.queueDeclare("q.args", false, false, false, Map.of("x-message-ttl", 1_000, "x-max-length", 100)));
        assertThat(close.getReplyText()).contains("x-message-ttl");
        Channel c2 = conn.createChannel();
        assertChannelClosedWith(AMQP.PRECONDITION_FAILED, () -> c2.queueDeclare("q.args", false, false, false, null));
    }

    @Test
    void argumentsRabbitMqDoesNotCompareMayDifferOnRedeclare() throws Exception {
        ch.queueDeclare("q.custom-args", false, false, false, Map.of("x-custom", "a", "x-max-length", 5));
        ch.queueDeclare("q.custom-args", false, false, false, Map.of("x-custom", "b", "x-max-length", 5));
        ch.queueDeclare("q.custom-args", false, false, false, Map.of("x-max-length", 5, "app-tag", 1));
        assertChannelClosedWith(AMQP.PRECONDITION_FAILED,
                () -> ch.queueDeclare("q.custom-args", false, false, false, Map.of("x-custom", "a")));
    }

    @Test
    void declaringAQueueWithTheAmqPrefixIsRefusedWith403() {
        assertChannelClosedWith(AMQP.ACCESS_REFUSED, () -> ch.queueDeclare("amq.mine", false, false, false, null));
    }

    @Test
    void exclusiveQueueIsLockedToItsConnectionAndGoesWithIt() throws Exception {
        String q = ch.queueDeclare("q.exclusive", false, true, false, null).getQueue();
        try (Connection other = broker.connect()) {
            List<AmqpAssertions.ChannelCommand> refusals = List.of(
                    c -> c.queueDeclare(q, false, true, false, null),
                    c -> c.queueDeclarePassive(q),
                    c -> c.basicConsume(q, true, (tag, d) -> { }, tag -> { }),
                    c -> c.basicGet(q, true),
                    c -> c.queueBind(q, "amq.direct", "k"),
                    c -> c.queuePurge(q),
                    c -> c.queueDelete(q));
            for (AmqpAssertions.ChannelCommand r : refusals) {
                Channel oc = other.createChannel();
                AMQP.Channel.Close close = assertChannelClosedWith(AMQP.RESOURCE_LOCKED, () -> r.run(oc));
                assertThat(close.getReplyText()).startsWith("RESOURCE_LOCKED - cannot obtain exclusive access");
            }
            ch.queueDeclarePassive(q);
            conn.close();
            Channel oc = other.createChannel();
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                    assertChannelClosedWith(AMQP.NOT_FOUND, () -> other.createChannel().queueDeclarePassive(q)));
            assertThat(oc.isOpen()).isTrue();
        }
    }

    @Test
    void autoDeleteQueueGoesWhenItsLastConsumerCancels() throws Exception {
        String q = ch.queueDeclare("q.auto", false, false, true, null).getQueue();
        String t1 = ch.basicConsume(q, true, (tag, d) -> { }, tag -> { });
        String t2 = ch.basicConsume(q, true, (tag, d) -> { }, tag -> { });
        ch.basicCancel(t1);
        assertThat(ch.queueDeclarePassive(q).getConsumerCount()).isEqualTo(1);
        ch.basicCancel(t2);
        assertChannelClosedWith(AMQP.NOT_FOUND, () -> ch.queueDeclarePassive(q));
    }

    @Test
    void autoDeleteQueueThatNeverHadAConsumerStays() throws Exception {
        String q = ch.queueDeclare("q.auto-unused", false, false, true, null).getQueue();
        publish("", q, "kept");
        assertThat(drain(q)).containsExactly("kept");
        ch.queueDeclarePassive(q);
    }

    @Test
    void queueBindAndUnbindControlRouting() throws Exception {
        String q = ch.queueDeclare().getQueue();
        ch.queueBind(q, "amq.direct", "bk");
        publish("amq.direct", "bk", "bound");
        assertThat(drain(q)).containsExactly("bound");
        ch.queueUnbind(q, "amq.direct", "bk");
        publish("amq.direct", "bk", "unbound");
        assertThat(drain(q)).isEmpty();
        ch.queueUnbind(q, "amq.direct", "never-bound");
    }

    @Test
    void bindingToAMissingExchangeOrQueueIsRefusedWith404() throws Exception {
        String q = ch.queueDeclare().getQueue();
        assertChannelClosedWith(AMQP.NOT_FOUND, () -> ch.queueBind(q, "no-such-exchange", "k"));
        Channel c2 = conn.createChannel();
        assertChannelClosedWith(AMQP.NOT_FOUND, () -> c2.queueBind("no-such-queue", "amq.direct", "k"));
    }

    @Test
    void purgeRemovesReadyMessagesAndReportsHowMany() throws Exception {
        String q = ch.queueDeclare().getQueue();
        for (int i = 0; i < 3; i++) {
            publish("", q, "m" + i);
        }
        assertThat(ch.queuePurge(q).getMessageCount()).isEqualTo(3);
        assertThat(ch.queueDeclarePassive(q).getMessageCount()).isZero();
    }

    @Test
    void queueDeleteReportsMessageCountAndHonoursIfUnusedAndIfEmpty() throws Exception {
        String q = ch.queueDeclare("q.delete", false, false, false, null).getQueue();
        publish("", q, "1");
        publish("", q, "2");
        assertChannelClosedWith(AMQP.PRECONDITION_FAILED, () -> ch.queueDelete(q, false, true));

        String used = conn.createChannel().queueDeclare("q.delete-used", false, false, false, null).getQueue();
        Channel consumer = conn.createChannel();
        consumer.basicConsume(used, true, (tag, d) -> { }, tag -> { });
        Channel c2 = conn.createChannel();
        assertChannelClosedWith(AMQP.PRECONDITION_FAILED, () -> c2.queueDelete(used, true, false));
        consumer.close();
        conn.createChannel().queueDelete(used, true, false);

        Channel c3 = conn.createChannel();
        assertThat(c3.queueDelete(q).getMessageCount()).isEqualTo(2);
        assertChannelClosedWith(AMQP.NOT_FOUND, () -> c3.queueDeclarePassive(q));
        Channel c4 = conn.createChannel();
        assertThat(c4.queueDelete(q).getMessageCount()).as("deleting a missing queue is fine").isZero();
    }

    // ---- durability ----

    @Test
    void durableTopologySurvivesRestartAndTransientTopologyDoesNot(@TempDir Path ownDir) throws Exception {
        try (RunningBroker own = RunningBroker.start(ownDir)) {
            try (Connection c = own.connect()) {
                Channel d = c.createChannel();
                d.exchangeDeclare("dur.x", BuiltinExchangeType.TOPIC, true);
                d.exchangeDeclare("dur.fan", BuiltinExchangeType.FANOUT, true);
                d.queueDeclare("dur.q", true, false, false, Map.of("x-max-length", 10));
                d.queueDeclare("dur.q2", true, false, false, null);
                d.queueBind("dur.q", "dur.x", "a.#");
                d.exchangeBind("dur.fan", "dur.x", "b.*");
                d.queueBind("dur.q2", "dur.fan", "");
                d.exchangeDeclare("tmp.x", BuiltinExchangeType.DIRECT, false);
                d.queueDeclare("tmp.q", false, false, false, null);
                d.queueBind("tmp.q", "dur.x", "#");
                d.queueBind("dur.q", "tmp.x", "k");
            }
            own.restart();
            try (Connection c = own.connect()) {
                Channel d = c.createChannel();
                d.exchangeDeclarePassive("dur.x");
                d.exchangeDeclarePassive("dur.fan");
                d.queueDeclarePassive("dur.q");
                d.queueDeclarePassive("dur.q2");
                d.queueDeclare("dur.q", true, false, false, Map.of("x-max-length", 10));
                d.basicPublish("dur.x", "a.b.c", null, "to-q".getBytes(StandardCharsets.UTF_8));
                d.basicPublish("dur.x", "b.c", null, "to-q2".getBytes(StandardCharsets.UTF_8));
                assertThat(drain(d, "dur.q")).containsExactly("to-q");
                assertThat(drain(d, "dur.q2")).containsExactly("to-q2");
                assertChannelClosedWith(AMQP.PRECONDITION_FAILED,
                        () -> d.queueDeclare("dur.q", true, false, false, Map.of("x-max-length", 11)));
                Channel t = c.createChannel();
                assertChannelClosedWith(AMQP.NOT_FOUND, () -> t.exchangeDeclarePassive("tmp.x"));
                Channel t2 = c.createChannel();
                assertChannelClosedWith(AMQP.NOT_FOUND, () -> t2.queueDeclarePassive("tmp.q"));
                // A transient queue of the same name does not inherit the old transient binding.
                Channel t3 = c.createChannel();
                t3.queueDeclare("tmp.q", false, false, false, null);
                t3.basicPublish("dur.x", "x.y", null, "nobody".getBytes(StandardCharsets.UTF_8));
                assertThat(drain(t3, "tmp.q")).isEmpty();
            }
        }
    }

    // ---- helpers ----

    private String boundQueue(String exchange, String key) throws IOException {
        String q = ch.queueDeclare().getQueue();
        ch.queueBind(q, exchange, key);
        return q;
    }

    private void publish(String exchange, String key, String body) throws IOException {
        ch.basicPublish(exchange, key, null, body.getBytes(StandardCharsets.UTF_8));
    }

    private void publishWithHeaders(String exchange, Map<String, Object> headers, String body) throws IOException {
        ch.basicPublish(exchange, "", new AMQP.BasicProperties.Builder().headers(headers).build(),
                body.getBytes(StandardCharsets.UTF_8));
    }

    private List<String> drain(String q) throws IOException {
        return drain(ch, q);
    }

    /**
     * Every message now in {@code q}, in order. basic.get on the publishing channel runs after its
     * publishes, so nothing is still in flight.
     */
    static List<String> drain(Channel c, String q) throws IOException {
        List<String> out = new ArrayList<>();
        GetResponse r;
        while ((r = c.basicGet(q, true)) != null) {
            out.add(new String(r.getBody(), StandardCharsets.UTF_8));
        }
        return out;
    }
}
