package io.holdfast.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.ShutdownSignalException;
import java.io.IOException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;

/** Assertions on how the broker refuses a command, as the Java client reports it. */
final class AmqpAssertions {
    private AmqpAssertions() {}

    /** Something done on a channel, to be tried against several channels. */
    @FunctionalInterface
    interface ChannelCommand {
        void run(Channel ch) throws Exception;
    }

    /**
     * Runs a synchronous client call that the broker must refuse with a channel-level error
     * ({@code channel.close} with {@code code}); returns the close for checks on its text.
     */
    static AMQP.Channel.Close assertChannelClosedWith(int code, ThrowingCallable call) {
        Throwable t = catchThrowable(call);
        assertThat(t).as("the call fails").isInstanceOf(IOException.class);
        return channelClose(code, t.getCause());
    }

    /**
     * Waits for {@code ch} to be closed by the broker (after an asynchronous command such as a publish
     * or an ack) and checks the reply code; returns the close for checks on its text.
     */
    static AMQP.Channel.Close awaitChannelClosedWith(int code, Channel ch) throws Exception {
        CompletableFuture<ShutdownSignalException> closed = new CompletableFuture<>();
        ch.addShutdownListener(closed::complete);
        if (!ch.isOpen()) {
            closed.complete(ch.getCloseReason());
        }
        return channelClose(code, closed.get(10, TimeUnit.SECONDS));
    }

    /**
     * Waits for {@code conn} to be closed by the broker with a connection-level error ({@code connection.close}
     * with {@code code}); returns the close for checks on its text.
     */
    static AMQP.Connection.Close awaitConnectionClosedWith(int code, com.rabbitmq.client.Connection conn)
            throws Exception {
        CompletableFuture<ShutdownSignalException> closed = new CompletableFuture<>();
        conn.addShutdownListener(closed::complete);
        if (!conn.isOpen()) {
            closed.complete(conn.getCloseReason());
        }
        ShutdownSignalException e = closed.get(10, TimeUnit.SECONDS);
        assertThat(e.isHardError()).as("a connection error: %s", e.getReason()).isTrue();
        assertThat(e.isInitiatedByApplication()).as("closed by the broker").isFalse();
        AMQP.Connection.Close close = (AMQP.Connection.Close) e.getReason();
        assertThat(close.getReplyCode()).as("reply code of %s", close.getReplyText()).isEqualTo(code);
        return close;
    }

    private static AMQP.Channel.Close channelClose(int code, Throwable cause) {
        assertThat(cause).isInstanceOf(ShutdownSignalException.class);
        ShutdownSignalException e = (ShutdownSignalException) cause;
        assertThat(e.isHardError()).as("a channel error, not a connection error: %s", e.getReason()).isFalse();
        assertThat(e.isInitiatedByApplication()).as("closed by the broker").isFalse();
        AMQP.Channel.Close close = (AMQP.Channel.Close) e.getReason();
        assertThat(close.getReplyCode()).as("reply code of %s", close.getReplyText()).isEqualTo(code);
        return close;
    }
}
