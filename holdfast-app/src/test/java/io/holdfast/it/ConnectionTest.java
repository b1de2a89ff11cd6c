package io.holdfast.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.AuthenticationFailureException;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.GetResponse;
import com.rabbitmq.client.LongString;
import com.rabbitmq.client.SaslMechanism;
import com.rabbitmq.client.ShutdownSignalException;
import com.rabbitmq.client.impl.LongStringHelper;
import io.holdfast.protocol.FrameWriter;
import io.holdfast.protocol.Method;
import io.holdfast.server.config.ServerConfig;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Connection establishment, negotiation, liveness and shutdown, as RabbitMQ clients expect them. */
class ConnectionTest extends ClassBroker {
    // ---- authentication ----

    @ParameterizedTest
    @EnumSource(IoLayer.class)
    void plainLoginOpensTheConnection(IoLayer io) throws Exception {
        ConnectionFactory f = io.use(broker.factory());
        f.setUsername("guest");
        f.setPassword("guest");
        try (Connection c = f.newConnection()) {
            assertThat(c.isOpen()).isTrue();
            assertThat(c.createChannel().queueDeclare().getQueue()).startsWith("amq.gen-");
        }
    }

    @Test
    void amqplainLoginOpensTheConnection() throws Exception {
        List<String> offered = new ArrayList<>();
        ConnectionFactory f = broker.factory();
        f.setSaslConfig(mechanisms -> {
            offered.addAll(List.of(mechanisms));
            return new AmqPlain();
        });
        try (Connection c = f.newConnection()) {
            assertThat(offered).contains("PLAIN", "AMQPLAIN");
            assertThat(c.isOpen()).isTrue();
            assertThat(c.createChannel().queueDeclare().getQueue()).startsWith("amq.gen-");
        }
    }

    @ParameterizedTest
    @EnumSource(IoLayer.class)
    void wrongPasswordIsRefusedAsAuthenticationFailure(IoLayer io) {
        ConnectionFactory f = io.use(broker.factory());
        f.setPassword("not-the-password");
        assertThatThrownBy(f::newConnection)
                .isInstanceOf(AuthenticationFailureException.class)
                .hasMessageContaining("ACCESS_REFUSED");
    }

    @Test
    void wrongAmqplainPasswordIsRefusedAsAuthenticationFailure() {
        ConnectionFactory f = broker.factory();
        f.setPassword("not-the-password");
        f.setSaslConfig(mechanisms -> new AmqPlain());
        assertThatThrownBy(f::newConnection)
                .isInstanceOf(AuthenticationFailureException.class)
                .hasMessageContaining("ACCESS_REFUSED");
    }

    @Test
    void unknownUserIsRefusedAsAuthenticationFailure() {
        ConnectionFactory f = broker.factory();
        f.setUsername("nobody");
        assertThatThrownBy(f::newConnection).isInstanceOf(AuthenticationFailureException.class);
    }

    // ---- what the server says about itself ----

    @Test
    void serverPropertiesAdvertiseTheCapabilitiesClientsLookFor() throws Exception {
        try (Connection c = broker.connect()) {
            Map<String, Object> props = c.getServerProperties();
            assertThat(props.get("product")).hasToString("Holdfast");
            assertThat(props.get("capabilities")).isInstanceOf(Map.class);
            @SuppressWarnings("unchecked")
            Map<String, Object> caps = (Map<String, Object>) props.get("capabilities");
            for (String cap : List.of("publisher_confirms", "exchange_exchange_bindings", "basic.nack",
                    "consumer_cancel_notify", "connection.blocked", "authentication_failure_close",
                    "per_consumer_qos")) {
                assertThat(caps.get(cap)).as(cap).isEqualTo(Boolean.TRUE);
            }
        }
    }

    // ---- tuning ----

    @Test
    void serverProposesItsConfiguredLimitsInTune() throws Exception {
        ServerConfig config = broker.server().engine().config();
        try (RawAmqpClient raw = RawAmqpClient.connect(broker.port())) {
            Method.ConnectionTune tune = raw.handshake(0, 0, 0);
            assertThat(tune.channelMax()).isEqualTo(config.channelMax());
            assertThat(tune.frameMax()).isEqualTo(config.frameMax());
            assertThat(tune.heartbeat()).isEqualTo(config.heartbeatSeconds());
        }
    }

