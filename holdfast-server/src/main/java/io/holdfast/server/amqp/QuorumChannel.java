package io.holdfast.server.amqp;

import io.holdfast.core.BrokerException;
import io.holdfast.core.ChannelState;
import io.holdfast.core.ErrorCode;
import io.holdfast.core.Message;
import io.holdfast.core.QuorumCommand;
import io.holdfast.core.QuorumEffect;
import io.holdfast.core.QuorumQueueRules;
import io.holdfast.core.RemoteChannel;
import io.holdfast.protocol.Method.BasicCancel;
import io.holdfast.protocol.Method.BasicConsume;
import io.holdfast.protocol.Method.BasicConsumeOk;
import io.holdfast.protocol.Method.BasicDeliver;
import io.holdfast.protocol.Method.BasicGetOk;
import io.holdfast.server.engine.QuorumQueues;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One AMQP channel's side of the quorum queues it uses: its consumers there, the deliveries they made (by this
 * channel's delivery tags, which it shares with the classic queues' deliveries) and the commands that settle them.
 * The queue's group decides every delivery; this only maps the group's delivery ids to the channel's tags and sends
 * what it is given. Made on the channel's first use of a quorum queue. Broker thread only.
 */
final class QuorumChannel implements QuorumQueues.ChannelListener {
    private static final Logger log = LoggerFactory.getLogger(QuorumChannel.class);
    private static final int CLOSE_ATTEMPTS = 30;

    private final ServerChannel owner;
    private final Session session;
    private final QuorumQueues queues;
    private final RemoteChannel ref;
    private final String vhost;
    /** Consumer tag to its queue, once the group applied the attach. */
    private final Map<String, Consumer> consumers = new HashMap<>();
    /** Attaches sent, by tag, waiting for this node's replica to apply them. */
    private final Map<String, Pending> attaching = new HashMap<>();
    /** Tags cancelled here whose cancel the group has not applied yet: what still comes for them goes back. */
    private final Map<String, Consumer> cancelled = new HashMap<>();
    /** This channel's tags of unacked quorum deliveries, in tag order. */
    private final NavigableMap<Long, Delivery> unacked = new TreeMap<>();
    /** Queues this channel consumed from or got from: they hear when it closes. */
    private final Set<String> touched = new HashSet<>();
    private boolean closed;

    private record Consumer(String queue, boolean noAck) {}

    private record Pending(String queue, boolean noAck, boolean nowait, CompletableFuture<Void> attached) {}

    private record Delivery(String queue, long deliveryId) {}

    QuorumChannel(ServerChannel owner, Session session, QuorumQueues queues) {
        this.owner = owner;
        this.session = session;
        this.queues = queues;
        this.vhost = session.vhost;
        long id = queues.newChannelId();
        this.ref = new RemoteChannel(queues.node(), id);
        queues.listen(id, this);
    }

    boolean hasConsumer(String tag) {
        return consumers.containsKey(tag) || attaching.containsKey(tag);
    }

    /**
     * basic.consume on a quorum queue: the attach goes to the queue's group, and consume-ok is sent when this node's
     * replica applies it, before the first delivery it makes. Returns what completes then (or fails with the
     * group's refusal, or when the cluster did not commit it).
     */
    CompletableFuture<Void> consume(BasicConsume c, String queue, ChannelState state) {
        QuorumQueueRules.checkConsume(vhost, queue, state.prefetchGlobal() != 0);
        String tag = c.consumerTag().isEmpty() ? session.engine.broker().generateConsumerTag() : c.consumerTag();
        if (hasConsumer(tag) || classicConsumer(state, tag)) {
            throw new BrokerException(ErrorCode.NOT_ALLOWED, "attempt to reuse consumer tag '" + tag + "'");
        }
        Object priority = c.arguments() == null ? null : c.arguments().get("x-priority");
        CompletableFuture<Void> attached = new CompletableFuture<>();
        attaching.put(tag, new Pending(queue, c.noAck(), c.nowait(), attached));
        touched.add(queue);
        QuorumCommand.Attach attach = new QuorumCommand.Attach(ref, tag, state.prefetchPerConsumer(), c.noAck(),
                c.exclusive(), priority instanceof Number n ? n.intValue() : 0);
        queues.submit(vhost, queue, attach).whenComplete((r, error) -> {
            Throwable refusal = error != null ? error : r.refusal();
            if (refusal != null) {
                session.engine.loop().execute(() -> attaching.remove(tag));
                attached.completeExceptionally(refusal);
            }
        });
        return attached;
    }

