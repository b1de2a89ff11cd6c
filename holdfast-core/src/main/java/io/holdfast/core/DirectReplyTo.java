package io.holdfast.core;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * RabbitMQ's direct reply-to: a requester consumes from the pseudo-queue {@value #PSEUDO_QUEUE} in no-ack mode
 * and publishes requests whose {@code reply-to} is that name; the session rewrites it to {@link #address} (the
 * name, a dot and an opaque token of the channel's reply consumer), and a reply published to the default exchange
 * with that routing key goes straight to the requester's channel, without a queue.
 *
 * <p>At most once, as RabbitMQ documents: nothing is stored; a reply whose requester is gone (channel closed,
 * consumer cancelled) or that the requester cannot take now (channel.flow off, client not reading) is dropped.
 * A reply still counts as routed, so a mandatory reply is never returned. A channel has at most one reply
 * consumer; re-consuming after a cancel gives a new token, so replies to the old address are dropped.
 *
 * <p>Part of the {@link Broker} state machine: broker thread only.
 */
final class DirectReplyTo {
    static final String PSEUDO_QUEUE = "amq.rabbitmq.reply-to";
    private static final String ADDRESS_PREFIX = PSEUDO_QUEUE + ".";

    private final Broker broker;
    /** Open reply consumers by token. */
    private final Map<String, ChannelState> byToken = new HashMap<>();

    DirectReplyTo(Broker broker) {
        this.broker = broker;
    }

    /** True for the pseudo-queue's name and every name under it, which queue.declare answers specially. */
    static boolean pseudoQueue(String queue) {
        return queue.startsWith(PSEUDO_QUEUE);
    }

    /** basic.consume from {@value #PSEUDO_QUEUE}; {@code tag} is already checked against the channel's consumers. */
    void consume(ChannelState ch, String tag, boolean noAck) {
        if (!noAck) {
            throw BrokerException.precondition("reply consumer cannot acknowledge");
        }
        if (ch.replyConsumerTag != null) {
            throw BrokerException.precondition("reply consumer already set");
        }
        String token = broker.generateName("");
        ch.replyConsumerTag = tag;
        ch.replyToken = token;
        byToken.put(token, ch);
    }

    /** basic.cancel: true if {@code tag} was the channel's reply consumer (which is now gone). */
    boolean cancel(ChannelState ch, String tag) {
        if (ch.replyConsumerTag == null || !ch.replyConsumerTag.equals(tag)) {
            return false;
        }
        closed(ch);
        return true;
    }

    /** The channel is gone: replies to its address are dropped from now on. */
    void closed(ChannelState ch) {
        if (ch.replyToken != null) {
            byToken.remove(ch.replyToken);
            ch.replyToken = null;
            ch.replyConsumerTag = null;
        }
    }

    /** What a request's {@code reply-to} of {@value #PSEUDO_QUEUE} becomes; 406 if the channel has no reply consumer. */
    String address(ChannelState ch) {
        if (ch.replyToken == null) {
            throw BrokerException.precondition("fast reply consumer does not exist");
        }
        return ADDRESS_PREFIX + ch.replyToken;
    }

    /**
     * queue.declare (passive or not; nothing is ever created) of a name under {@value #PSEUDO_QUEUE}: the
     * pseudo-queue itself, or the address of a requester still there, answers with 0 messages and 1 consumer, as
     * RabbitMQ does, so a responder can check that its requester is still waiting; anything else is 404.
     */
    Topology.DeclareOk declare(String vhost, String queue) {
        if (!queue.equals(PSEUDO_QUEUE) && requester(queue) == null) {
            throw BrokerException.notFound("queue", queue, vhost);
        }
        return new Topology.DeclareOk(queue, 0, 1);
    }

    /**
     * Delivers {@code reply}, published to the default exchange, to the requesters its routing keys address;
     * returns how many of the keys were reply addresses (each counts as a route, whether or not its requester is
     * still there).
     */
    int deliver(List<String> routingKeys, Message reply) {
        int addressed = 0;
        for (String key : routingKeys) {
            if (!key.startsWith(ADDRESS_PREFIX)) {
                continue;
            }
            addressed++;
            ChannelState ch = requester(key);
            if (ch != null && ch.flowActive && ch.output.writable()) {
                ch.output.deliverReply(ch.replyConsumerTag, ch.nextDeliveryTag++, reply);
            }
        }
        return addressed;
    }

    private ChannelState requester(String address) {
        return address.startsWith(ADDRESS_PREFIX) ? byToken.get(address.substring(ADDRESS_PREFIX.length())) : null;
    }
}