    @ParameterizedTest
    @EnumSource(IoLayer.class)
    void clientsSmallerTuneValuesWin(IoLayer io) throws Exception {
        ConnectionFactory f = io.use(broker.factory());
        f.setRequestedChannelMax(7);
        f.setRequestedFrameMax(8192);
        f.setRequestedHeartbeat(5);
        try (Connection c = f.newConnection()) {
            assertThat(c.getChannelMax()).isEqualTo(7);
            assertThat(c.getFrameMax()).isEqualTo(8192);
            assertThat(c.getHeartbeat()).isEqualTo(5);
            // The broker splits a large delivery at the frame_max the client asked for; the client
            // reassembles it.
            Channel ch = c.createChannel();
            String q = ch.queueDeclare().getQueue();
            byte[] body = bytes(50_000);
            ch.basicPublish("", q, null, body);
            GetResponse r = ch.basicGet(q, true);
            assertThat(r.getBody()).isEqualTo(body);
        }
    }

    @ParameterizedTest
    @EnumSource(IoLayer.class)
    void zeroRequestedTuneValuesMeanTheServersOnes(IoLayer io) throws Exception {
        ServerConfig config = broker.server().engine().config();
        ConnectionFactory f = io.use(broker.factory());
        f.setRequestedChannelMax(0);
        f.setRequestedFrameMax(0);
        f.setRequestedHeartbeat(0);
        try (Connection c = f.newConnection()) {
            assertThat(c.getChannelMax()).isEqualTo(config.channelMax());
            assertThat(c.getFrameMax()).isEqualTo(config.frameMax());
            assertThat(c.getHeartbeat()).isEqualTo(config.heartbeatSeconds());
        }
    }

    @Test
    void deliveriesAreSplitAtTheFrameMaxTheClientTuned() throws Exception {
        byte[] body = bytes(20_000);
        String q = publishToNewQueue(body);
        try (RawAmqpClient raw = RawAmqpClient.connect(broker.port())) {
            raw.handshake(0, 4096, 0);
            raw.openChannel(1);
            raw.send(1, new Method.BasicGet(0, q, true));
            RawAmqpClient.Content got = raw.readContent();
            assertThat(got.method()).isInstanceOf(Method.BasicGetOk.class);
            assertThat(got.body()).isEqualTo(body);
            assertThat(got.largestFrame()).isEqualTo(4096);
        }
    }

    @Test
    void frameMaxZeroMeansTheServersFrameMax() throws Exception {
        int serverFrameMax = broker.server().engine().config().frameMax();
        byte[] body = bytes(serverFrameMax * 2 + 100);
        String q = publishToNewQueue(body);
        try (RawAmqpClient raw = RawAmqpClient.connect(broker.port())) {
            raw.handshake(0, 0, 0);
            raw.openChannel(1);
            raw.send(1, new Method.BasicGet(0, q, true));
            RawAmqpClient.Content got = raw.readContent();
            assertThat(got.body()).isEqualTo(body);
            assertThat(got.largestFrame()).isEqualTo(serverFrameMax);
        }
    }

    @Test
    void openingAChannelAboveTheTunedChannelMaxClosesTheConnectionWith530() throws Exception {
        try (RawAmqpClient raw = RawAmqpClient.connect(broker.port())) {
            raw.handshake(3, 0, 0);
            raw.openChannel(3);
            raw.send(4, new Method.ChannelOpen(""));
            Method.ConnectionClose close = raw.expect(Method.ConnectionClose.class);
            assertThat(close.replyCode()).isEqualTo(AMQP.NOT_ALLOWED);
            assertThat(close.replyText()).startsWith("NOT_ALLOWED - ");
        }
    }

    @Test
    void channelMaxZeroMeansTheServersChannelMax() throws Exception {
        int serverChannelMax = broker.server().engine().config().channelMax();
        try (RawAmqpClient raw = RawAmqpClient.connect(broker.port())) {
            raw.handshake(0, 0, 0);
            raw.openChannel(serverChannelMax);
            raw.send(serverChannelMax + 1, new Method.ChannelOpen(""));
            assertThat(raw.expect(Method.ConnectionClose.class).replyCode()).isEqualTo(AMQP.NOT_ALLOWED);
        }
    }

    // ---- vhosts ----

    @ParameterizedTest
    @EnumSource(IoLayer.class)
    void unknownVirtualHostIsRefusedWith530(IoLayer io) {
        ConnectionFactory f = io.use(broker.factory());
        f.setVirtualHost("no-such-vhost");
        assertThatThrownBy(f::newConnection)
                .isInstanceOf(IOException.class)
                .cause()
                .isInstanceOfSatisfying(ShutdownSignalException.class, e -> {
                    assertThat(e.isHardError()).isTrue();
                    AMQP.Connection.Close close = (AMQP.Connection.Close) e.getReason();
                    assertThat(close.getReplyCode()).isEqualTo(AMQP.NOT_ALLOWED);
                    assertThat(close.getReplyText()).contains("no-such-vhost");
                });
    }

