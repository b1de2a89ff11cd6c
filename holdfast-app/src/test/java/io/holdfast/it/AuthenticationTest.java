package io.holdfast.it;

import static io.holdfast.it.AmqpAssertions.awaitChannelClosedWith;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.AuthenticationFailureException;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.GetResponse;
import com.rabbitmq.client.PossibleAuthenticationFailureException;
import com.rabbitmq.client.ShutdownSignalException;
import com.rabbitmq.client.impl.CredentialsProvider;
import com.rabbitmq.client.impl.CredentialsRefreshService;
import io.holdfast.protocol.FrameWriter;
import io.holdfast.protocol.Method;
import io.holdfast.server.auth.AccessControl;
import io.holdfast.server.auth.Permission;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The edges of authentication as RabbitMQ has them: a refused login seen by a client that does not
 * expect connection.close, credentials renewed with connection.update-secret, and the validated
 * user-id property.
 */
class AuthenticationTest extends ClassBroker {
    // ---- refused login ----

    @Test
    void clientAdvertisingAuthenticationFailureCloseLearnsItsLoginWasRefused() {
        ConnectionFactory f = broker.factory();
        f.setPassword("not-the-password");
        assertThatThrownBy(f::newConnection).isInstanceOf(AuthenticationFailureException.class)
                .hasMessageContaining("ACCESS_REFUSED - Login was refused using authentication mechanism PLAIN");
    }

    @Test
    void clientWithoutAuthenticationFailureCloseHasItsSocketClosedOnARefusedLogin() {
        ConnectionFactory f = broker.factory();
        f.setPassword("not-the-password");
        Map<String, Object> props = new HashMap<>(f.getClientProperties());
        @SuppressWarnings("unchecked")
        Map<String, Object> caps = new HashMap<>((Map<String, Object>) props.get("capabilities"));
        caps.remove("authentication_failure_close");
        props.put("capabilities", caps);
        f.setClientProperties(props);
        // No connection.close to read: the client can only guess, and says so.
        assertThatThrownBy(f::newConnection).isInstanceOf(PossibleAuthenticationFailureException.class)
                .isNotInstanceOf(AuthenticationFailureException.class);
    }

    @Test
    void rawClientWithoutTheCapabilityGetsNoConnectionCloseOnARefusedLogin() throws Exception {
        try (HostileClient c = HostileClient.connect(broker.port())) {
            c.sendRaw(FrameWriter.PROTOCOL_HEADER);
            c.expectMethod(0, Method.ConnectionStart.class);
            c.sendStartOk(Map.of("product", "no capabilities"), "guest", "not-the-password");
            assertThat(c.readAllUntilClosed()).as("what the server sends before closing").isEmpty();
        }
        try (Connection c = broker.connect()) {
            assertThat(c.isOpen()).as("the broker goes on").isTrue();
        }
    }

    // ---- update-secret ----

    /** A user with every permission on vhost {@code /}. */
    private static void addUser(AccessControl users, String name, String password) {
        users.addUser(AccessControl.Actor.BROKER, name, password, java.util.List.of());
        users.setPermissions(AccessControl.Actor.BROKER, name, "/", Permission.all());
    }

    @Test
    void updateSecretWithARotatedPasswordIsAcceptedAndTheConnectionGoesOn() throws Exception {
        AccessControl users = broker.server().engine().access();
        addUser(users, "rotating", "first-secret");
        RenewableCredentials credentials = new RenewableCredentials("rotating", "first-secret");
        try (Connection c = credentials.factory().newConnection()) {
            Channel ch = c.createChannel();
            String q = ch.queueDeclare().getQueue();

            users.changePassword(AccessControl.Actor.BROKER, "rotating", "second-secret");
            credentials.password = "second-secret";
            assertThat(credentials.renew()).as("update-secret answered with update-secret-ok").isTrue();

            assertThat(c.isOpen()).isTrue();
            ch.basicPublish("", q, null, "after renewal".getBytes(StandardCharsets.UTF_8));
            assertThat(ch.basicGet(q, true).getBody()).asString().isEqualTo("after renewal");
        }
    }

