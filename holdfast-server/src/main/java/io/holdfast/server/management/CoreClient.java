package io.holdfast.server.management;

import io.holdfast.core.Broker;
import io.holdfast.core.BrokerException;
import io.holdfast.core.ChannelOutput;
import io.holdfast.core.ChannelState;
import io.holdfast.core.Message;
import io.holdfast.core.QueueEntry;
import io.holdfast.server.engine.Engine;
import io.holdfast.server.engine.PermissionGate;
import io.holdfast.server.persistence.WriteBarrier;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * The management API as a client of the broker core, the way RabbitMQ's management plugin opens a channel
 * per request: one pseudo connection for the listener, and for each request a channel of its own, opened,
 * used and closed in one task on the broker thread. So the core's commands run unchanged (their checks,
 * their reply codes), the durable topology is saved ({@link Engine#afterCommand}) before the request is
 * answered, and nothing of the request outlives it: a {@code basic.get} left unsettled goes back to its
 * queue when the channel closes.
 *
 * <p>Called from management handler threads; each call waits for the broker thread, at most
 * {@link Engine#QUERY_TIMEOUT_SECONDS}. The channel never consumes, so the core has nothing to send it.
 */
final class CoreClient implements ChannelOutput {
    /** The channel number of every request's channel: only one is open at a time, inside one broker task. */
    private static final int CHANNEL = 1;

    /** The vhost a request names does not exist: RabbitMQ's 404 Object Not Found. */
    static final class NoSuchVhost extends RuntimeException {
        NoSuchVhost(String vhost) {
            super("vhost '" + vhost + "' not found", null, false, false);
        }
    }

    private final Engine engine;
    private final long connectionId;

    CoreClient(Engine engine) {
        this.engine = engine;
        this.connectionId = engine.nextConnectionId();
    }

    /** The pseudo connection the management API's channels belong to. */
    long connectionId() {
        return connectionId;
    }

    /**
     * Runs {@code command} on the broker thread on a fresh channel in {@code vhost}, then closes the channel and
     * saves any durable topology change, and returns what the command returned.
     *
     * @throws BrokerException what the core refused, having changed nothing
     * @throws NoSuchVhost     if there is no such vhost
     */
    <T> T call(String vhost, Function<ChannelState, T> command) {
        CompletableFuture<T> answer = new CompletableFuture<>();
        engine.loop().execute(() -> {
            T result = null;
            RuntimeException refused = null;
            try {
                result = withChannel(vhost, command);
            } catch (RuntimeException e) {
                refused = e;
            }
            engine.afterCommand(); // saved before the answer, as after an AMQP command
            if (refused != null) {
                answer.completeExceptionally(refused);
            } else {
                answer.complete(result);
            }
        });
        return await(answer);
    }

    /**
     * The permission checks of {@code user} on the request's channel {@code ch}: the management API's
     * operations are checked as the same operations over AMQP are (RabbitMQ's plugin opens a channel as the
     * user). Broker thread, inside a command.
     */
    PermissionGate gate(String user, ChannelState ch) {
        return new PermissionGate(engine.access(), engine.broker(), user, ch.vhost(), null);
    }

    /** What became of a publish over HTTP. */
    record Published(boolean routed, boolean rejected) {}

    /**
     * Publishes as {@code basic.publish} on a confirmed AMQP channel would: the answer comes once every journal
     * write the publish caused is durable (a persistent message on a durable queue is on disk then). Checked as
     * {@code user}'s basic.publish.
     *
     * @throws BrokerException       what the core or the permissions refused
     * @throws IllegalStateException if the journal could not store the message
     */
    Published publish(String user, String vhost, String exchange, String routingKey, Message message) {
        return callDurably(vhost, ch -> {
            Broker b = engine.broker();
            gate(user, ch).publish(exchange, routingKey);
            b.checkRoutingHeaders(message);
            Broker.PublishResult r = b.publish(ch, exchange, routingKey, message, System.currentTimeMillis());
            return new Published(!r.unroutable(), r.rejected());
        });
    }

    /**
     * As {@link #call}, but answers only once every journal write the command caused is durable, as a confirm
     * would (a publish, a republish from quarantine).
     *
     * @throws IllegalStateException if the journal could not store what the command wrote
     */
    <T> T callDurably(String vhost, Function<ChannelState, T> command) {
        CompletableFuture<T> answer = new CompletableFuture<>();
        engine.loop().execute(() -> {
            List<T> result = new ArrayList<>(1);
            WriteBarrier barrier = new WriteBarrier(durable -> {
                if (durable) {
                    answer.complete(result.get(0));
                } else {
                    answer.completeExceptionally(new IllegalStateException("the journal could not store the writes"));
                }
            });
            engine.store().barrier(barrier);
            try {
                result.add(withChannel(vhost, command));
            } catch (RuntimeException e) {
                answer.completeExceptionally(e);
            } finally {
                engine.store().barrier(null);
                engine.afterCommand();
            }
            if (!result.isEmpty()) {
                barrier.arm();
            }
        });
        return await(answer);
    }

    private <T> T withChannel(String vhost, Function<ChannelState, T> command) {
        Broker b = engine.broker();
        if (b.virtualHost(vhost) == null) {
            throw new NoSuchVhost(vhost);
        }
        b.advanceClock(System.currentTimeMillis());
        ChannelState ch = b.openChannel(connectionId, CHANNEL, vhost, this);
        try {
            return command.apply(ch);
        } finally {
            b.closeChannel(ch);
        }
    }

    private static <T> T await(CompletableFuture<T> answer) {
        try {
            return answer.orTimeout(Engine.QUERY_TIMEOUT_SECONDS, TimeUnit.SECONDS).join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof BrokerException b) {
                throw b;
            }
            if (e.getCause() instanceof NoSuchVhost v) {
                throw v;
            }
            if (e.getCause() instanceof IllegalStateException s) {
                throw s; // the journal failed: 500
            }
            throw e; // a timeout or a failure: ManagementHttp answers 503
        }
    }

    // ---- ChannelOutput: the channel never consumes and has no reply consumer, so none of these is called ----

    @Override
    public void deliver(String consumerTag, long deliveryTag, boolean redelivered, QueueEntry entry, Message message) {
        throw new IllegalStateException("a management channel has no consumers");
    }

    @Override
    public void deliverReply(String consumerTag, long deliveryTag, Message reply) {
        throw new IllegalStateException("a management channel has no reply consumer");
    }

    @Override
    public void consumerCancelled(String consumerTag) {
        // never consumes
    }

    @Override
    public void timedOut(long timeoutMillis) {
        // closed within the task that opened it, long before any consumer timeout
    }

    @Override
    public boolean writable() {
        return true;
    }
}
