package io.holdfast.core;

import static io.holdfast.core.BrokerFixture.NO_ARGS;
import static io.holdfast.core.BrokerFixture.replyCode;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Declaring, deleting and purging with RabbitMQ's rules and reply codes. */
class TopologyTest {
    private BrokerFixture f;
    private Topology topology;
    private ChannelState ch;

    @BeforeEach
    void setUp() {
        f = new BrokerFixture();
        topology = f.topology;
        ch = f.channel(1);
    }

    // ---- names ----

    @Test
    void amqPrefixedExchangeNamesAreReserved() {
        assertThat(replyCode(() -> topology.declareExchange(ch, "amq.custom", "direct", false, false, false, false,
                NO_ARGS))).isEqualTo(403);
        // RabbitMQ checks the prefix only when creating: an equivalent redeclare of amq.direct is fine,
        // a different one is 406.
        topology.declareExchange(ch, "amq.direct", "direct", false, true, false, false, NO_ARGS);
        assertThat(replyCode(() -> topology.declareExchange(ch, "amq.direct", "fanout", false, true, false, false,
                NO_ARGS))).isEqualTo(406);
        assertThat(replyCode(() -> topology.deleteExchange(ch, "amq.direct", false))).isEqualTo(403);
        assertThat(f.broker.virtualHost("/").exchange("amq.custom")).isNull();
    }

    @Test
    void passiveDeclareOfAPredeclaredExchangeIsAllowed() {
        topology.declareExchange(ch, "amq.direct", "direct", true, false, false, false, NO_ARGS);
        topology.declareExchange(ch, "amq.topic", "", true, false, false, false, NO_ARGS);
    }

    @Test
    void amqPrefixedQueueNamesAreReserved() {
        assertThat(replyCode(() -> topology.declareQueue(ch, "amq.q", false, false, false, false, NO_ARGS)))
                .isEqualTo(403);
    }

    @Test
    void serverNamedQueuesGetDistinctAmqGenNames() {
        String a = topology.declareQueue(ch, "", false, false, true, true, NO_ARGS).queue();
        String b = topology.declareQueue(ch, "", false, false, true, true, NO_ARGS).queue();

        assertThat(a).startsWith("amq.gen-");
        assertThat(b).startsWith("amq.gen-").isNotEqualTo(a);
        assertThat(f.broker.virtualHost("/").queue(a)).isNotNull();
    }

    @Test
    void emptyQueueNameMeansTheChannelsLastDeclaredQueue() {
        String q = topology.declareQueue(ch, "", false, false, true, true, NO_ARGS).queue();
        f.publishTo(ch, q, "m");

        assertThat(topology.declareQueue(ch, "", true, false, false, false, NO_ARGS).queue()).isEqualTo(q);
        assertThat(topology.purgeQueue(ch, "")).isEqualTo(1);
    }

    @Test
    void unknownExchangeTypeIsCommandInvalid() {
        assertThat(replyCode(() -> topology.declareExchange(ch, "x", "x-weird", false, false, false, false,
                NO_ARGS))).isEqualTo(503);
    }

    // ---- passive declare ----

    @Test
    void passiveDeclareOfAMissingQueueIsNotFound() {
        assertThat(replyCode(() -> topology.declareQueue(ch, "missing", true, false, false, false, NO_ARGS)))
                .isEqualTo(404);
        assertThat(f.broker.virtualHost("/").queue("missing")).isNull();
    }

    @Test
    void passiveDeclareOfAMissingExchangeIsNotFound() {
        assertThat(replyCode(() -> topology.declareExchange(ch, "missing", "direct", true, false, false, false,
                NO_ARGS))).isEqualTo(404);
        assertThat(f.broker.virtualHost("/").exchange("missing")).isNull();
    }

    @Test
    void passiveDeclareReportsCountsAndIgnoresAttributes() {
        f.queue(ch, "q");
        ChannelState consumer = f.channel(1);
        f.broker.qos(consumer, 1, false);
        f.consume(consumer, "q", false);
        f.publishTo(ch, "q", "a", "b", "c");

        Topology.DeclareOk ok = topology.declareQueue(ch, "q", true, true, true, true, Map.of("x-max-length", 1));
        assertThat(ok.queue()).isEqualTo("q");
        assertThat(ok.messageCount()).as("ready, not counting the unacked one").isEqualTo(2);
        assertThat(ok.consumerCount()).isEqualTo(1);
    }

    // ---- redeclare ----