    @Test
    void updateSecretWithAWrongSecretClosesTheConnectionWith530() throws Exception {
        addUser(broker.server().engine().access(), "forgetful", "the-secret");
        RenewableCredentials credentials = new RenewableCredentials("forgetful", "the-secret");
        try (Connection bystander = broker.connect()) {
            Connection c = credentials.factory().newConnection();
            CompletableFuture<ShutdownSignalException> closed = new CompletableFuture<>();
            c.addShutdownListener(closed::complete);

            credentials.password = "not-the-secret";
            assertThat(credentials.renew()).as("the client sees its renewal fail").isFalse();

            ShutdownSignalException e = closed.get(10, TimeUnit.SECONDS);
            assertThat(e.isHardError()).isTrue();
            AMQP.Connection.Close close = (AMQP.Connection.Close) e.getReason();
            assertThat(close.getReplyCode()).isEqualTo(AMQP.NOT_ALLOWED);
            assertThat(close.getReplyText()).isEqualTo("NOT_ALLOWED - New secret was refused by one of the backends");
            assertThat(bystander.createChannel().queueDeclare().getQueue()).startsWith("amq.gen-");
        }
    }

    // ---- validated user-id ----

    @Test
    void publishWithTheConnectionsOwnUserIdIsDeliveredWithIt() throws Exception {
        try (Connection c = broker.connect()) {
            Channel ch = c.createChannel();
            String q = ch.queueDeclare().getQueue();
            ch.basicPublish("", q, new AMQP.BasicProperties.Builder().userId("guest").build(), new byte[] {1});
            GetResponse r = ch.basicGet(q, true);
            assertThat(r.getProps().getUserId()).isEqualTo("guest");
        }
    }

    @Test
    void publishWithAnotherUsersUserIdIsRefusedWith406() throws Exception {
        try (Connection c = broker.connect()) {
            Channel ch = c.createChannel();
            String q = ch.queueDeclare().getQueue();
            ch.basicPublish("", q, new AMQP.BasicProperties.Builder().userId("mallory").build(), new byte[] {1});
            AMQP.Channel.Close close = awaitChannelClosedWith(AMQP.PRECONDITION_FAILED, ch);
            assertThat(close.getReplyText()).isEqualTo(
                    "PRECONDITION_FAILED - user_id property set to 'mallory' but authenticated user was 'guest'");
            Channel again = c.createChannel();
            assertThat(again.queueDeclarePassive(q).getMessageCount()).as("nothing was enqueued").isZero();
        }
    }

    /**
     * Credentials the Java client believes expire, so that it sends connection.update-secret with the
     * current password whenever the test calls {@link #renew}, as its refresh service would.
     */
    private static final class RenewableCredentials implements CredentialsProvider, CredentialsRefreshService {
        private final String user;
        volatile String password;
        private Callable<Boolean> refresh;

        RenewableCredentials(String user, String password) {
            this.user = user;
            this.password = password;
        }

        ConnectionFactory factory() {
            ConnectionFactory f = broker.factory();
            f.setCredentialsProvider(this);
            f.setCredentialsRefreshService(this);
            return f;
        }

        /** Sends update-secret and waits for its answer: true for update-secret-ok. */
        boolean renew() throws Exception {
            return refresh.call();
        }

        @Override
        public String getUsername() {
            return user;
        }

        @Override
        public String getPassword() {
            return password;
        }

        @Override
        public Duration getTimeBeforeExpiration() {
            return Duration.ofHours(1);
        }

        @Override
        public String register(CredentialsProvider provider, Callable<Boolean> refreshAction) {
            this.refresh = refreshAction;
            return "test";
        }

        @Override
        public void unregister(CredentialsProvider provider, String registrationId) {
        }

        @Override
        public boolean isApproachingExpiration(Duration timeBeforeExpiration) {
            return false;
        }
    }
}