    // ---- many connections ----

    @ParameterizedTest
    @EnumSource(IoLayer.class)
    void fiveHundredConnectionsOpenedOneAfterAnotherAllSucceed(IoLayer io) throws Exception {
        ConnectionFactory f = io.use(broker.factory());
        f.setRequestedHeartbeat(1);
        List<String> failures = new ArrayList<>();
        for (int i = 0; i < 500; i++) {
            try (Connection c = f.newConnection()) {
                c.createChannel().basicQos(1);
            } catch (IOException | TimeoutException | RuntimeException e) {
                failures.add("connection " + i + ": " + e);
            }
        }
        assertThat(failures).isEmpty();
    }

    // ---- protocol header ----

    @Test
    void wrongProtocolHeaderIsAnsweredWithTheSupportedOneAndTheSocketClosed() throws Exception {
        try (RawAmqpClient raw = RawAmqpClient.connect(broker.port())) {
            raw.sendBytes(new byte[] {'A', 'M', 'Q', 'P', 0, 0, 10, 0});
            assertThat(raw.readUntilClosed()).isEqualTo(FrameWriter.PROTOCOL_HEADER);
        }
    }

    @Test
    void httpRequestIsAnsweredWithTheAmqpHeaderAndTheSocketClosed() throws Exception {
        try (RawAmqpClient raw = RawAmqpClient.connect(broker.port())) {
            raw.sendBytes("GET / HTTP/1.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            assertThat(raw.readUntilClosed()).isEqualTo(FrameWriter.PROTOCOL_HEADER);
        }
    }

    // ---- shutdown ----

    @ParameterizedTest
    @EnumSource(IoLayer.class)
    void brokerShutdownClosesClientsWithConnectionForced(IoLayer io, @TempDir Path ownDir) throws Exception {
        RunningBroker own = RunningBroker.start(ownDir);
        CompletableFuture<ShutdownSignalException> closed = new CompletableFuture<>();
        Connection c = io.use(own.factory()).newConnection();
        try {
            c.addShutdownListener(closed::complete);
            own.close();
            ShutdownSignalException e = closed.get(10, TimeUnit.SECONDS);
            assertThat(e.isHardError()).isTrue();
            assertThat(e.isInitiatedByApplication()).isFalse();
            AMQP.Connection.Close close = (AMQP.Connection.Close) e.getReason();
            assertThat(close.getReplyCode()).isEqualTo(AMQP.CONNECTION_FORCED);
            assertThat(close.getReplyText()).startsWith("CONNECTION_FORCED - ");
            assertThat(c.isOpen()).isFalse();
        } finally {
            c.abort();
        }
    }

    // ---- helpers ----

    private static String publishToNewQueue(byte[] body) throws Exception {
        try (Connection c = broker.connect()) {
            Channel ch = c.createChannel();
            String q = ch.queueDeclare("", false, false, false, null).getQueue();
            ch.basicPublish("", q, null, body);
            assertThat(ch.queueDeclarePassive(q).getMessageCount()).isEqualTo(1);
            return q;
        }
    }

    private static byte[] bytes(int n) {
        byte[] b = new byte[n];
        new java.util.Random(n).nextBytes(b);
        return b;
    }

    /** SASL AMQPLAIN, which the Java client does not ship: LOGIN and PASSWORD in a field table without its length. */
    private static final class AmqPlain implements SaslMechanism {
        @Override
        public String getName() {
            return "AMQPLAIN";
        }

        @Override
        public LongString handleChallenge(LongString challenge, String username, String password) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            entry(out, "LOGIN", username);
            entry(out, "PASSWORD", password);
            return LongStringHelper.asLongString(out.toByteArray());
        }

        private static void entry(ByteArrayOutputStream out, String key, String value) {
            byte[] k = key.getBytes(StandardCharsets.UTF_8);
            byte[] v = value.getBytes(StandardCharsets.UTF_8);
            out.write(k.length);
            out.writeBytes(k);
            out.write('S');
            out.write(v.length >>> 24);
            out.write(v.length >>> 16);
            out.write(v.length >>> 8);
            out.write(v.length);
            out.writeBytes(v);
        }
    }
}
