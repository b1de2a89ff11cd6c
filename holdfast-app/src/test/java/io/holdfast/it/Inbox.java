package io.holdfast.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.DefaultConsumer;
import com.rabbitmq.client.Delivery;
import com.rabbitmq.client.Envelope;
import com.rabbitmq.client.ShutdownSignalException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A consumer that keeps what the broker sends it, for tests to wait on: deliveries in arrival order,
 * and the server-sent cancel if one comes. Waits are bounded (10 s) and fail the test when they run out.
 */
final class Inbox extends DefaultConsumer {
    private static final long WAIT_SECONDS = 10;

    private final LinkedBlockingQueue<Delivery> deliveries = new LinkedBlockingQueue<>();
    final CompletableFuture<String> cancelledByBroker = new CompletableFuture<>();
    final CompletableFuture<String> cancelOk = new CompletableFuture<>();

    Inbox(Channel channel) {
        super(channel);
    }

    @Override
    public void handleDelivery(String consumerTag, Envelope envelope, AMQP.BasicProperties properties, byte[] body) {
        deliveries.add(new Delivery(envelope, properties, body));
    }

    @Override
    public void handleCancel(String consumerTag) {
        cancelledByBroker.complete(consumerTag);
    }

    @Override
    public void handleCancelOk(String consumerTag) {
        cancelOk.complete(consumerTag);
    }

    @Override
    public void handleShutdownSignal(String consumerTag, ShutdownSignalException sig) {
        // The channel's own listeners report closes; nothing to keep here.
    }

    /** The next delivery; fails if none comes within the wait. */
    Delivery next() throws InterruptedException {
        Delivery d = deliveries.poll(WAIT_SECONDS, TimeUnit.SECONDS);
        assertThat(d).as("a delivery within %d s", WAIT_SECONDS).isNotNull();
        return d;
    }

    /** The next {@code n} deliveries, in order. */
    List<Delivery> next(int n) throws InterruptedException {
        List<Delivery> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(next());
        }
        return out;
    }

    /** Deliveries received and not yet taken. */
    int waiting() {
        return deliveries.size();
    }

    static String text(Delivery d) {
        return new String(d.getBody(), StandardCharsets.UTF_8);
    }

    static List<String> texts(List<Delivery> ds) {
        return ds.stream().map(Inbox::text).toList();
    }
}
