package io.holdfast.core;

import static io.holdfast.core.BrokerFixture.NO_ARGS;
import static io.holdfast.core.BrokerFixture.message;
import static io.holdfast.core.BrokerFixture.replyCode;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Sender-selected distribution ({@link SenderSelected}): {@code CC} and {@code BCC} add routing keys. */
class SenderSelectedTest {
    private BrokerFixture f;
    private ChannelState ch;

    @BeforeEach
    void setUp() {
        f = new BrokerFixture();
        ch = f.channel(1);
        for (String q : List.of("a", "b", "c", "d")) {
            f.queue(ch, q);
            f.topology.bindQueue(ch, q, "amq.direct", q, NO_ARGS);
        }
    }

    private Broker.PublishResult publish(String exchange, String key, Map<String, Object> headers) {
        return f.broker.publish(ch, exchange, key, message(exchange, key, headers, false, "m"), 0);
    }

    private Message only(String queue) {
        List<QueueEntry> ready = f.queueState(queue).readySnapshot();
        assertThat(ready).hasSize(1);
        return ready.get(0).residentMessage();
    }

    @Test
    void ccAndBccAddRoutingKeysAndBccIsRemoved() {
        assertThat(publish("amq.direct", "a", Map.of("CC", List.of("b", "a"), "BCC", List.of("c"))).routedQueues())
                .isEqualTo(3);

        assertThat(f.ready("a")).as("one copy, though two keys match").hasSize(1);
        assertThat(f.ready("b")).hasSize(1);
        assertThat(f.ready("c")).hasSize(1);
        assertThat(f.ready("d")).isEmpty();
        assertThat(only("c").headers()).containsKey("CC").doesNotContainKey("BCC");
        assertThat(only("c").routingKey()).isEqualTo("a");
    }

    @Test
    void topicAndDefaultExchangesUseTheKeysFanoutIgnoresThem() {
        f.topology.bindQueue(ch, "d", "amq.topic", "x.*", NO_ARGS);
        assertThat(publish("amq.topic", "none", Map.of("CC", List.of("x.y"))).routedQueues()).isEqualTo(1);
        assertThat(publish("", "a", Map.of("BCC", List.of("b"))).routedQueues()).isEqualTo(2);
        f.topology.bindQueue(ch, "d", "amq.fanout", "", NO_ARGS);
        assertThat(publish("amq.fanout", "", Map.of("CC", List.of("a", "b"))).routedQueues()).isEqualTo(1);
    }

    @Test
    void nonStringElementsAreIgnored() {
        assertThat(publish("amq.direct", "none", Map.of("CC", List.of(1, "b", List.of("c")))).routedQueues())
                .isEqualTo(1);
        assertThat(f.ready("b")).hasSize(1);
    }

    @Test
    void ccThatIsNotAnArrayIsRefused() {
        assertThat(replyCode(() -> publish("amq.direct", "a", Map.of("CC", "b")))).isEqualTo(406);
        assertThat(replyCode(() -> f.broker.checkRoutingHeaders(message("amq.direct", "a", Map.of("BCC", 7), false,
                "m")))).isEqualTo(406);
        assertThat(f.ready("a")).isEmpty();
    }

    @Test
    void deadLetteringWithARoutingKeyDropsCcAndWithoutOneRoutesByItToo() {
        f.topology.declareQueue(ch, "keyed", false, false, false, false, Map.of("x-dead-letter-exchange",
                "amq.direct", "x-dead-letter-routing-key", "d"));
        f.topology.declareQueue(ch, "plain", false, false, false, false, Map.of("x-dead-letter-exchange",
                "amq.direct"));
        f.topology.bindQueue(ch, "keyed", "amq.direct", "k", NO_ARGS);
        f.topology.bindQueue(ch, "plain", "amq.direct", "p", NO_ARGS);
        publish("amq.direct", "k", Map.of("CC", List.of("a")));
        publish("amq.direct", "p", Map.of("CC", List.of("b")));
        f.broker.virtualHost("/").queue("a").purge(e -> { });
        f.broker.virtualHost("/").queue("b").purge(e -> { });

        for (String q : List.of("keyed", "plain")) {
            f.broker.get(ch, q, false, 0);
        }
        f.broker.reject(ch, 0, true, false);

        assertThat(f.ready("d")).hasSize(1);
        assertThat(only("d").headers()).doesNotContainKey("CC");
        assertThat(f.ready("b")).as("the CC key still routes the copy").hasSize(1);
        assertThat(only("b").headers()).containsKey("CC");
        assertThat(f.ready("a")).isEmpty();
    }
}
