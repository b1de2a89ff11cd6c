package io.holdfast.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.CancelCallback;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConfirmListener;
import com.rabbitmq.client.DeliverCallback;
import com.rabbitmq.client.MessageProperties;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.NavigableSet;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A well-behaved Java-client connection that publishes persistent messages with confirms to a
 * durable queue and consumes them, all the time, while a test abuses the broker through other
 * connections. It records anything that goes wrong for it (a nack, a delivery out of order, a
 * missing or duplicated message, its connection or channels closing) so that a test can assert,
 * after each abuse, that bad input cost only its sender.
 *
 * <p>Messages carry their sequence number 1, 2, 3, ... as the body, so order and completeness are
 * checked on every delivery. At most {@value #WINDOW} publishes are unconfirmed at a time; the pace
 * is a publish every millisecond or so, enough to be "throughout" without starving a 2-core machine.
 */
final class HealthyTraffic implements AutoCloseable {
    private static final int WINDOW = 64;
    private static final Duration CATCH_UP = Duration.ofSeconds(30);

    private final Connection connection;
    private final Channel publishChannel;
    private final Channel consumeChannel;
    private final String queue;
    private final Thread publisher;
    private final Semaphore window = new Semaphore(WINDOW);
    private final NavigableSet<Long> unconfirmed = new ConcurrentSkipListSet<>();
    private final AtomicLong published = new AtomicLong();
    private final AtomicLong confirmed = new AtomicLong();
    private final AtomicLong delivered = new AtomicLong();
    private final List<String> failures = new CopyOnWriteArrayList<>();
    private volatile boolean running = true;

    private HealthyTraffic(RunningBroker broker) throws Exception {
        connection = broker.factory().newConnection("healthy");
        connection.addShutdownListener(e -> {
            if (!e.isInitiatedByApplication()) {
                failures.add("healthy connection closed by the broker: " + e.getMessage());
            }
        });
        queue = "healthy-" + System.nanoTime();
        consumeChannel = connection.createChannel();
        consumeChannel.queueDeclare(queue, true, false, false, null);
        DeliverCallback onDelivery = (tag, d) -> {
            long n = Long.parseLong(new String(d.getBody(), StandardCharsets.UTF_8));
            long expected = delivered.get() + 1;
            if (n != expected) {
                failures.add("healthy delivery out of order: got message " + n + ", expected " + expected);
            }
            delivered.set(n);
            consumeChannel.basicAck(d.getEnvelope().getDeliveryTag(), false);
        };
        CancelCallback onCancel = tag -> failures.add("healthy consumer cancelled by the broker");
        consumeChannel.basicQos(200);
        consumeChannel.basicConsume(queue, false, onDelivery, onCancel);

        publishChannel = connection.createChannel();
        publishChannel.confirmSelect();
        publishChannel.addConfirmListener(new ConfirmListener() {
            @Override
            public void handleAck(long seq, boolean multiple) {
                settle(seq, multiple);
            }

            @Override
            public void handleNack(long seq, boolean multiple) {
                failures.add("healthy publish " + seq + " nacked");
                settle(seq, multiple);
            }
        });
        for (Channel ch : List.of(publishChannel, consumeChannel)) {
            ch.addShutdownListener(e -> {
                if (!e.isInitiatedByApplication()) {
                    failures.add("healthy channel " + ch.getChannelNumber() + " closed by the broker: "
                            + e.getMessage());
                }
            });
        }
        publisher = new Thread(this::publishLoop, "healthy-publisher");
        publisher.setDaemon(true);
    }

    /** Connects, declares its queue, and starts publishing and consuming in the background. */
    static HealthyTraffic start(RunningBroker broker) throws Exception {
        HealthyTraffic t = new HealthyTraffic(broker);
        t.publisher.start();
        return t;
    }

    private void settle(long seq, boolean multiple) {
        int n;
        if (multiple) {
            NavigableSet<Long> settled = unconfirmed.headSet(seq, true);
            n = settled.size();
            settled.clear();
        } else {
            n = unconfirmed.remove(seq) ? 1 : 0;
        }
        confirmed.addAndGet(n);
        window.release(n);
    }

    private void publishLoop() {
        AMQP.BasicProperties persistent = MessageProperties.PERSISTENT_BASIC;
        try {
            while (running) {
                if (!window.tryAcquire(100, TimeUnit.MILLISECONDS)) {
                    continue;
                }
                long seq = publishChannel.getNextPublishSeqNo();
                unconfirmed.add(seq);
                long n = published.get() + 1;
                if (seq != n) {
                    failures.add("publish sequence " + seq + " does not match message " + n);
                }
                publishChannel.basicPublish("", queue, persistent, Long.toString(n).getBytes(StandardCharsets.UTF_8));
                published.set(n);
                TimeUnit.MICROSECONDS.sleep(800);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            failures.add("healthy publisher failed: " + e);
        }
    }

    long published() {
        return published.get();
    }

    /**
     * Waits until everything published so far is confirmed and delivered, then asserts that
     * nothing went wrong for this connection and that it is still open.
     */
    void assertCaughtUp() {
        awaitCaughtUp();
        assertThat(publisher.isAlive()).as("healthy publisher running").isTrue();
    }

    private void awaitCaughtUp() {
        long target = published.get();
        await("healthy connection confirms and consumes its first " + target + " messages")
                .atMost(CATCH_UP)
                .pollInterval(Duration.ofMillis(20))
                .until(() -> !failures.isEmpty() || confirmed.get() >= target && delivered.get() >= target);
        assertThat(failures).as("what went wrong for the healthy connection").isEmpty();
        assertThat(connection.isOpen()).as("healthy connection open").isTrue();
        assertThat(publishChannel.isOpen() && consumeChannel.isOpen()).as("healthy channels open").isTrue();
    }

    /** Waits until the publisher has sent {@code more} messages beyond {@code since}: it is not stuck. */
    void assertProgressSince(long since, long more) {
        await("healthy publisher keeps publishing").atMost(CATCH_UP).pollInterval(Duration.ofMillis(20))
                .until(() -> !failures.isEmpty() || published.get() >= since + more);
        assertThat(failures).as("what went wrong for the healthy connection").isEmpty();
    }

    /** Stops publishing, checks that every message was confirmed and delivered once, in order, and disconnects. */
    @Override
    public void close() throws IOException {
        running = false;
        try {
            publisher.join(TimeUnit.SECONDS.toMillis(10));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while stopping the healthy publisher", e);
        }
        try {
            awaitCaughtUp();
            assertThat(delivered.get()).as("delivered exactly what was published").isEqualTo(published.get());
        } finally {
            if (connection.isOpen()) {
                connection.close();
            }
        }
    }
}
