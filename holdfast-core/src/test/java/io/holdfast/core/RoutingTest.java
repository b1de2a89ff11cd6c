package io.holdfast.core;

import static io.holdfast.core.BrokerFixture.NO_ARGS;
import static io.holdfast.core.BrokerFixture.message;
import static io.holdfast.core.BrokerFixture.replyCode;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Which queues a publish reaches: each exchange type, the default exchange, exchange-to-exchange bindings. */
class RoutingTest {
    private BrokerFixture f;
    private ChannelState ch;

    @BeforeEach
    void setUp() {
        f = new BrokerFixture();
        ch = f.channel(1);
        f.queue(ch, "q1");
        f.queue(ch, "q2");
        f.queue(ch, "q3");
    }

    @Test
    void directExchangeRoutesOnTheExactKey() {
        f.exchange(ch, "d", "direct");
        f.topology.bindQueue(ch, "q1", "d", "red", NO_ARGS);
        f.topology.bindQueue(ch, "q2", "d", "red", NO_ARGS);
        f.topology.bindQueue(ch, "q3", "d", "blue", NO_ARGS);

        assertThat(f.publish(ch, "d", "red", "r")).isEqualTo(2);
        assertThat(f.publish(ch, "d", "blue", "b")).isEqualTo(1);
        assertThat(f.publish(ch, "d", "green", "g")).isZero();
        assertThat(f.publish(ch, "d", "re", "prefix")).isZero();

        assertThat(f.ready("q1")).containsExactly("r");
        assertThat(f.ready("q2")).containsExactly("r");
        assertThat(f.ready("q3")).containsExactly("b");
    }

    @Test
    void fanoutExchangeIgnoresTheKey() {
        f.exchange(ch, "f", "fanout");
        f.topology.bindQueue(ch, "q1", "f", "", NO_ARGS);
        f.topology.bindQueue(ch, "q2", "f", "whatever", NO_ARGS);

        assertThat(f.publish(ch, "f", "any.key", "m")).isEqualTo(2);
        assertThat(f.ready("q1")).containsExactly("m");
        assertThat(f.ready("q2")).containsExactly("m");
        assertThat(f.ready("q3")).isEmpty();
    }

    @Test
    void topicExchangeRoutesByPattern() {
        f.topology.bindQueue(ch, "q1", "amq.topic", "stock.*.nyse", NO_ARGS);
        f.topology.bindQueue(ch, "q2", "amq.topic", "stock.#", NO_ARGS);
        f.topology.bindQueue(ch, "q3", "amq.topic", "#", NO_ARGS);

        assertThat(f.publish(ch, "amq.topic", "stock.ibm.nyse", "a")).isEqualTo(3);
        assertThat(f.publish(ch, "amq.topic", "stock", "b")).isEqualTo(2);
        assertThat(f.publish(ch, "amq.topic", "bond.x", "c")).isEqualTo(1);

        assertThat(f.ready("q1")).containsExactly("a");
        assertThat(f.ready("q2")).containsExactly("a", "b");
        assertThat(f.ready("q3")).containsExactly("a", "b", "c");
    }

    @Test
    void aQueueMatchedByTwoBindingsGetsOneCopy() {
        f.topology.bindQueue(ch, "q1", "amq.topic", "a.*", NO_ARGS);
        f.topology.bindQueue(ch, "q1", "amq.topic", "#", NO_ARGS);
        f.topology.bindQueue(ch, "q1", "amq.topic", "a.b", NO_ARGS);

        assertThat(f.publish(ch, "amq.topic", "a.b", "m")).isEqualTo(1);
        assertThat(f.ready("q1")).containsExactly("m");
    }

    @Test
    void headersExchangeRoutesOnHeaders() {
        f.topology.bindQueue(ch, "q1", "amq.headers", "", Map.of("x-match", "all", "a", 1, "b", 2));
        f.topology.bindQueue(ch, "q2", "amq.match", "", Map.of("x-match", "any", "a", 1, "b", 2));

        assertThat(f.broker.publish(ch, "amq.headers", "", message("amq.headers", "", Map.of("a", 1L, "b", 2L),
                false, "both"), 0).routedQueues()).isEqualTo(1);
        assertThat(f.broker.publish(ch, "amq.match", "", message("amq.match", "", Map.of("b", 2), false,
                "one"), 0).routedQueues()).isEqualTo(1);
        assertThat(f.broker.publish(ch, "amq.headers", "", message("amq.headers", "", Map.of(), false,
                "none"), 0).routedQueues()).isZero();

        assertThat(f.ready("q1")).containsExactly("both");
        assertThat(f.ready("q2")).containsExactly("one");
    }

    @Test
    void defaultExchangeRoutesToTheQueueNamedByTheKey() {
        assertThat(f.publish(ch, "", "q2", "m")).isEqualTo(1);
        assertThat(f.publish(ch, "", "no-such-queue", "lost")).isZero();
        assertThat(f.ready("q1")).isEmpty();
        assertThat(f.ready("q2")).containsExactly("m");
    }

    @Test
    void defaultExchangeCannotBeBoundOrDeleted() {
        assertThat(replyCode(() -> f.topology.bindQueue(ch, "q1", "", "q1", NO_ARGS))).isEqualTo(403);
        assertThat(replyCode(() -> f.topology.deleteExchange(ch, "", false))).isEqualTo(403);
        assertThat(replyCode(() -> f.topology.declareExchange(ch, "", "direct", false, true, false, false,
                NO_ARGS))).isEqualTo(403);
    }