    @Test
    void redeclaringAnExchangeWithTheSameAttributesIsAllowed() {
        topology.declareExchange(ch, "x", "topic", false, true, false, false, Map.of("alternate-exchange", "ae"));
        topology.declareExchange(ch, "x", "topic", false, true, false, false, Map.of("alternate-exchange", "ae"));
    }

    @Test
    void redeclaringAnExchangeWithOtherAttributesIsPreconditionFailed() {
        topology.declareExchange(ch, "x", "topic", false, true, false, false, NO_ARGS);

        assertThat(replyCode(() -> topology.declareExchange(ch, "x", "direct", false, true, false, false, NO_ARGS)))
                .isEqualTo(406);
        assertThat(replyCode(() -> topology.declareExchange(ch, "x", "topic", false, false, false, false, NO_ARGS)))
                .isEqualTo(406);
        assertThat(replyCode(() -> topology.declareExchange(ch, "x", "topic", false, true, true, false, NO_ARGS)))
                .isEqualTo(406);
        assertThat(replyCode(() -> topology.declareExchange(ch, "x", "topic", false, true, false, true, NO_ARGS)))
                .isEqualTo(406);
        assertThat(f.broker.virtualHost("/").exchange("x").type()).isEqualTo(ExchangeType.TOPIC);
    }

    @Test
    void redeclaringAnExchangeWithAnotherAlternateExchangeIsPreconditionFailed() {
        topology.declareExchange(ch, "x", "fanout", false, false, false, false, Map.of("alternate-exchange", "ae1"));

        assertThat(replyCode(() -> topology.declareExchange(ch, "x", "fanout", false, false, false, false,
                Map.of("alternate-exchange", "ae2")))).isEqualTo(406);
        assertThat(replyCode(() -> topology.declareExchange(ch, "x", "fanout", false, false, false, false,
                NO_ARGS))).isEqualTo(406);
    }

    @Test
    void redeclaringAQueueWithOtherAttributesIsPreconditionFailed() {
        topology.declareQueue(ch, "q", false, true, false, false, Map.of("x-message-ttl", 1000));

        assertThat(replyCode(() -> topology.declareQueue(ch, "q", false, false, false, false,
                Map.of("x-message-ttl", 1000)))).isEqualTo(406);
        assertThat(replyCode(() -> topology.declareQueue(ch, "q", false, true, false, true,
                Map.of("x-message-ttl", 1000)))).isEqualTo(406);
        assertThat(replyCode(() -> topology.declareQueue(ch, "q", false, true, false, false,
                Map.of("x-message-ttl", 2000)))).isEqualTo(406);
        assertThat(replyCode(() -> topology.declareQueue(ch, "q", false, true, false, false, NO_ARGS)))
                .isEqualTo(406);
        assertThat(replyCode(() -> topology.declareQueue(ch, "q", false, true, false, false,
                Map.of("x-message-ttl", 1000, "x-max-length", 5)))).isEqualTo(406);
    }

    @Test
    void queueArgumentsOfDifferentIntegerWidthsAreEquivalent() {
        topology.declareQueue(ch, "q", false, true, false, false, Map.of("x-message-ttl", 60000,
                "x-max-length", (short) 10, "x-dead-letter-exchange", "dlx"));

        topology.declareQueue(ch, "q", false, true, false, false, Map.of("x-message-ttl", 60000L,
                "x-max-length", (byte) 10, "x-dead-letter-exchange", "dlx"));
        topology.declareQueue(ch, "q", false, true, false, false, Map.of("x-message-ttl", (long) 60000,
                "x-max-length", 10L, "x-dead-letter-exchange", "dlx".getBytes(java.nio.charset.StandardCharsets.UTF_8)));
    }

    @Test
    void queueArgumentsAreValidated() {
        assertThat(replyCode(() -> topology.declareQueue(ch, "q", false, false, false, false,
                Map.of("x-message-ttl", -1)))).isEqualTo(406);
        assertThat(replyCode(() -> topology.declareQueue(ch, "q", false, false, false, false,
                Map.of("x-max-length", "ten")))).isEqualTo(406);
        assertThat(replyCode(() -> topology.declareQueue(ch, "q", false, false, false, false,
                Map.of("x-queue-type", "stream")))).isEqualTo(406);
        assertThat(f.broker.virtualHost("/").queue("q")).isNull();
    }

    // ---- exclusive queues ----

