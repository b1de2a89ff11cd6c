package io.holdfast.it;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.AlreadyClosedException;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.DefaultConsumer;
import com.rabbitmq.client.Envelope;
import com.rabbitmq.client.ShutdownSignalException;
import java.io.IOException;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One crash-test consumer for one broker life: its own connection and channel, manual acks with a
 * prefetch, and every delivery recorded in the {@link CrashHistory} before it is settled. A small,
 * seeded share of deliveries is nacked with requeue instead of acked, so requeues happen under crashes
 * too. {@link #ended} completes after the last delivery the client library had for it was handled.
 */
final class CrashConsumer extends DefaultConsumer {
    private static final AtomicInteger STREAMS = new AtomicInteger();

    private final Connection conn;
    private final CrashHistory history;
    private final int life;
    private final int stream = STREAMS.incrementAndGet();
    private final String queue;
    private final double nackShare;
    private final boolean finalDrain;
    private final Random random;
    final CompletableFuture<ShutdownSignalException> ended = new CompletableFuture<>();

    private CrashConsumer(Connection conn, Channel ch, CrashHistory history, int life, String queue, double nackShare,
                          boolean finalDrain, long seed) {
        super(ch);
        this.conn = conn;
        this.history = history;
        this.life = life;
        this.queue = queue;
        this.nackShare = nackShare;
        this.finalDrain = finalDrain;
        this.random = new Random(seed);
    }

    /** Connects and starts consuming {@code queue} with the given prefetch. */
    static CrashConsumer start(ChildBroker broker, CrashHistory history, int life, String queue, int prefetch,
                               double nackShare, boolean finalDrain, long seed) throws Exception {
        Connection conn = broker.connect("crash-consumer-" + queue + "-life-" + life);
        try {
            Channel ch = conn.createChannel();
            ch.basicQos(prefetch);
            CrashConsumer c = new CrashConsumer(conn, ch, history, life, queue, nackShare, finalDrain, seed);
            ch.basicConsume(queue, false, c);
            return c;
        } catch (IOException | RuntimeException e) {
            conn.abort();
            throw e;
        }
    }

    @Override
    public void handleDelivery(String consumerTag, Envelope envelope, AMQP.BasicProperties properties, byte[] body) {
        CrashHistory.Delivery d = history.delivered(life, stream, queue, body, envelope.isRedeliver(), finalDrain);
        try {
            if (d.message() != null && !finalDrain && random.nextDouble() < nackShare) {
                history.settled(d, false); // recorded first: the requeued copy may reach another consumer at once
                getChannel().basicNack(envelope.getDeliveryTag(), false, true);
            } else {
                getChannel().basicAck(envelope.getDeliveryTag(), false);
                history.settled(d, true);
            }
        } catch (IOException | AlreadyClosedException e) {
            // The broker died: the delivery stays unsettled and must come back.
        }
    }

    @Override
    public void handleShutdownSignal(String consumerTag, ShutdownSignalException sig) {
        ended.complete(sig);
    }

    @Override
    public void handleCancel(String consumerTag) {
        ended.completeExceptionally(new IllegalStateException("the broker cancelled consumer " + consumerTag
                + " on " + queue));
    }

    String queue() {
        return queue;
    }

    /**
     * Closes the connection cleanly: the broker reads every ack sent before the close, so afterwards
     * anything still unacked is back in the queue.
     */
    void close() throws IOException {
        conn.close(10_000);
    }

    void abort() {
        conn.abort(1000);
    }
}
