package io.holdfast.core;

import static io.holdfast.core.BrokerFixture.NO_ARGS;
import static io.holdfast.core.BrokerFixture.replyCode;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The {@code alternate-exchange} argument: what an exchange routes nowhere goes there, as in RabbitMQ. */
class AlternateExchangeTest {
    private BrokerFixture f;
    private ChannelState ch;

    @BeforeEach
    void setUp() {
        f = new BrokerFixture();
        ch = f.channel(1);
        f.queue(ch, "main");
        f.queue(ch, "unrouted");
    }

    private void exchangeWithAlternate(String name, String type, String alternate) {
        f.topology.declareExchange(ch, name, type, false, false, false, false,
                Map.of("alternate-exchange", alternate));
    }

    @Test
    void alternateExchangeTakesUnroutableMessages() {
        f.exchange(ch, "ae", "fanout");
        f.topology.bindQueue(ch, "unrouted", "ae", "", NO_ARGS);
        exchangeWithAlternate("orders", "direct", "ae");
        f.topology.bindQueue(ch, "main", "orders", "known", NO_ARGS);

        assertThat(f.publish(ch, "orders", "known", "routed")).isEqualTo(1);
        assertThat(f.publish(ch, "orders", "other", "stray")).as("routed through the AE").isEqualTo(1);

        assertThat(f.ready("main")).containsExactly("routed");
        assertThat(f.ready("unrouted")).containsExactly("stray");
    }

    @Test
    void alternateExchangesChain() {
        f.exchange(ch, "last", "fanout");
        f.topology.bindQueue(ch, "unrouted", "last", "", NO_ARGS);
        exchangeWithAlternate("middle", "direct", "last");
        exchangeWithAlternate("first", "direct", "middle");

        assertThat(f.publish(ch, "first", "k", "m")).isEqualTo(1);
        assertThat(f.ready("unrouted")).containsExactly("m");
    }

    @Test
    void missingAlternateExchangeLeavesTheMessageUnroutable() {
        exchangeWithAlternate("orders", "direct", "no-such-exchange");
        assertThat(f.publish(ch, "orders", "k", "lost")).isZero();
    }

    @Test
    void alternateExchangeCyclesEnd() {
        exchangeWithAlternate("a", "direct", "b");
        exchangeWithAlternate("b", "direct", "a");
        assertThat(f.publish(ch, "a", "k", "lost")).isZero();
    }

    @Test
    void alternateExchangeOfAnExchangeReachedByBindingIsUsedToo() {
        f.exchange(ch, "ae", "fanout");
        f.topology.bindQueue(ch, "unrouted", "ae", "", NO_ARGS);
        f.exchange(ch, "front", "fanout");
        exchangeWithAlternate("back", "direct", "ae");
        f.topology.bindExchange(ch, "back", "front", "", NO_ARGS);

        assertThat(f.publish(ch, "front", "k", "m")).isEqualTo(1);
        assertThat(f.ready("unrouted")).containsExactly("m");
    }

    @Test
    void nonStringAlternateExchangeIsRefused() {
        assertThat(replyCode(() -> f.topology.declareExchange(ch, "bad", "direct", false, false, false, false,
                Map.of("alternate-exchange", 5)))).isEqualTo(406);
        assertThat(f.broker.virtualHost("/").exchange("bad")).isNull();
    }
}
