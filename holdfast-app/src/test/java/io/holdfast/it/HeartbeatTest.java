package io.holdfast.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.Delivery;
import com.rabbitmq.client.ShutdownSignalException;
import com.rabbitmq.client.impl.AMQConnection;
import com.rabbitmq.client.impl.Frame;
import io.holdfast.protocol.Method;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Heartbeats as RabbitMQ sends and judges them: one every half of the negotiated interval, a client
 * silent for two intervals closed and its unacked messages requeued. Through both of the Java client's
 * IO layers, since the Netty one gives up after one silent interval.
 */
class HeartbeatTest extends ClassBroker {
    @ParameterizedTest
    @EnumSource(IoLayer.class)
    void idleConnectionWithOneSecondHeartbeatsStaysOpen(IoLayer io) throws Exception {
        ConnectionFactory f = io.use(broker.factory());
        f.setRequestedHeartbeat(1);
        CountDownLatch lost = new CountDownLatch(1);
        try (Connection c = f.newConnection()) {
            c.addShutdownListener(e -> lost.countDown());
            assertThat(c.getHeartbeat()).isEqualTo(1);
            // Idle for ten intervals: only heartbeats cross the wire, and they must be enough.
            assertThat(lost.await(10, TimeUnit.SECONDS)).as("connection lost while idle").isFalse();
            assertThat(c.createChannel().queueDeclare().getQueue()).startsWith("amq.gen-");
        }
    }

    /**
     * The Netty IO layer reads with a timeout of one interval from tune on, and the broker's next frame,
     * open-ok, comes from the broker thread, which may be busy (a topology save, many connections
     * closing at once). Heartbeats go out from tune-ok on, from the connection's own event loop, so the
     * handshake waits for the broker thread instead of timing out. (The socket IO layer is stricter
     * here, against RabbitMQ too: until open-ok any read timeout, a quarter interval, is fatal to it.)
     */
    @Test
    void nettyHandshakeOutlastsABrokerThreadBusyForLongerThanTheHeartbeatInterval() throws Exception {
        ConnectionFactory f = IoLayer.NETTY.use(broker.factory());
        f.setRequestedHeartbeat(1);
        CountDownLatch busy = new CountDownLatch(1);
        broker.server().engine().loop().execute(() -> {
            try {
                busy.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        CompletableFuture<Connection> connecting = CompletableFuture.supplyAsync(() -> {
            try {
                return f.newConnection();
            } catch (IOException | java.util.concurrent.TimeoutException e) {
                throw new java.util.concurrent.CompletionException(e);
            }
        });
        try {
            // Two intervals with the broker thread stuck: the client waits for open-ok and does not give up.
            await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(3)).until(() -> !connecting.isDone());
        } finally {
            busy.countDown();
        }
        try (Connection c = connecting.get(10, TimeUnit.SECONDS)) {
            assertThat(c.isOpen()).isTrue();
            assertThat(c.createChannel().queueDeclare().getQueue()).startsWith("amq.gen-");
        }
    }

    @Test
    void brokerSendsAHeartbeatEveryHalfInterval() throws Exception {
        try (RawAmqpClient raw = RawAmqpClient.connect(broker.port())) {
            raw.handshake(0, 0, 2);
            List<Long> arrivals = new ArrayList<>();
            while (arrivals.size() < 5) {
                RawAmqpClient.RawFrame f = raw.readFrame();
                assertThat(f.type()).as("only heartbeats on an idle connection").isEqualTo(8);
                arrivals.add(System.nanoTime());
                raw.sendHeartbeat(); // stay alive ourselves
            }
            for (int i = 1; i < arrivals.size(); i++) {
                long gapMillis = (arrivals.get(i) - arrivals.get(i - 1)) / 1_000_000;
                assertThat(gapMillis).as("gap between heartbeats %d and %d", i, i + 1).isBetween(500L, 1_700L);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(IoLayer.class)
    void silentClientIsClosedAfterTwoIntervalsAndItsUnackedMessagesGoToAnotherConsumer(IoLayer io)
            throws Exception {
        try (Connection c = io.use(broker.factory()).newConnection()) {
            Channel ch = c.createChannel();
            String q = ch.queueDeclare("silent-" + io, false, false, false, null).getQueue();
            ch.confirmSelect();
            for (int i = 1; i <= 3; i++) {
                ch.basicPublish("", q, null, ("m" + i).getBytes(StandardCharsets.UTF_8));
            }
            ch.waitForConfirmsOrDie(10_000);

            try (RawAmqpClient raw = RawAmqpClient.connect(broker.port())) {
                raw.handshake(0, 0, 1);
                raw.openChannel(1);
                raw.send(1, new Method.BasicConsume(0, q, "", false, false, false, false, Map.of()));
                raw.expect(Method.BasicConsumeOk.class);
                for (int i = 1; i <= 3; i++) {
                    assertThat(((Method.BasicDeliver) raw.readContent().method()).redelivered()).isFalse();
                }
                BlockingQueue<Delivery> other = new LinkedBlockingQueue<>();
                ch.basicConsume(q, true, (tag, d) -> other.add(d), tag -> { });

                // Now the raw client goes silent: no heartbeats, no acks.
                RawAmqpClient.Disconnect gone = raw.waitForBrokerToDisconnect();
                assertThat(gone.millis()).as("closed after two 1 s intervals of silence").isBetween(1_500L, 4_000L);
                assertThat(gone.heartbeatsReceived()).as("the broker heartbeats meanwhile").isGreaterThanOrEqualTo(2);

                for (int i = 1; i <= 3; i++) {
                    Delivery d = other.poll(10, TimeUnit.SECONDS);
                    assertThat(d).as("redelivery %d", i).isNotNull();
                    assertThat(new String(d.getBody(), StandardCharsets.UTF_8)).isEqualTo("m" + i);
                    assertThat(d.getEnvelope().isRedeliver()).isTrue();
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(IoLayer.class)
    void heartbeatOnAChannelOtherThanZeroClosesOnlyItsConnectionWith505(IoLayer io) throws Exception {
        ConnectionFactory f = io.use(broker.factory());
        try (Connection bystander = f.newConnection()) {
            AMQConnection c = (AMQConnection) f.newConnection();
            CompletableFuture<ShutdownSignalException> closed = new CompletableFuture<>();
            c.addShutdownListener(closed::complete);
            c.createChannel(1);
            c.writeFrame(new Frame(AMQP.FRAME_HEARTBEAT, 1));
            c.flush();
            ShutdownSignalException e = closed.get(10, TimeUnit.SECONDS);
            assertThat(e.isHardError()).isTrue();
            AMQP.Connection.Close close = (AMQP.Connection.Close) e.getReason();
            assertThat(close.getReplyCode()).isEqualTo(AMQP.UNEXPECTED_FRAME);
            assertThat(close.getReplyText()).startsWith("UNEXPECTED_FRAME - heartbeat frame on channel 1");
            assertThat(bystander.createChannel().queueDeclare().getQueue()).startsWith("amq.gen-");
        }
    }
}