    @Test
    void anotherConnectionCannotTouchAnExclusiveQueue() {
        topology.declareQueue(ch, "mine", false, false, true, false, NO_ARGS);
        ChannelState other = f.channel(2);

        assertThat(replyCode(() -> topology.declareQueue(other, "mine", false, false, true, false, NO_ARGS)))
                .isEqualTo(405);
        assertThat(replyCode(() -> topology.declareQueue(other, "mine", true, false, false, false, NO_ARGS)))
                .isEqualTo(405);
        assertThat(replyCode(() -> f.consume(other, "mine", false))).isEqualTo(405);
        assertThat(replyCode(() -> f.broker.get(other, "mine", false, 0))).isEqualTo(405);
        assertThat(replyCode(() -> topology.purgeQueue(other, "mine"))).isEqualTo(405);
        assertThat(replyCode(() -> topology.deleteQueue(other, "mine", false, false))).isEqualTo(405);
        assertThat(replyCode(() -> topology.bindQueue(other, "mine", "amq.direct", "k", NO_ARGS))).isEqualTo(405);
        assertThat(f.broker.virtualHost("/").queue("mine")).isNotNull();
    }

    @Test
    void anotherChannelOfTheSameConnectionMayUseAnExclusiveQueue() {
        topology.declareQueue(ch, "mine", false, false, true, false, NO_ARGS);
        ChannelState sibling = f.channel(1);

        topology.declareQueue(sibling, "mine", false, false, true, false, NO_ARGS);
        f.consume(sibling, "mine", false);
    }

    @Test
    void exclusiveQueuesGoWhenTheirConnectionCloses() {
        ChannelState other = f.channel(2);
        topology.declareQueue(ch, "mine", false, false, true, false, NO_ARGS);
        topology.declareQueue(other, "theirs", false, false, true, false, NO_ARGS);
        f.queue(ch, "shared");
        f.publishTo(ch, "mine", "m");

        f.broker.closeChannel(ch);
        f.broker.closeConnection(1);

        VirtualHost v = f.broker.virtualHost("/");
        assertThat(v.queue("mine")).isNull();
        assertThat(v.queue("theirs")).isNotNull();
        assertThat(v.queue("shared")).isNotNull();
    }

    // ---- delete ----

    @Test
    void deleteIfUnusedRefusesAQueueWithConsumers() {
        f.queue(ch, "q");
        String tag = f.consume(ch, "q", false);

        assertThat(replyCode(() -> topology.deleteQueue(ch, "q", true, false))).isEqualTo(406);
        f.broker.cancel(ch, tag);
        topology.deleteQueue(ch, "q", true, false);
        assertThat(f.broker.virtualHost("/").queue("q")).isNull();
    }

    @Test
    void deleteIfEmptyRefusesAQueueWithReadyMessages() {
        f.queue(ch, "q");
        f.publishTo(ch, "q", "m");

        assertThat(replyCode(() -> topology.deleteQueue(ch, "q", false, true))).isEqualTo(406);
        assertThat(f.ready("q")).containsExactly("m");
        topology.purgeQueue(ch, "q");
        assertThat(topology.deleteQueue(ch, "q", false, true)).isZero();
    }

    @Test
    void deleteReturnsTheReadyCountAndIsIdempotent() {
        f.queue(ch, "q");
        f.publishTo(ch, "q", "a", "b");

        assertThat(topology.deleteQueue(ch, "q", false, false)).isEqualTo(2);
        assertThat(topology.deleteQueue(ch, "q", false, false)).isZero();
        assertThat(topology.deleteQueue(ch, "never-was", true, true)).isZero();
    }

    @Test
    void deletingAnExchangeIsIdempotent() {
        f.exchange(ch, "x", "direct");
        topology.deleteExchange(ch, "x", false);
        topology.deleteExchange(ch, "x", false);
        topology.deleteExchange(ch, "never-was", true);
        assertThat(f.broker.virtualHost("/").exchange("x")).isNull();
    }

    @Test
    void deleteExchangeIfUnusedRefusesAnExchangeWithBindings() {
        f.exchange(ch, "x", "direct");
        f.queue(ch, "q");
        topology.bindQueue(ch, "q", "x", "k", NO_ARGS);

        assertThat(replyCode(() -> topology.deleteExchange(ch, "x", true))).isEqualTo(406);
        topology.unbindQueue(ch, "q", "x", "k", NO_ARGS);
        topology.deleteExchange(ch, "x", true);
        assertThat(f.broker.virtualHost("/").exchange("x")).isNull();
    }

