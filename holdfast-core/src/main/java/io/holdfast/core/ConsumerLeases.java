package io.holdfast.core;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The consumer timeout as a lease: a manual-ack delivery unacked for longer than its queue's
 * {@code x-consumer-timeout} (else the broker's {@code consumer_timeout}) cancels its consumer, whose
 * unacked deliveries go back to their queues, or, in {@code close_channel} mode, closes its channel.
 * Part of the {@link Broker} state machine: broker thread only, time from the broker's clock.
 */
final class ConsumerLeases {
    private final Broker broker;
    private final Deliveries deliveries;
    /** {@code consumer_timeout}: how long a delivery may stay unacked; negative for no limit. */
    private long consumerTimeoutMillis = Broker.DEFAULT_CONSUMER_TIMEOUT_MILLIS;
    private ConsumerTimeoutAction action = ConsumerTimeoutAction.CANCEL_CONSUMER;

    ConsumerLeases(Broker broker, Deliveries deliveries) {
        this.broker = broker;
        this.deliveries = deliveries;
    }

    void configure(long timeoutMillis, ConsumerTimeoutAction timeoutAction) {
        this.consumerTimeoutMillis = timeoutMillis;
        this.action = timeoutAction;
    }

    /** The broker-wide timeout, or Long.MAX_VALUE when there is none. */
    long brokerTimeoutOrMax() {
        return consumerTimeoutMillis < 0 ? Long.MAX_VALUE : consumerTimeoutMillis;
    }

    /** The timeout for deliveries from {@code q}; negative for none. */
    long timeoutFor(Queue q) {
        return q.consumerTimeoutMillis(consumerTimeoutMillis);
    }

    /**
     * Finds deliveries held past their consumer timeout. Unacked deliveries are in tag order, which is
     * delivery-time order, so each channel's scan stops at the first one younger than the shortest timeout.
     */
    void expire(long shortestTimeout, Iterable<ChannelState> channels) {
        List<ChannelState> timedOut = new ArrayList<>();
        List<Long> timeoutsUsed = new ArrayList<>();
        Set<Consumer> late = new LinkedHashSet<>();
        for (ChannelState ch : channels) {
            for (ChannelState.Unacked u : ch.unacked.values()) {
                long held = broker.clockMillis() - u.deliveredAtMillis();
                if (held <= shortestTimeout) {
                    break;
                }
                long timeout = timeoutFor(u.queue());
                if (timeout < 0 || held <= timeout) {
                    continue;
                }
                if (action == ConsumerTimeoutAction.CLOSE_CHANNEL) {
                    timedOut.add(ch);
                    timeoutsUsed.add(timeout);
                    break;
                }
                if (u.consumer() != null) {
                    late.add(u.consumer()); // basic.get deliveries have no consumer to cancel
                }
            }
        }
        for (Consumer c : late) {
            expireConsumer(c);
        }
        for (int i = 0; i < timedOut.size(); i++) {
            ChannelState ch = timedOut.get(i);
            broker.closeChannel(ch);
            ch.output.timedOut(timeoutsUsed.get(i));
        }
    }

    /**
     * A consumer's lease ran out: it is cancelled (the client is told, unless it cancelled already) and its
     * unacked deliveries return to their queues at their positions, redelivered; their tags become unknown.
     */
    private void expireConsumer(Consumer c) {
        ChannelState ch = c.channel;
        if (ch.consumers.get(c.tag) == c) {
            broker.removeConsumer(c);
            ch.output.consumerCancelled(c.tag);
        }
        List<ChannelState.Unacked> mine = new ArrayList<>();
        var it = ch.unacked.values().iterator();
        while (it.hasNext()) {
            ChannelState.Unacked u = it.next();
            if (u.consumer() == c) {
                mine.add(u);
                it.remove();
            }
        }
        for (ChannelState.Unacked u : mine) {
            deliveries.release(u);
            deliveries.returnToQueue(u.queue(), u.entry());
        }
    }
}
