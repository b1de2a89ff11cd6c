package io.holdfast.it;

import com.rabbitmq.client.AlreadyClosedException;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.ConfirmListener;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.MessageProperties;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentNavigableMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.Semaphore;

/**
 * One crash-test producer. It outlives broker lives: its sequence goes on from life to life, and each
 * life it publishes on a new connection ({@link #publish}), persistent messages with publisher confirms,
 * at most {@code maxInFlight} unconfirmed. When the broker dies, whatever was unconfirmed keeps an
 * unknown fate and is not published again.
 */
final class CrashPublisher {
    private final int id;
    private final String exchange;
    private final String routingKey;
    private final int maxInFlight;
    private final CrashHistory history;
    private long nextSeq;

    CrashPublisher(int id, String exchange, String routingKey, List<String> queues, int maxInFlight,
                   CrashHistory history) {
        this.id = id;
        this.exchange = exchange;
        this.routingKey = routingKey;
        this.maxInFlight = maxInFlight;
        this.history = history;
        history.producer(id, queues);
    }

    /**
     * Opens a connection to {@code broker} and starts a thread publishing {@code count} messages; the
     * returned session completes when all are confirmed or the connection is gone.
     */
    Session publish(ChildBroker broker, int life, int count) throws Exception {
        Connection conn = broker.connect("crash-publisher-" + id + "-life-" + life);
        try {
            Session s = new Session(conn, count);
            Thread t = new Thread(s::run, "crash-publisher-" + id);
            t.setDaemon(true);
            t.start();
            return s;
        } catch (IOException | RuntimeException e) {
            conn.abort();
            throw e;
        }
    }

    /** One life's worth of publishing. */
    final class Session {
        private final Connection conn;
        private final Channel ch;
        private final int count;
        private final ConcurrentSkipListMap<Long, CrashMessage> unconfirmed = new ConcurrentSkipListMap<>();
        private final Semaphore permits = new Semaphore(maxInFlight);
        final CompletableFuture<Void> done = new CompletableFuture<>();

        private Session(Connection conn, int count) throws IOException {
            this.conn = conn;
            this.count = count;
            this.ch = conn.createChannel();
            ch.confirmSelect();
            ch.addConfirmListener(new ConfirmListener() {
                @Override
                public void handleAck(long tag, boolean multiple) {
                    settle(tag, multiple, true);
                }

                @Override
                public void handleNack(long tag, boolean multiple) {
                    settle(tag, multiple, false);
                }
            });
            // Wakes a publisher waiting for credit when the broker dies; it then sees the connection closed.
            conn.addShutdownListener(cause -> permits.release(maxInFlight + 1));
        }

        private void settle(long tag, boolean multiple, boolean ack) {
            int n = 0;
            if (multiple) {
                ConcurrentNavigableMap<Long, CrashMessage> head = unconfirmed.headMap(tag, true);
                for (Map.Entry<Long, CrashMessage> e : head.entrySet()) {
                    record(e.getValue(), ack);
                    n++;
                }
                head.clear();
            } else {
                CrashMessage m = unconfirmed.remove(tag);
                if (m != null) {
                    record(m, ack);
                    n++;
                }
            }
            permits.release(n);
        }

        private void record(CrashMessage m, boolean ack) {
            if (ack) {
                history.confirmed(m);
            } else {
                history.nacked(m);
            }
        }

        private void run() {
            try {
                for (int i = 0; i < count; i++) {
                    permits.acquire();
                    if (!conn.isOpen()) {
                        return;
                    }
                    CrashMessage m = new CrashMessage(id, nextSeq++);
                    byte[] body = m.body(history.runSeed());
                    unconfirmed.put(ch.getNextPublishSeqNo(), m);
                    history.attempted(m);
                    ch.basicPublish(exchange, routingKey, MessageProperties.PERSISTENT_BASIC, body);
                }
                permits.acquire(maxInFlight); // every confirm is in, or the connection died
            } catch (IOException | AlreadyClosedException e) {
                // The broker died: what is unconfirmed has an unknown fate.
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                done.complete(null);
            }
        }

        /** Messages published in this session whose confirm has not arrived. */
        int unconfirmed() {
            return unconfirmed.size();
        }

        void abort() {
            conn.abort(1000);
        }
    }
}