    @Test
    void publishToAMissingExchangeIsNotFound() {
        assertThat(replyCode(() -> f.publish(ch, "nope", "k", "m"))).isEqualTo(404);
    }

    @Test
    void publishToAnInternalExchangeIsRefused() {
        f.topology.declareExchange(ch, "inside", "fanout", false, false, false, true, NO_ARGS);
        f.topology.bindQueue(ch, "q1", "inside", "", NO_ARGS);

        assertThat(replyCode(() -> f.publish(ch, "inside", "", "m"))).isEqualTo(403);
        assertThat(f.ready("q1")).isEmpty();
    }

    @Test
    void internalExchangeStillRoutesWhatReachesItThroughAnotherExchange() {
        f.exchange(ch, "front", "fanout");
        f.topology.declareExchange(ch, "inside", "fanout", false, false, false, true, NO_ARGS);
        f.topology.bindExchange(ch, "inside", "front", "", NO_ARGS);
        f.topology.bindQueue(ch, "q1", "inside", "", NO_ARGS);

        assertThat(f.publish(ch, "front", "", "m")).isEqualTo(1);
        assertThat(f.ready("q1")).containsExactly("m");
    }

    @Test
    void exchangeToExchangeBindingsUseTheDestinationsOwnRules() {
        f.exchange(ch, "src", "topic");
        f.exchange(ch, "dst", "direct");
        f.topology.bindExchange(ch, "dst", "src", "orders.#", NO_ARGS);
        f.topology.bindQueue(ch, "q1", "dst", "orders.new", NO_ARGS);
        f.topology.bindQueue(ch, "q2", "dst", "orders.old", NO_ARGS);
        f.topology.bindQueue(ch, "q3", "src", "#", NO_ARGS);

        assertThat(f.publish(ch, "src", "orders.new", "n")).isEqualTo(2);
        assertThat(f.publish(ch, "src", "invoices.new", "i")).isEqualTo(1);

        assertThat(f.ready("q1")).containsExactly("n");
        assertThat(f.ready("q2")).isEmpty();
        assertThat(f.ready("q3")).containsExactly("n", "i");
    }

    @Test
    void bindingCyclesEndAndEachQueueGetsOneCopy() {
        f.exchange(ch, "x1", "fanout");
        f.exchange(ch, "x2", "fanout");
        f.exchange(ch, "x3", "fanout");
        f.topology.bindExchange(ch, "x2", "x1", "", NO_ARGS);
        f.topology.bindExchange(ch, "x3", "x2", "", NO_ARGS);
        f.topology.bindExchange(ch, "x1", "x3", "", NO_ARGS);
        f.topology.bindExchange(ch, "x1", "x1", "", NO_ARGS);
        f.topology.bindQueue(ch, "q1", "x1", "", NO_ARGS);
        f.topology.bindQueue(ch, "q1", "x2", "", NO_ARGS);
        f.topology.bindQueue(ch, "q2", "x3", "", NO_ARGS);

        assertThat(f.publish(ch, "x2", "", "m")).isEqualTo(2);
        assertThat(f.ready("q1")).containsExactly("m");
        assertThat(f.ready("q2")).containsExactly("m");
    }

    @Test
    void diamondOfExchangesDeliversOneCopy() {
        f.exchange(ch, "top", "fanout");
        f.exchange(ch, "left", "fanout");
        f.exchange(ch, "right", "fanout");
        f.topology.bindExchange(ch, "left", "top", "", NO_ARGS);
        f.topology.bindExchange(ch, "right", "top", "", NO_ARGS);
        f.topology.bindQueue(ch, "q1", "left", "", NO_ARGS);
        f.topology.bindQueue(ch, "q1", "right", "", NO_ARGS);

        assertThat(f.publish(ch, "top", "", "m")).isEqualTo(1);
        assertThat(f.ready("q1")).containsExactly("m");
    }

    @Test
    void unbindStopsRouting() {
        f.topology.bindQueue(ch, "q1", "amq.direct", "k", NO_ARGS);
        f.topology.unbindQueue(ch, "q1", "amq.direct", "k", NO_ARGS);
        f.topology.unbindQueue(ch, "q1", "amq.direct", "k", NO_ARGS);

        assertThat(f.publish(ch, "amq.direct", "k", "m")).isZero();
    }

    @Test
    void bindingsToMissingEndsAreNotFound() {
        assertThat(replyCode(() -> f.topology.bindQueue(ch, "missing", "amq.direct", "k", NO_ARGS)))
                .isEqualTo(404);
        assertThat(replyCode(() -> f.topology.bindQueue(ch, "q1", "missing", "k", NO_ARGS))).isEqualTo(404);
        assertThat(replyCode(() -> f.topology.bindExchange(ch, "missing", "amq.direct", "k", NO_ARGS)))
                .isEqualTo(404);
    }

    @Test
    void deletedQueueNoLongerReceives() {
        f.topology.bindQueue(ch, "q1", "amq.fanout", "", NO_ARGS);
        f.topology.bindQueue(ch, "q2", "amq.fanout", "", NO_ARGS);
        f.topology.deleteQueue(ch, "q1", false, false);

        assertThat(f.publish(ch, "amq.fanout", "", "m")).isEqualTo(1);
        assertThat(f.broker.virtualHost("/").exchange("amq.fanout").bindings())
                .extracting(Binding::destination).containsExactly("q2");
    }
}