    private static boolean classicConsumer(ChannelState state, String tag) {
        for (io.holdfast.core.Consumer c : state.consumers()) {
            if (c.tag().equals(tag)) {
                return true;
            }
        }
        return false;
    }

    /** basic.get: the group's answer, to be sent by {@link #got}. */
    CompletableFuture<QuorumQueues.Result> get(String queue, boolean noAck) {
        touched.add(queue);
        return queues.submit(vhost, queue, new QuorumCommand.Get(ref, noAck));
    }

    /** Sends get-ok (or get-empty) for the group's answer to {@link #get}. */
    void got(String queue, boolean noAck, QuorumQueues.Result r) {
        if (r.refusal() != null) {
            throw r.refusal();
        }
        for (QuorumEffect e : r.effects()) {
            if (e instanceof QuorumEffect.Deliver d && d.channel().equals(ref)) {
                long tag = owner.state().takeDeliveryTag();
                if (!noAck) {
                    unacked.put(tag, new Delivery(queue, d.deliveryId()));
                }
                Message m = d.message();
                owner.countDelivery(d.redelivered());
                session.outbox.content(owner.number(), new BasicGetOk(tag, d.redelivered(), m.exchange(),
                        m.routingKey(), r.count()), ServerChannel.deliveryProperties(d.deliveryCount(), m), m.body());
                return;
            }
        }
        owner.replyGetEmpty();
    }

    /** basic.cancel; false if the tag is not a quorum consumer of this channel. */
    boolean cancel(String tag) {
        Consumer c = consumers.remove(tag);
        if (c == null) {
            return false;
        }
        cancelled.put(tag, c);
        submit(c.queue(), new QuorumCommand.Cancel(ref, tag));
        return true;
    }

    /**
     * Settles quorum deliveries an ack, nack or reject names, and returns the tag the classic queues' part of it
     * should be settled with ({@code multiple} then applies), or -1 if it names no classic delivery.
     *
     * @throws BrokerException 406 if the tag names no unacked delivery at all
     */
    long settle(long tag, boolean multiple, QuorumCommand.Disposition disposition, ChannelState state) {
        if (!multiple) {
            Delivery d = unacked.remove(tag);
            if (d == null) {
                return tag; // the classic queues' delivery, or the core's 406 for an unknown tag
            }
            submit(d.queue(), new QuorumCommand.Settle(ref, d.deliveryId(), false, disposition));
            return -1;
        }
        if (tag != 0 && !unacked.containsKey(tag) && !state.unacked(tag)) {
            throw BrokerException.precondition("unknown delivery tag " + tag);
        }
        NavigableMap<Long, Delivery> named = tag == 0 ? unacked : unacked.headMap(tag, true);
        Map<String, Long> highest = new LinkedHashMap<>();
        named.values().forEach(d -> highest.merge(d.queue(), d.deliveryId(), Math::max));
        named.clear();
        highest.forEach((queue, id) -> submit(queue, new QuorumCommand.Settle(ref, id, true, disposition)));
        long classic = state.highestUnackedAtMost(tag);
        return classic == 0 ? -1 : classic;
    }

    /** Whether an ack, nack or reject of {@code tag} names a quorum delivery of this channel. */
    boolean holds(long tag, boolean multiple) {
        return multiple ? (tag == 0 ? !unacked.isEmpty() : !unacked.headMap(tag, true).isEmpty())
                : unacked.containsKey(tag);
    }

    /** basic.recover: the unacked quorum deliveries go back, redelivered; their tags here are forgotten. */
    void recover() {
        Set<String> queuesHolding = new HashSet<>();
        unacked.values().forEach(d -> queuesHolding.add(d.queue()));
        unacked.clear();
        queuesHolding.forEach(q -> submit(q, new QuorumCommand.Recover(ref)));
    }

    /** The channel closed: the queues it used take its consumers and unacked deliveries back. */
    void close() {
        if (closed) {
            return;
        }
        closed = true;
        queues.unlisten(ref.channel());
        for (String queue : touched) {
            closeAt(queue, 0);
        }
    }