    @Test
    void deletingAQueueCancelsItsConsumersFromTheServerSide() {
        f.queue(ch, "q");
        ChannelState other = f.channel(2);
        String mine = f.consume(ch, "q", false);
        String theirs = f.consume(other, "q", true);

        topology.deleteQueue(f.channel(3), "q", false, false);

        assertThat(f.output(ch).cancelled).containsExactly(mine);
        assertThat(f.output(other).cancelled).containsExactly(theirs);
        assertThat(ch.consumerCount()).isZero();
        assertThat(other.consumerCount()).isZero();
        assertThat(f.broker.cancel(ch, mine)).isFalse();
    }

    @Test
    void clientCancelSendsNoServerCancel() {
        f.queue(ch, "q");
        String tag = f.consume(ch, "q", false);

        assertThat(f.broker.cancel(ch, tag)).isTrue();
        assertThat(f.broker.cancel(ch, tag)).isFalse();
        assertThat(f.output(ch).cancelled).isEmpty();
    }

    @Test
    void deletingAnExchangeRemovesBindingsThatPointAtIt() {
        f.exchange(ch, "src", "fanout");
        f.exchange(ch, "dst", "fanout");
        topology.bindExchange(ch, "dst", "src", "", NO_ARGS);

        topology.deleteExchange(ch, "dst", false);

        assertThat(f.broker.virtualHost("/").exchange("src").bindings()).isEmpty();
    }

    // ---- purge ----

    @Test
    void purgeReturnsTheReadyCountAndLeavesUnackedAlone() {
        f.queue(ch, "q");
        f.publishTo(ch, "q", "a", "b", "c");
        Broker.GetResult got = f.broker.get(ch, "q", false, 0);

        assertThat(topology.purgeQueue(ch, "q")).isEqualTo(2);
        assertThat(f.ready("q")).isEmpty();
        assertThat(f.queueState("q").unackedCount()).isEqualTo(1);

        f.broker.reject(ch, got.deliveryTag(), false, true);
        assertThat(f.ready("q")).containsExactly("a");
        assertThat(topology.purgeQueue(ch, "q")).isEqualTo(1);
        assertThat(topology.purgeQueue(ch, "q")).isZero();
    }

    @Test
    void purgeOfAMissingQueueIsNotFound() {
        assertThat(replyCode(() -> topology.purgeQueue(ch, "missing"))).isEqualTo(404);
    }

    // ---- auto-delete ----

    @Test
    void autoDeleteQueueGoesWhenItsLastConsumerCancels() {
        topology.declareQueue(ch, "ad", false, false, false, true, NO_ARGS);
        f.publishTo(ch, "ad", "m");
        assertThat(f.broker.virtualHost("/").queue("ad")).as("never had a consumer").isNotNull();

        String first = f.consume(ch, "ad", false);
        String second = f.consume(ch, "ad", false);
        f.broker.cancel(ch, first);
        assertThat(f.broker.virtualHost("/").queue("ad")).as("one consumer left").isNotNull();

        f.broker.cancel(ch, second);
        assertThat(f.broker.virtualHost("/").queue("ad")).isNull();
        assertThat(f.output(ch).cancelled).isEmpty();
    }

    @Test
    void autoDeleteQueueGoesWhenTheChannelOfItsLastConsumerCloses() {
        topology.declareQueue(ch, "ad", false, false, false, true, NO_ARGS);
        ChannelState consumer = f.channel(2);
        f.consume(consumer, "ad", false);

        f.broker.closeChannel(consumer);

        assertThat(f.broker.virtualHost("/").queue("ad")).isNull();
    }

    @Test
    void autoDeleteExchangeGoesWhenItsLastBindingGoes() {
        topology.declareExchange(ch, "ax", "direct", false, false, true, false, NO_ARGS);
        f.queue(ch, "q1");
        f.queue(ch, "q2");
        topology.bindQueue(ch, "q1", "ax", "k", NO_ARGS);
        topology.bindQueue(ch, "q2", "ax", "k", NO_ARGS);

        topology.unbindQueue(ch, "q1", "ax", "k", NO_ARGS);
        assertThat(f.broker.virtualHost("/").exchange("ax")).isNotNull();
        topology.unbindQueue(ch, "q2", "ax", "k", NO_ARGS);
        assertThat(f.broker.virtualHost("/").exchange("ax")).isNull();
    }

