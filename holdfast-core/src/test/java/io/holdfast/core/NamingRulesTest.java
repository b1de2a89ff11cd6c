package io.holdfast.core;

import static io.holdfast.core.BrokerFixture.NO_ARGS;
import static io.holdfast.core.BrokerFixture.message;
import static io.holdfast.core.BrokerFixture.replyCode;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The spec's naming shortcuts and RabbitMQ's rules for names, unbinding and headers bindings. */
class NamingRulesTest {
    private BrokerFixture f;
    private ChannelState ch;

    @BeforeEach
    void setUp() {
        f = new BrokerFixture();
        ch = f.channel(1);
    }

    @Test
    void emptyQueueNameAndKeyMeanTheLastDeclaredQueue() {
        String q = f.topology.declareQueue(ch, "", false, false, false, false, NO_ARGS).queue();
        f.topology.bindQueue(ch, "", "amq.direct", "", NO_ARGS);

        assertThat(f.broker.virtualHost("/").exchange("amq.direct").bindings())
                .containsExactly(new Binding("amq.direct", q, true, q, NO_ARGS));
        assertThat(f.publish(ch, "amq.direct", q, "m")).isEqualTo(1);
        assertThat(f.broker.get(ch, "", true, 0).message().body()).asString().isEqualTo("m");
        f.publish(ch, "amq.direct", q, "again");
        assertThat(f.topology.purgeQueue(ch, "")).isEqualTo(1);
        f.topology.unbindQueue(ch, "", "amq.direct", "", NO_ARGS);
        assertThat(f.broker.virtualHost("/").exchange("amq.direct").bindings()).isEmpty();
        assertThat(f.topology.deleteQueue(ch, "", false, false)).isZero();
        assertThat(f.broker.virtualHost("/").queue(q)).isNull();
    }

    @Test
    void emptyQueueNameWithoutADeclaredQueueIsNotFound() {
        BrokerException e = catchThrowableOfType(BrokerException.class,
                () -> f.topology.bindQueue(ch, "", "amq.direct", "", NO_ARGS));
        assertThat(e.code()).isEqualTo(ErrorCode.NOT_FOUND);
        assertThat(e.getMessage()).isEqualTo("no previously declared queue");
        assertThat(replyCode(() -> f.broker.consume(ch, "", "", true, false, NO_ARGS))).isEqualTo(404);
        assertThat(replyCode(() -> f.topology.purgeQueue(ch, ""))).isEqualTo(404);
        assertThat(replyCode(() -> f.broker.get(ch, "", true, 0))).isEqualTo(404);
        assertThat(replyCode(() -> f.topology.deleteQueue(ch, "", false, false))).isEqualTo(404);
    }

    @Test
    void lineBreaksAreDroppedFromQueueAndExchangeNames() {
        assertThat(f.topology.declareQueue(ch, "line\nbreak\r", false, false, false, false, NO_ARGS).queue())
                .isEqualTo("linebreak");
        f.topology.declareExchange(ch, "ex\r\nchange", "direct", false, false, false, false, NO_ARGS);
        f.topology.bindQueue(ch, "line\nbreak", "exchange\n", "k", NO_ARGS);

        assertThat(f.publish(ch, "exchange", "k", "m")).isEqualTo(1);
        assertThat(f.ready("linebreak")).containsExactly("m");
    }

    @Test
    void unbindingWhatDoesNotExistIsFine() {
        f.queue(ch, "q");
        f.topology.unbindQueue(ch, "q", "amq.direct", "never-bound", NO_ARGS);
        f.topology.unbindQueue(ch, "no-such-queue", "amq.direct", "k", NO_ARGS);
        f.topology.unbindQueue(ch, "q", "no-such-exchange", "k", NO_ARGS);
        f.topology.unbindExchange(ch, "no-such-exchange", "amq.direct", "k", NO_ARGS);
        assertThat(replyCode(() -> f.topology.unbindQueue(ch, "q", "", "q", NO_ARGS))).isEqualTo(403);
    }

    @Test
    void headersBindingWithAnUnknownXMatchIsRefused() {
        f.queue(ch, "q");
        BrokerException e = catchThrowableOfType(BrokerException.class,
                () -> f.topology.bindQueue(ch, "q", "amq.headers", "", Map.of("x-match", "bogus")));
        assertThat(e.code()).isEqualTo(ErrorCode.PRECONDITION_FAILED);
        assertThat(e.getMessage())
                .isEqualTo("Invalid x-match field value <<\"bogus\">>; expected all, any, all-with-x, or any-with-x");
        e = catchThrowableOfType(BrokerException.class,
                () -> f.topology.bindQueue(ch, "q", "amq.headers", "", Map.of("x-match", 1)));
        assertThat(e.getMessage()).isEqualTo("Invalid x-match field type signedint (value 1); expected longstr");
        assertThat(f.broker.virtualHost("/").exchange("amq.headers").bindings()).isEmpty();

        f.topology.bindQueue(ch, "q", "amq.direct", "", Map.of("x-match", "bogus")); // not a headers exchange
    }

    @Test
    void withXModesAlsoMatchXHeaders() {
        f.queue(ch, "all");
        f.queue(ch, "any");
        f.queue(ch, "plain");
        f.topology.bindQueue(ch, "all", "amq.headers", "", Map.of("x-match", "all-with-x", "x-kind", "a", "n", 1));
        f.topology.bindQueue(ch, "any", "amq.headers", "", Map.of("x-match", "any-with-x", "x-kind", "a"));
        f.topology.bindQueue(ch, "plain", "amq.headers", "", Map.of("x-match", "any", "x-kind", "a"));

        f.broker.publish(ch, "amq.headers", "", message("amq.headers", "", Map.of("x-kind", "a", "n", 1), false,
                "m"), 0);
        f.broker.publish(ch, "amq.headers", "", message("amq.headers", "", Map.of("x-kind", "b", "n", 1), false,
                "other"), 0);

        assertThat(f.ready("all")).containsExactly("m");
        assertThat(f.ready("any")).containsExactly("m");
        assertThat(f.ready("plain")).as("x- headers only count with -with-x").isEmpty();
    }
}
