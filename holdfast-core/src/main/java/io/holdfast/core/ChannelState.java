package io.holdfast.core;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The core's side of one AMQP channel: its delivery tags, unacked deliveries (in tag order), prefetch
 * settings and consumers. Created by {@link Broker#openChannel}; owned by the broker thread.
 */
public final class ChannelState {
    final long connectionId;
    final int number;
    final String vhost;
    final ChannelOutput output;
    long nextDeliveryTag = 1;
    final LinkedHashMap<Long, Unacked> unacked = new LinkedHashMap<>();
    /** Deliveries acked or rejected in the open transaction, settled at commit (see {@link TxSettlements}). */
    final Map<Long, Unacked> heldForTx = new LinkedHashMap<>();
    final Map<String, Consumer> consumers = new LinkedHashMap<>();
    int prefetchPerConsumer;
    int prefetchGlobal;
    /** Unacked deliveries made to consumers (basic.get ones do not count against prefetch). */
    int consumerUnacked;
    boolean flowActive = true;
    String lastDeclaredQueue;
    boolean closed;
    /** The channel's direct reply-to consumer and its token (see {@link DirectReplyTo}); null when it has none. */
    String replyConsumerTag;
    String replyToken;

    /**
     * The queue a method names: {@code name}, or the channel's last declared queue when it is empty (the
     * spec's shortcut). For checks made before the command; the command itself refuses an empty name with
     * no queue declared yet.
     */
    public String queueNamed(String name) {
        return name.isEmpty() && lastDeclaredQueue != null ? lastDeclaredQueue : name;
    }

    /** One delivery awaiting its ack; {@code consumer} is null for basic.get. */
    record Unacked(Queue queue, QueueEntry entry, Consumer consumer, long deliveredAtMillis) {}

    ChannelState(long connectionId, int number, String vhost, ChannelOutput output) {
        this.connectionId = connectionId;
        this.number = number;
        this.vhost = vhost;
        this.output = output;
    }

    public long connectionId() { return connectionId; }

    public int number() { return number; }

    public String vhost() { return vhost; }

    public int unackedCount() { return unacked.size(); }

    /**
     * Takes the channel's next delivery tag for a delivery made outside this broker (a quorum queue's, whose
     * replicas decide what is delivered): one tag sequence per channel, whoever delivers.
     */
    public long takeDeliveryTag() { return nextDeliveryTag++; }

    /** Whether {@code tag} is one of this broker's unacked deliveries on the channel. */
    public boolean unacked(long tag) { return unacked.containsKey(tag); }

    /** The highest of this broker's unacked tags at most {@code tag} (any, for 0), or 0 if there is none. */
    public long highestUnackedAtMost(long tag) {
        long best = 0;
        for (long t : unacked.keySet()) {
            if (tag != 0 && t > tag) {
                break;
            }
            best = t;
        }
        return best;
    }

    public int consumerCount() { return consumers.size(); }

    /** basic.qos prefetch for each new consumer (global=false); 0 for none. */
    public int prefetchPerConsumer() { return prefetchPerConsumer; }

    /** basic.qos prefetch shared by the channel's consumers (global=true); 0 for none. */
    public int prefetchGlobal() { return prefetchGlobal; }

    /** False while the client has paused deliveries with channel.flow. */
    public boolean flowActive() { return flowActive; }

    /** Deliveries acked, nacked or rejected in the open transaction, settled at tx.commit (RabbitMQ's acks_uncommitted). */
    public int txHeldCount() { return heldForTx.size(); }

    /** The channel's consumers, in the order they were created (for the management API; broker thread). */
    public Iterable<Consumer> consumers() { return consumers.values(); }
}
