package io.holdfast.core;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * The state machine of one replicated (quorum) queue: what every replica applies, command by command, in log order.
 * It is the core's own {@link Queue} and its {@link Deliveries}, run inside a broker of its own that holds this one
 * queue, so order, requeue to the original position, the redelivered flag, delivery counts, {@code x-delivery-limit},
 * TTL, length limits and {@code x-overflow}, {@code x-redelivery-backoff}, single active consumer, consumer
 * priorities and {@code x-message-deduplication} behave exactly as on a classic queue.
 *
 * <p>Every decision is made here, deterministically: which message goes to which consumer, with which delivery id,
 * count and redelivered flag. {@link #apply} returns them as {@link QuorumEffect}s; the node that hosts a consumer
 * sends what it is given, and never chooses. The consumers are the cluster's: each is named by the
 * {@link RemoteChannel} it consumes on. Time comes only from the log ({@code nowMillis}), never from a clock.
 *
 * <p>What differs from a classic queue, by design: dead-lettered and quarantined messages are handed out as effects
 * (the queue owns no exchange); a consumer's prefetch is its own (a channel's global prefetch is refused at consume,
 * see {@link QuorumQueueRules}); delivery ids are the queue's, per channel, and the hosting node maps them to its
 * channel's delivery tags; message bodies are kept in memory (the Raft log is what stores them).
 *
 * <p>A refused command ({@link BrokerException}) is refused before anything changes. Snapshots hold the live state
 * only: see {@link QuorumSnapshot}. One thread at a time (the group's apply thread).
 */
public final class QuorumQueue {
    /**
     * What the queue was declared with; fixed for its life and the same on every replica.
     *
     * @param arguments             the queue's arguments, checked by {@link QuorumQueueRules#checkDeclare}; only the
     *                              integers, strings and booleans are kept (every argument the queue reads is one:
     *                              others, such as a client's own tables, stay with the declaration, not here)
     * @param consumerTimeoutMillis the cluster's {@code consumer_timeout} (a queue's {@code x-consumer-timeout} wins);
     *                              negative for none
     */
    public record Definition(String vhost, String name, Map<String, Object> arguments, long consumerTimeoutMillis) {
        public Definition {
            Objects.requireNonNull(vhost, "vhost");
            Objects.requireNonNull(name, "name");
            Map<String, Object> kept = new java.util.HashMap<>();
            arguments.forEach((key, value) -> {
                if (value instanceof Boolean || QueueArguments.isIntegral(value) || QueueArguments.isText(value)) {
                    kept.put(key, value);
                }
            });
            arguments = Map.copyOf(kept);
        }
    }

    /**
     * What one command did.
     *
     * @param effects in the order they happened
     * @param count   for {@link QuorumCommand.Purge} the messages purged, for {@link QuorumCommand.Get} the ready
     *                messages left; 0 otherwise
     */
    public record Outcome(List<QuorumEffect> effects, int count) {}

    final Definition definition;
    final Broker broker;
    final Queue queue;
    /** The cluster's channels that consume or hold deliveries, in the order the inner broker opened them. */
    final LinkedHashMap<RemoteChannel, ChannelState> channels = new LinkedHashMap<>();
    /** Delivery ids never go back on a channel, even once its state was dropped and made again. */
    long deliveryIdFloor = 1;
    /**
     * Each enqueuer's highest publish sequence number applied. An enqueuer numbers its publishes 1, 2, 3... in the
     * order it submits them, so a publish at or below its mark is a copy of one applied already (a resent log entry,
     * or a client retry the leader's retry cache missed) and is confirmed without being enqueued again, as
     * RabbitMQ's quorum queues do with their enqueuers' sequence numbers. Number 0 is never deduplicated.
     */
    final Map<RemoteChannel, Long> enqueuers = new java.util.HashMap<>();
    /** Deleted by {@code x-expires}: every later command is refused. */
    boolean expired;
    private List<QuorumEffect> effects = new ArrayList<>();

    /** A new, empty queue. {@code rewriter} must be the same on every replica (it reads message-ids for deduplication). */
    public QuorumQueue(Definition definition, PropertiesRewriter rewriter) {
        this.definition = definition;
        this.broker = new Broker(MessageStore.NONE, () -> {
            throw new IllegalStateException("a quorum queue's consumers are named before the command");
        }, rewriter);
        broker.consumerTimeout(definition.consumerTimeoutMillis(), ConsumerTimeoutAction.CANCEL_CONSUMER);
        broker.deadLetterHandoff(new Broker.DeadLetterHandoff() {
            @Override public void deadLettered(Queue source, Message message, String reason) {
                effects.add(new QuorumEffect.DeadLetter(message, reason));
            }

            @Override public void quarantined(Queue source, Message message, int deliveryCount) {
                effects.add(new QuorumEffect.Quarantine(message, deliveryCount));
            }
        });
        this.queue = broker.topology().restoreQueue(definition.vhost(), definition.name(), false,
                definition.arguments());
    }

    public Definition definition() { return definition; }

    /** Ready messages plus those held back by a backoff (declare-ok's count). */
    public int messageCount() { return queue.messageCount(); }

    public int unackedCount() { return queue.unackedCount(); }

    public int consumerCount() { return queue.consumerCount(); }

    /** Ready messages in delivery order, for inspection and tests. */
    public List<QueueEntry> readySnapshot() { return queue.readySnapshot(); }

    /**
     * Applies one command at the log's time {@code nowMillis}.
     *
     * @throws BrokerException with the reply code and text a classic queue would give (an unknown delivery id, a
     *     consumer tag in use, a queue in exclusive use, a queue that expired), having changed nothing
     */
    public Outcome apply(QuorumCommand command, long nowMillis) {
        if (expired) {
            throw new BrokerException(ErrorCode.NOT_FOUND, "no queue '" + definition.name() + "' in vhost '"
                    + definition.vhost() + "'");
        }
        check(command);
        effects = new ArrayList<>();
        broker.advanceClock(nowMillis);
        int count = run(command, nowMillis);
        dropIdleChannels();
        if (queue.deleted) {
            expired = true;
            effects.add(new QuorumEffect.QueueExpired());
        }
        List<QuorumEffect> out = List.copyOf(effects);
        effects = new ArrayList<>();
        return new Outcome(out, count);
    }

    /** Refuses what the inner broker would refuse, before anything (the clock included) changes. */
    private void check(QuorumCommand command) {
        if (command instanceof QuorumCommand.Attach a) {
            ChannelState ch = channels.get(a.channel());
            if (a.tag().isEmpty()) {
                throw BrokerException.precondition("a quorum queue's consumer needs a tag");
            }
            if (ch != null && ch.consumers.containsKey(a.tag())) {
                throw new BrokerException(ErrorCode.NOT_ALLOWED, "attempt to reuse consumer tag '" + a.tag() + "'");
            }
            Broker.checkExclusiveUse(queue, a.exclusive());
        } else if (command instanceof QuorumCommand.Settle s) {
            ChannelState ch = channels.get(s.channel());
            boolean known = ch != null && (s.multiple() && s.deliveryId() == 0 || ch.unacked.containsKey(s.deliveryId()));
            if (!known) {
                throw BrokerException.precondition("unknown delivery tag " + s.deliveryId());
            }
        }
    }

    private int run(QuorumCommand command, long nowMillis) {
        if (command instanceof QuorumCommand.Enqueue e) {
            for (QuorumCommand.Publish p : e.messages()) {
                if (p.publishSeq() > 0) {
                    long mark = enqueuers.getOrDefault(p.publisher(), 0L);
                    if (p.publishSeq() <= mark) {
                        effects.add(new QuorumEffect.Confirm(p.publisher(), p.publishSeq()));
                        continue; // a copy: the first is in the queue (or was refused, and its nack sent)
                    }
                    enqueuers.put(p.publisher(), p.publishSeq());
                }
                int refused = broker.deliveries().enqueueRouted(Set.of(queue), p.message(), true);
                broker.dispatch(); // what dead-lettering or a drop-head freed on the way
                effects.add(refused > 0 ? new QuorumEffect.Nack(p.publisher(), p.publishSeq())
                        : new QuorumEffect.Confirm(p.publisher(), p.publishSeq()));
            }
        } else if (command instanceof QuorumCommand.Attach a) {
            ChannelState ch = channel(a.channel());
            ch.prefetchPerConsumer = a.prefetch();
            Map<String, Object> args = a.priority() == 0 ? null : Map.of(Consumer.PRIORITY_ARGUMENT, a.priority());
            broker.consume(ch, queue.name(), a.tag(), a.noAck(), a.exclusive(), args);
            broker.dispatch();
        } else if (command instanceof QuorumCommand.Settle s) {
            ChannelState ch = channels.get(s.channel());
            switch (s.disposition()) {
                case ACK -> broker.ack(ch, s.deliveryId(), s.multiple());
                case REQUEUE -> broker.reject(ch, s.deliveryId(), s.multiple(), true);
                case DISCARD -> broker.reject(ch, s.deliveryId(), s.multiple(), false);
            }
        } else if (command instanceof QuorumCommand.Cancel c) {
            ChannelState ch = channels.get(c.channel());
            if (ch != null) {
                broker.cancel(ch, c.tag());
            }
        } else if (command instanceof QuorumCommand.CloseChannel c) {
            close(c.channel());
        } else if (command instanceof QuorumCommand.Recover r) {
            ChannelState ch = channels.get(r.channel());
            if (ch != null) {
                broker.recover(ch);
            }
        } else if (command instanceof QuorumCommand.NodeDown d) {
            List<ChannelState> gone = new ArrayList<>();
            channels.forEach((ref, ch) -> {
                if (ref.node().equals(d.node())) {
                    gone.add(ch);
                }
            });
            // Every consumer of the node first: what one channel gives back must not go to another of the dead node's
            // channels (and count a delivery that never happened).
            for (ChannelState ch : gone) {
                new ArrayList<>(ch.consumers.values()).forEach(broker::removeConsumer);
            }
            gone.forEach(broker::closeChannel);
        } else if (command instanceof QuorumCommand.Purge) {
            return broker.topology().purge(queue);
        } else if (command instanceof QuorumCommand.Get g) {
            Broker.GetResult got = broker.get(channel(g.channel()), queue.name(), g.noAck(), nowMillis);
            if (got == null) {
                return 0;
            }
            effects.add(new QuorumEffect.Deliver(g.channel(), null, got.deliveryTag(), got.redelivered(),
                    got.entry().deliveryCount(), got.entry().seq(), got.message()));
            return got.messageCount();
        } else if (command instanceof QuorumCommand.Tick) {
            broker.tick(nowMillis);
        }
        return 0;
    }

    private void close(RemoteChannel ref) {
        ChannelState ch = channels.get(ref);
        if (ch != null) {
            broker.closeChannel(ch);
        }
    }

    /** The channel's state, made on its first consume or get. */
    private ChannelState channel(RemoteChannel ref) {
        ChannelState ch = channels.get(ref);
        if (ch == null) {
            ch = openChannel(ref);
            ch.nextDeliveryTag = deliveryIdFloor;
        }
        return ch;
    }

    ChannelState openChannel(RemoteChannel ref) {
        ChannelState ch = broker.openChannel(0, 0, definition.vhost(), new Output(ref));
        channels.put(ref, ch);
        return ch;
    }

    /** A channel with no consumer and nothing unacked holds nothing: it goes (snapshots stay the live state only). */
    private void dropIdleChannels() {
        var it = channels.values().iterator();
        while (it.hasNext()) {
            ChannelState ch = it.next();
            if (ch.closed || ch.consumers.isEmpty() && ch.unacked.isEmpty()) {
                deliveryIdFloor = Math.max(deliveryIdFloor, ch.nextDeliveryTag);
                broker.closeChannel(ch);
                it.remove();
            }
        }
    }

    /** Turns what the inner broker sends a channel into effects. */
    private final class Output implements ChannelOutput {
        private final RemoteChannel ref;

        Output(RemoteChannel ref) {
            this.ref = ref;
        }

        @Override
        public void deliver(String consumerTag, long deliveryTag, boolean redelivered, QueueEntry entry,
                            Message message) {
            effects.add(new QuorumEffect.Deliver(ref, consumerTag, deliveryTag, redelivered, entry.deliveryCount(),
                    entry.seq(), message));
        }

        @Override
        public void deliverReply(String consumerTag, long deliveryTag, Message reply) {
            throw new IllegalStateException("a quorum queue has no direct reply-to consumer");
        }

        @Override
        public void consumerCancelled(String consumerTag) {
            effects.add(new QuorumEffect.ConsumerCancelled(ref, consumerTag));
        }

        @Override
        public void timedOut(long timeoutMillis) {
            throw new IllegalStateException("a quorum queue cancels late consumers, it closes no channel");
        }

        @Override
        public boolean writable() {
            return true; // the hosting node's buffers are not replicated state: prefetch is the only credit
        }
    }
}
