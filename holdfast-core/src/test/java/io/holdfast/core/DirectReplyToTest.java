package io.holdfast.core;

import static io.holdfast.core.BrokerFixture.NO_ARGS;
import static io.holdfast.core.BrokerFixture.message;
import static io.holdfast.core.BrokerFixture.replyCode;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Direct reply-to ({@link DirectReplyTo}): replies go straight to the requester's channel, at most once. */
class DirectReplyToTest {
    private static final String PSEUDO = "amq.rabbitmq.reply-to";

    private BrokerFixture f;
    private ChannelState requester;
    private ChannelState responder;

    @BeforeEach
    void setUp() {
        f = new BrokerFixture();
        requester = f.channel(1);
        responder = f.channel(2);
    }

    private String consumeReplies(ChannelState ch) {
        return f.broker.consume(ch, PSEUDO, "", true, false, NO_ARGS);
    }

    private Broker.PublishResult reply(String address, String body) {
        return f.broker.publish(responder, "", address, message("", address, Map.of(), false, body), 0);
    }

    @Test
    void replyToTheAddressReachesTheRequestersReplyConsumer() {
        String tag = consumeReplies(requester);
        String address = f.broker.directReplyAddress(requester);

        assertThat(address).startsWith(PSEUDO + ".").isNotEqualTo(PSEUDO + ".");
        assertThat(reply(address, "pong").routedQueues()).isEqualTo(1);

        BrokerFixture.Delivery d = f.output(requester).replies.get(0);
        assertThat(d.consumerTag()).isEqualTo(tag);
        assertThat(d.body()).isEqualTo("pong");
        assertThat(d.message().routingKey()).isEqualTo(address);
        assertThat(f.output(responder).replies).isEmpty();
    }

    @Test
    void replyDeliveryTagsShareTheChannelsSequence() {
        f.queue(requester, "work");
        f.consume(requester, "work", true);
        consumeReplies(requester);
        f.publishTo(responder, "work", "request");
        reply(f.broker.directReplyAddress(requester), "reply");

        assertThat(f.output(requester).last().deliveryTag()).isEqualTo(1);
        assertThat(f.output(requester).replies.get(0).deliveryTag()).isEqualTo(2);
    }

    @Test
    void manualAckReplyConsumerIsRefused() {
        assertThat(replyCode(() -> f.broker.consume(requester, PSEUDO, "", false, false, NO_ARGS))).isEqualTo(406);
    }

    @Test
    void secondReplyConsumerOnAChannelIsRefused() {
        consumeReplies(requester);
        assertThat(replyCode(() -> consumeReplies(requester))).isEqualTo(406);
    }

    @Test
    void addressWithoutReplyConsumerIsRefused() {
        assertThat(replyCode(() -> f.broker.directReplyAddress(requester))).isEqualTo(406);
    }

    @Test
    void replyToARequesterThatIsGoneIsDroppedButStillRouted() {
        consumeReplies(requester);
        String address = f.broker.directReplyAddress(requester);
        f.broker.closeChannel(requester);

        assertThat(reply(address, "late").unroutable()).isFalse();
        assertThat(f.output(requester).replies).isEmpty();
    }

    @Test
    void cancelledReplyConsumerGetsANewAddressAndOldRepliesAreDropped() {
        String tag = consumeReplies(requester);
        String old = f.broker.directReplyAddress(requester);
        assertThat(f.broker.cancel(requester, tag)).isTrue();
        assertThat(replyCode(() -> f.broker.directReplyAddress(requester))).isEqualTo(406);

        consumeReplies(requester);
        String fresh = f.broker.directReplyAddress(requester);
        reply(old, "to-old");
        reply(fresh, "to-fresh");

        assertThat(fresh).isNotEqualTo(old);
        assertThat(f.output(requester).replies).extracting(BrokerFixture.Delivery::body).containsExactly("to-fresh");
    }

    @Test
    void replyTheRequesterCannotTakeNowIsDropped() {
        consumeReplies(requester);
        f.output(requester).writable = false;
        reply(f.broker.directReplyAddress(requester), "dropped");

        assertThat(f.output(requester).replies).isEmpty();
    }

    @Test
    void declaringTheAddressTellsWhetherTheRequesterIsStillThere() {
        consumeReplies(requester);
        String address = f.broker.directReplyAddress(requester);

        Topology.DeclareOk ok = f.topology.declareQueue(responder, address, true, false, false, false, NO_ARGS);
        assertThat(ok).isEqualTo(new Topology.DeclareOk(address, 0, 1));
        assertThat(f.topology.declareQueue(responder, PSEUDO, false, false, false, false, NO_ARGS))
                .isEqualTo(new Topology.DeclareOk(PSEUDO, 0, 1));

        f.broker.closeChannel(requester);
        assertThat(replyCode(() -> f.topology.declareQueue(responder, address, true, false, false, false,
                NO_ARGS))).isEqualTo(404);
        assertThat(f.broker.virtualHost("/").queue(address)).as("nothing is created").isNull();
    }

    @Test
    void replyConsumerTagCannotBeReused() {
        f.queue(requester, "work");
        f.broker.consume(requester, PSEUDO, "mine", true, false, NO_ARGS);

        assertThat(replyCode(() -> f.broker.consume(requester, "work", "mine", true, false, NO_ARGS)))
                .isEqualTo(530);
    }
}
