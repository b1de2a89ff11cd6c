package io.holdfast.it;

import static io.holdfast.it.AmqpAssertions.assertChannelClosedWith;
import static io.holdfast.it.TopologyTest.drain;
import static org.assertj.core.api.Assertions.assertThat;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.BuiltinExchangeType;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Alternate exchanges ({@code alternate-exchange} on exchange.declare), with mandatory publishing, as RabbitMQ. */
class AlternateExchangeTest extends SharedBrokerTest {
    private final CompletableFuture<String> returned = new CompletableFuture<>();

    @BeforeEach
    void confirmAndListenForReturns() throws Exception {
        ch.addReturnListener(r -> returned.complete(new String(r.getBody(), StandardCharsets.UTF_8)));
        ch.confirmSelect();
    }

    /** Publishes mandatory and waits for the confirm, which comes after any basic.return. */
    private void publishMandatory(String exchange, String key, String body) throws Exception {
        ch.basicPublish(exchange, key, true, new AMQP.BasicProperties(), body.getBytes(StandardCharsets.UTF_8));
        ch.waitForConfirmsOrDie(10_000);
    }

    private void declareWithAlternate(String name, String alternate) throws Exception {
        ch.exchangeDeclare(name, BuiltinExchangeType.DIRECT, false, true, Map.of("alternate-exchange", alternate));
    }

    @Test
    void alternateExchangeTakesUnroutableMessagesAndNothingIsReturned() throws Exception {
        ch.exchangeDeclare("ae.catchall", BuiltinExchangeType.FANOUT, false, true, null);
        String unrouted = ch.queueDeclare().getQueue();
        ch.queueBind(unrouted, "ae.catchall", "");
        declareWithAlternate("ae.orders", "ae.catchall");
        String known = ch.queueDeclare().getQueue();
        ch.queueBind(known, "ae.orders", "known");

        publishMandatory("ae.orders", "known", "routed");
        publishMandatory("ae.orders", "unknown", "stray");

        assertThat(drain(ch, known)).containsExactly("routed");
        assertThat(drain(ch, unrouted)).containsExactly("stray");
        assertThat(returned).as("a message the AE routes is not returned").isNotDone();
    }

    @Test
    void chainsOfAlternateExchangesAreFollowed() throws Exception {
        ch.exchangeDeclare("ae.chain.last", BuiltinExchangeType.FANOUT, false, true, null);
        String q = ch.queueDeclare().getQueue();
        ch.queueBind(q, "ae.chain.last", "");
        declareWithAlternate("ae.chain.middle", "ae.chain.last");
        declareWithAlternate("ae.chain.first", "ae.chain.middle");

        publishMandatory("ae.chain.first", "k", "through-two");

        assertThat(drain(ch, q)).containsExactly("through-two");
        assertThat(returned).isNotDone();
    }

    @Test
    void missingAlternateExchangeMeansUnroutable() throws Exception {
        declareWithAlternate("ae.dangling", "ae.does-not-exist");
        publishMandatory("ae.dangling", "k", "lost");
        assertThat(returned.get(10, TimeUnit.SECONDS)).isEqualTo("lost");
    }

    @Test
    void alternateExchangeThatRoutesNowhereReturnsTheMessage() throws Exception {
        ch.exchangeDeclare("ae.empty", BuiltinExchangeType.FANOUT, false, true, null);
        declareWithAlternate("ae.into-empty", "ae.empty");
        publishMandatory("ae.into-empty", "k", "nowhere");
        assertThat(returned.get(10, TimeUnit.SECONDS)).isEqualTo("nowhere");
    }

    @Test
    void alternateExchangeThatIsNotAStringIsPreconditionFailed() {
        AMQP.Channel.Close close = assertChannelClosedWith(AMQP.PRECONDITION_FAILED,
                () -> ch.exchangeDeclare("ae.bad", BuiltinExchangeType.DIRECT, false, true,
                        Map.of("alternate-exchange", 7)));
        assertThat(close.getReplyText()).isEqualTo("PRECONDITION_FAILED - invalid type 'signedint' for arg "
                + "'alternate-exchange' in exchange 'ae.bad' in vhost '/'");
    }
}
