package io.holdfast.it;

import static io.holdfast.it.AmqpAssertions.assertChannelClosedWith;
import static io.holdfast.it.AmqpAssertions.awaitChannelClosedWith;
import static org.assertj.core.api.Assertions.assertThat;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.Delivery;
import com.rabbitmq.client.RpcClient;
import com.rabbitmq.client.RpcClientParams;
import com.rabbitmq.client.StringRpcServer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Direct reply-to ({@code amq.rabbitmq.reply-to}) as RabbitMQ documents it, through the Java client: its own
 * {@link RpcClient} (which uses it by default) and the raw steps a requester and a responder take.
 */
class DirectReplyToTest extends SharedBrokerTest {
    private static final String REPLY_TO = "amq.rabbitmq.reply-to";

    @Test
    void rpcClientGetsItsRepliesThroughDirectReplyTo() throws Exception {
        ch.queueDeclare("rpc.upper", false, false, true, null);
        try (Connection serverConn = broker.connect()) {
            Channel serverChannel = serverConn.createChannel();
            StringRpcServer server = new StringRpcServer(serverChannel, "rpc.upper") {
                @Override
                public String handleStringCall(String request) {
                    return request.toUpperCase();
                }
            };
            CompletableFuture<Void> loop = CompletableFuture.runAsync(() -> {
                try {
                    server.mainloop();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            RpcClientParams params = new RpcClientParams().channel(ch).exchange("").routingKey("rpc.upper")
                    .timeout(10_000);
            assertThat(params.getReplyTo()).as("the client's default").isEqualTo(REPLY_TO);
            RpcClient client = new RpcClient(params);
            assertThat(client.stringCall("hello")).isEqualTo("HELLO");
            assertThat(client.stringCall("again")).isEqualTo("AGAIN");
            assertThat(ch.queueDeclarePassive("rpc.upper").getConsumerCount()).as("no reply queue was made")
                    .isEqualTo(1);
            client.close();
            server.terminateMainloop();
            serverChannel.close(); // mainloop waits for a delivery; the channel's shutdown ends it
            loop.get(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void replyToIsRewrittenAndTheReplyComesBackOnTheRequestersChannel() throws Exception {
        ch.queueDeclare("rpc.requests", false, false, true, null);
        Inbox replies = new Inbox(ch);
        String tag = ch.basicConsume(REPLY_TO, true, replies);
        try (Connection responderConn = broker.connect()) {
            Channel responder = responderConn.createChannel();
            Inbox requests = new Inbox(responder);
            responder.basicConsume("rpc.requests", true, requests);

            ch.basicPublish("", "rpc.requests", new AMQP.BasicProperties.Builder().replyTo(REPLY_TO)
                    .correlationId("42").build(), "ping".getBytes(StandardCharsets.UTF_8));
            Delivery request = requests.next();
            String address = request.getProperties().getReplyTo();
            assertThat(address).startsWith(REPLY_TO + ".").hasSizeGreaterThan(REPLY_TO.length() + 1);

            AMQP.Queue.DeclareOk probe = responder.queueDeclarePassive(address);
            assertThat(probe.getMessageCount()).isZero();
            assertThat(probe.getConsumerCount()).as("the requester is there").isEqualTo(1);

            responder.basicPublish("", address, new AMQP.BasicProperties.Builder().correlationId("42").build(),
                    "pong".getBytes(StandardCharsets.UTF_8));
            Delivery reply = replies.next();
            assertThat(Inbox.text(reply)).isEqualTo("pong");
            assertThat(reply.getEnvelope().getRoutingKey()).isEqualTo(address);
            assertThat(reply.getEnvelope().getExchange()).isEmpty();
            assertThat(reply.getProperties().getCorrelationId()).isEqualTo("42");
            assertThat(replies.waiting()).isZero();
            assertThat(tag).isNotEmpty();
        }
    }

    @Test
    void brokerAnnouncesDirectReplyTo() {
        assertThat(conn.getServerProperties().get("capabilities")).asInstanceOf(
                org.assertj.core.api.InstanceOfAssertFactories.MAP).containsEntry("direct_reply_to", true);
    }

    @Test
    void replyConsumerWithManualAckIsPreconditionFailed() {
        AMQP.Channel.Close close = assertChannelClosedWith(AMQP.PRECONDITION_FAILED,
                () -> ch.basicConsume(REPLY_TO, false, new Inbox(ch)));
        assertThat(close.getReplyText()).isEqualTo("PRECONDITION_FAILED - reply consumer cannot acknowledge");
    }

    @Test
    void secondReplyConsumerOnAChannelIsPreconditionFailed() throws Exception {
        ch.basicConsume(REPLY_TO, true, new Inbox(ch));
        AMQP.Channel.Close close = assertChannelClosedWith(AMQP.PRECONDITION_FAILED,
                () -> ch.basicConsume(REPLY_TO, true, new Inbox(ch)));
        assertThat(close.getReplyText()).isEqualTo("PRECONDITION_FAILED - reply consumer already set");
    }

    @Test
    void publishingWithDirectReplyToWithoutConsumingIsPreconditionFailed() throws Exception {
        ch.queueDeclare("rpc.unanswered", false, false, true, null);
        ch.basicPublish("", "rpc.unanswered", new AMQP.BasicProperties.Builder().replyTo(REPLY_TO).build(),
                new byte[0]);
        AMQP.Channel.Close close = awaitChannelClosedWith(AMQP.PRECONDITION_FAILED, ch);
        assertThat(close.getReplyText()).isEqualTo("PRECONDITION_FAILED - fast reply consumer does not exist");
        Channel other = conn.createChannel();
        assertThat(other.queueDeclarePassive("rpc.unanswered").getMessageCount()).as("nothing was enqueued")
                .isZero();
    }

    @Test
    void replyToARequesterThatIsGoneIsDroppedAndNotReturned() throws Exception {
        Channel requester = conn.createChannel();
        requester.basicConsume(REPLY_TO, true, new Inbox(requester));
        requester.queueDeclare("rpc.gone", false, false, true, null);
        requester.basicPublish("", "rpc.gone", new AMQP.BasicProperties.Builder().replyTo(REPLY_TO).build(),
                new byte[0]);
        String address = requester.basicGet("rpc.gone", true).getProps().getReplyTo();
        requester.close();

        CompletableFuture<Integer> returned = new CompletableFuture<>();
        ch.addReturnListener(r -> returned.complete(r.getReplyCode()));
        ch.confirmSelect();
        ch.basicPublish("", address, true, new AMQP.BasicProperties(), "late".getBytes(StandardCharsets.UTF_8));
        ch.waitForConfirmsOrDie(10_000);
        assertThat(returned).as("a reply counts as routed").isNotDone();

        AMQP.Channel.Close close = assertChannelClosedWith(AMQP.NOT_FOUND, () -> ch.queueDeclarePassive(address));
        assertThat(close.getReplyText()).isEqualTo("NOT_FOUND - no queue '" + address + "' in vhost '/'");
        Channel other = conn.createChannel();
        assertThat(other.queueDeclarePassive(REPLY_TO).getConsumerCount()).isEqualTo(1);
    }
}