    @Test
    void autoDeleteExchangeGoesWhenItsLastBoundQueueIsDeleted() {
        topology.declareExchange(ch, "ax", "fanout", false, false, true, false, NO_ARGS);
        f.queue(ch, "q");
        topology.bindQueue(ch, "q", "ax", "", NO_ARGS);

        topology.deleteQueue(ch, "q", false, false);

        assertThat(f.broker.virtualHost("/").exchange("ax")).isNull();
    }

    @Test
    void autoDeleteExchangeGoesWhenItsLastDestinationExchangeIsDeleted() {
        topology.declareExchange(ch, "ax", "fanout", false, false, true, false, NO_ARGS);
        f.exchange(ch, "dst", "fanout");
        topology.bindExchange(ch, "dst", "ax", "", NO_ARGS);

        topology.deleteExchange(ch, "dst", false);

        assertThat(f.broker.virtualHost("/").exchange("ax")).isNull();
    }

    @Test
    void autoDeleteExchangeThatNeverHadBindingsStays() {
        topology.declareExchange(ch, "ax", "direct", false, false, true, false, NO_ARGS);
        f.queue(ch, "q");
        topology.bindQueue(ch, "q", "amq.direct", "k", NO_ARGS);
        topology.deleteQueue(ch, "q", false, false);
        assertThat(f.broker.virtualHost("/").exchange("ax")).isNotNull();
    }

    // ---- consumers ----

    @Test
    void generatedConsumerTagsAreAmqCtag() {
        f.queue(ch, "q");
        String a = f.consume(ch, "q", false);
        String b = f.consume(ch, "q", false);

        assertThat(a).startsWith("amq.ctag-");
        assertThat(b).startsWith("amq.ctag-").isNotEqualTo(a);
    }

    @Test
    void reusingAConsumerTagOnAChannelIsNotAllowed() {
        f.queue(ch, "q");
        f.broker.consume(ch, "q", "mine", false, false, NO_ARGS);

        assertThat(replyCode(() -> f.broker.consume(ch, "q", "mine", false, false, NO_ARGS))).isEqualTo(530);
        f.broker.consume(f.channel(1), "q", "mine", false, false, NO_ARGS);
    }

    @Test
    void exclusiveConsumerNeedsAQueueWithoutConsumers() {
        f.queue(ch, "q");
        f.consume(ch, "q", false);

        assertThat(replyCode(() -> f.broker.consume(f.channel(2), "q", "", false, true, NO_ARGS))).isEqualTo(403);
        assertThat(f.queueState("q").consumerCount()).isEqualTo(1);
    }

    @Test
    void anExclusiveConsumerKeepsEveryOtherConsumerOut() {
        f.queue(ch, "q");
        String exclusive = f.broker.consume(ch, "q", "", false, true, NO_ARGS);

        assertThat(replyCode(() -> f.broker.consume(f.channel(2), "q", "", false, false, NO_ARGS))).isEqualTo(403);
        assertThat(replyCode(() -> f.broker.consume(ch, "q", "", true, false, NO_ARGS))).isEqualTo(403);
        assertThat(replyCode(() -> f.broker.consume(ch, "q", "", false, true, NO_ARGS))).isEqualTo(403);

        f.broker.cancel(ch, exclusive);
        f.consume(f.channel(2), "q", false);
    }

    @Test
    void consumingFromAMissingQueueIsNotFound() {
        assertThat(replyCode(() -> f.consume(ch, "missing", false))).isEqualTo(404);
        assertThat(ch.consumerCount()).isZero();
    }

    // ---- durable topology ----

    @Test
    void onlyDurableChangesAreFlaggedForTheMetadataStore() {
        f.broker.takeDurableTopologyChange();
        f.queue(ch, "transient");
        f.exchange(ch, "tx", "direct");
        topology.bindQueue(ch, "transient", "tx", "k", NO_ARGS);
        assertThat(f.broker.takeDurableTopologyChange()).isFalse();

        f.durableQueue(ch, "durable");
        assertThat(f.broker.takeDurableTopologyChange()).isTrue();
        assertThat(f.broker.takeDurableTopologyChange()).isFalse();

        topology.bindQueue(ch, "durable", "amq.direct", "k", NO_ARGS);
        assertThat(f.broker.takeDurableTopologyChange()).isTrue();
        topology.deleteQueue(ch, "durable", false, false);
        assertThat(f.broker.takeDurableTopologyChange()).isTrue();
    }
}