    /**
     * CloseChannel, retried a second apart for a while (a leader change takes a few): a channel the group still
     * thinks open holds its deliveries until then.
     */
    private void closeAt(String queue, int attempt) {
        queues.submit(vhost, queue, new QuorumCommand.CloseChannel(ref)).whenComplete((r, error) -> {
            if (error != null && attempt < CLOSE_ATTEMPTS && !(error instanceof BrokerException)) {
                CompletableFuture.delayedExecutor(1, java.util.concurrent.TimeUnit.SECONDS)
                        .execute(() -> closeAt(queue, attempt + 1));
            } else if (error != null) {
                log.warn("cluster: quorum queue '{}' did not hear that a channel closed ({}); its unacked deliveries"
                        + " come back when this node restarts", queue, error.getMessage());
            }
        });
    }

    private void submit(String queue, QuorumCommand command) {
        queues.submit(vhost, queue, command).whenComplete((r, error) -> {
            if (error != null) {
                log.debug("cluster: {} on quorum queue '{}' is not known to be committed: {}",
                        command.getClass().getSimpleName(), queue, error.getMessage());
            }
        });
    }

    // ---- ChannelListener: what the queue's replica here applied for this channel ----

    @Override
    public void applied(String queue, QuorumCommand command, List<QuorumEffect> effects) {
        if (closed) {
            return;
        }
        Pending pending = null;
        if (command instanceof QuorumCommand.Attach a) {
            pending = attaching.remove(a.tag());
            if (pending != null) {
                consumers.put(a.tag(), new Consumer(pending.queue(), pending.noAck()));
                if (!pending.nowait()) {
                    session.outbox.method(owner.number(), new BasicConsumeOk(a.tag()));
                }
            }
        } else if (command instanceof QuorumCommand.Cancel c) {
            cancelled.remove(c.tag());
        } else if (command instanceof QuorumCommand.NodeDown) {
            lostAt(queue);
        }
        for (QuorumEffect e : effects) {
            if (e instanceof QuorumEffect.Deliver d) {
                deliver(queue, d);
            } else if (e instanceof QuorumEffect.ConsumerCancelled c && consumers.remove(c.consumerTag()) != null) {
                session.outbox.method(owner.number(), new BasicCancel(c.consumerTag(), true));
            }
        }
        if (pending != null) {
            pending.attached().complete(null);
        }
    }

    private void deliver(String queue, QuorumEffect.Deliver d) {
        Consumer c = consumers.get(d.consumerTag());
        if (c == null) {
            Consumer gone = cancelled.get(d.consumerTag());
            if (gone != null && !gone.noAck()) {
                // made before the group applied our cancel: it goes back at once
                submit(queue, new QuorumCommand.Settle(ref, d.deliveryId(), false,
                        QuorumCommand.Disposition.REQUEUE));
            }
            return;
        }
        long tag = owner.state().takeDeliveryTag();
        if (!c.noAck()) {
            unacked.put(tag, new Delivery(queue, d.deliveryId()));
        }
        Message m = d.message();
        owner.countDelivery(d.redelivered());
        session.outbox.content(owner.number(), new BasicDeliver(d.consumerTag(), tag, d.redelivered(),
                m.exchange(), m.routingKey()), ServerChannel.deliveryProperties(d.deliveryCount(), m), m.body());
    }

    /**
     * Another node declared this one down to the queue (it was paused or cut off): the group dropped this channel's
     * consumers and took its deliveries back. The client hears its consumers cancelled, as when a queue goes.
     */
    private void lostAt(String queue) {
        cancelConsumersOf(queue);
        unacked.values().removeIf(d -> d.queue().equals(queue));
    }

    @Override
    public void deleted(String queue) {
        cancelConsumersOf(queue);
        unacked.values().removeIf(d -> d.queue().equals(queue));
        touched.remove(queue);
    }

    private void cancelConsumersOf(String queue) {
        var it = consumers.entrySet().iterator();
        while (it.hasNext()) {
            var e = it.next();
            if (e.getValue().queue().equals(queue)) {
                it.remove();
                session.outbox.method(owner.number(), new BasicCancel(e.getKey(), true));
            }
        }
    }
}
