package io.holdfast.core;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

/**
 * The broker core: virtual hosts, exchanges, queues, consumers and deliveries as one deterministic
 * state machine. Every public method is a command; it either changes state and emits effects
 * (through {@link ChannelOutput} and {@link MessageStore}) or throws {@link BrokerException} having
 * changed nothing. No thread, socket, file or clock inside: the caller owns the one thread that may
 * call these methods, and passes time in where it matters.
 *
 * <p>Time is wall-clock milliseconds, given to {@link #publish}, {@link #get}, {@link #tick} and
 * {@link #advanceClock}; the broker keeps the latest it was given (never going back) and judges message
 * expiry by it in every other command that delivers (ack, consume, ...).
 */
public final class Broker {
    private final Map<String, VirtualHost> vhosts = new LinkedHashMap<>();
    private final MessageStore store;
    private final Supplier<String> nameGenerator;
    private final PropertiesRewriter rewriter;
    private final Topology topology = new Topology(this);
    private boolean durableTopologyChanged;
    /** Queue positions come from one counter, so a position is never reused, even across restarts. */
    private long lastSeq;
    /** The latest wall-clock time a command brought; never decreases. */
    private long clockMillis;
    /** Open channels, for the consumer timeout check on {@link #tick}. */
    private final Set<ChannelState> channels = new LinkedHashSet<>();
    private final DeadLetters deadLetters;
    private final Quarantine quarantine = new Quarantine(this);
    private final Deliveries deliveries;
    private final ConsumerLeases leases;
    private final RedeliveryHolds holds;
    private final DelayedMessages delayed;
    private final Deduplication deduplication;
    private final TxSettlements transactions;
    private final DirectReplyTo directReplyTo = new DirectReplyTo(this);
    /** Null on a single node: a quorum queue is then a durable queue of this broker's. */
    private ReplicatedQueues replicated;

    /**
     * The durable queue, one per vhost and created on first use, that takes messages that went over their
     * queue's {@code x-delivery-limit} when that queue has no {@code x-dead-letter-exchange}: operators inspect
     * and re-publish them.
     */
    public static final String QUARANTINE_QUEUE = "holdfast.quarantine";

    /**
     * Hears of each message moved to {@link #QUARANTINE_QUEUE}, on the broker thread, after the quarantine
     * queue exists (a new one is already flagged as a durable topology change) and before the store hears of
     * the copy: a caller that persists topology can save the queue's declaration here, ahead of the record.
     */
    @FunctionalInterface
    public interface QuarantineListener {
        /**
         * @param source     the queue whose {@code x-delivery-limit} the message went over
         * @param entry      its entry there, whose {@link QueueEntry#deliveryCount()} is the deliveries made
         * @param quarantine the vhost's quarantine queue, which takes it next
         */
        void quarantining(Queue source, QueueEntry entry, Queue quarantine);
    }

    /**
     * Hears, on the broker thread, of each message that its queue's {@code x-dead-letter-exchange} could not
     * take and that is therefore dropped (RabbitMQ drops it silently): for logging.
     */
    @FunctionalInterface
    public interface DeadLetterDropListener {
        /**
         * @param source the queue the message left
         * @param why    {@code "no exchange"}, {@code "no route"}, {@code "cycle"} (every route would close an
         *               automatic cycle) or {@code "too deep"} (dead-lettering nested too far)
         */
        void dropped(Queue source, String why);
    }

    /**
     * Takes dead-lettered and quarantined messages out of a broker that does not own their targets: a replicated
     * queue's state machine (see {@link QuorumQueue}) holds one queue and no exchanges, so instead of routing a
     * dead-lettered copy itself it hands the message out, and the node that carries out the effects routes it.
     * Called on the broker thread, before the source entry is settled.
     */
    public interface DeadLetterHandoff {
        /**
         * @param source  the queue the message leaves
         * @param message the message as it was in the queue (no {@code x-death} added yet)
         * @param reason  {@code rejected}, {@code expired}, {@code maxlen} or {@code delivery_limit}
         */
        void deadLettered(Queue source, Message message, String reason);

        /** The message went over {@code x-delivery-limit} with no dead-letter exchange: it belongs in quarantine. */
        void quarantined(Queue source, Message message, int deliveryCount);
    }

    /**
     * Takes the messages routed to quorum queues ({@link Queue#quorumType()}) on a cluster node, whose state lives
     * in the cluster's replicas, not in this broker. Called on the broker thread, from within {@link #publish} (and
     * from dead-lettering); it must not block.
     */
    public interface ReplicatedQueues {
        /** {@code message} was routed to {@code queue}: send it to the queue's replicas. */
        void enqueue(Queue queue, Message message);

        /** What this node's replica of {@code queue} knows now (any thread). */
        ReplicaView view(Queue queue);

        /**
         * A replicated queue as this node sees it: its replica's counts (which may lag the leader by a few entries),
         * its group's leader (null while there is none) and members.
         */
        record ReplicaView(int ready, int unacked, int consumers, String leader, java.util.List<String> members) {}
    }

    /** RabbitMQ's default {@code consumer_timeout}: 30 minutes. */
    public static final long DEFAULT_CONSUMER_TIMEOUT_MILLIS = 1_800_000;

    /**
     * @param store         where persistent messages on durable queues go
     * @param nameGenerator random suffixes for server-named queues and consumer tags (injected so
     *                      tests are deterministic)
     */
    public Broker(MessageStore store, Supplier<String> nameGenerator) {
        this(store, nameGenerator, PropertiesRewriter.UNCHANGED);
    }

    /**
     * @param rewriter how a dead-lettered copy's properties get their {@code x-death} headers (see
     *                 {@link PropertiesRewriter}; the server's works on the wire format)
     */
    public Broker(MessageStore store, Supplier<String> nameGenerator, PropertiesRewriter rewriter) {
        this.store = store;
        this.nameGenerator = nameGenerator;
        this.rewriter = rewriter;
        this.deadLetters = new DeadLetters(this, rewriter);
        this.deduplication = new Deduplication(this, rewriter);
        this.deliveries = new Deliveries(this, deadLetters, quarantine);
        this.leases = new ConsumerLeases(this, deliveries);
        this.holds = new RedeliveryHolds(this, deliveries, deadLetters);
        this.delayed = new DelayedMessages(this, rewriter);
        this.transactions = new TxSettlements(this, deliveries);
        addVirtualHost("/");
    }

    public VirtualHost addVirtualHost(String name) {
        return vhosts.computeIfAbsent(name, VirtualHost::new);
    }

    /**
     * Deletes the vhost and everything in it: queues (their messages leave the store), exchanges, bindings.
     * The caller first closes the connections on it ({@link #closeConnection}), so nothing is left unacked
     * there. Returns false if there was no such vhost.
     */
    public boolean deleteVirtualHost(String name) {
        VirtualHost v = vhosts.get(name);
        if (v == null) {
            return false;
        }
        topology.deleteEverything(v);
        vhosts.remove(name);
        durableTopologyChanged = true;
        return true;
    }

    public VirtualHost virtualHost(String name) {
        return vhosts.get(name);
    }

    public Iterable<VirtualHost> virtualHosts() {
        return vhosts.values();
    }

    /** Declarations and deletions of exchanges, queues and bindings. */
    public Topology topology() {
        return topology;
    }

    /** True once since the last call if a durable exchange, queue or binding changed. */
    public boolean takeDurableTopologyChange() {
        boolean changed = durableTopologyChanged;
        durableTopologyChanged = false;
        return changed;
    }

    /**
     * Sets the broker-wide consumer timeout ({@code consumer_timeout}; negative for none) and what happens
     * when it runs out. A queue's {@code x-consumer-timeout} overrides the duration for its deliveries.
     */
    public void consumerTimeout(long timeoutMillis, ConsumerTimeoutAction action) {
        leases.configure(timeoutMillis, action);
    }

    /** Sets who hears of messages moved to {@link #QUARANTINE_QUEUE} (by default nobody). */
    public void quarantineListener(QuarantineListener listener) {
        quarantine.listener(listener);
    }

    /**
     * Hands dead-lettered and quarantined messages to {@code handoff} instead of routing them here (by default they
     * are routed in this broker).
     */
    void deadLetterHandoff(DeadLetterHandoff handoff) {
        deadLetters.handoff(handoff);
        quarantine.handoff(handoff);
    }

    /**
     * Carries out a replicated queue's {@link QuorumEffect.DeadLetter} in this broker: {@code message} is republished
     * to {@code source}'s dead-letter exchange, with its {@code x-death}, exactly as if {@code source} had dead-lettered
     * it here (nothing happens when {@code source} has no dead-letter exchange). The message's
     * {@link Message#headers()} must be decoded from its properties first: a replicated message carries them only
     * there.
     *
     * @param reason the effect's reason ({@code rejected}, {@code expired}, {@code maxlen}, {@code delivery_limit})
     */
    public void deadLetter(Queue source, Message message, String reason) {
        if (source.deadLetterExchange() != null) {
            deadLetters.republish(source, message, DeadLetters.Reason.valueOf(reason.toUpperCase(Locale.ROOT)));
            dispatch();
        }
    }

    /**
     * Puts {@code message}, which went over the {@code x-delivery-limit} of the replicated queue {@code source} (whose
     * group handed it out, see {@link QuorumEffect.Quarantine}), in the vhost's quarantine queue, as a message of
     * a queue of this broker's would be. Its headers must be decoded from its properties first.
     */
    public void quarantine(Queue source, Message message, int deliveryCount) {
        Queue q = quarantine.admit(source, message, deliveryCount);
        deliveries.schedule(q);
        dispatch();
    }

    /** Sets who hears of dead-lettered messages that were dropped (by default nobody). */
    public void deadLetterDropListener(DeadLetterDropListener listener) {
        deadLetters.dropListener(listener);
    }

    /** Messages moved to {@link #QUARANTINE_QUEUE} since this broker started. */
    public long quarantinedCount() {
        return quarantine.quarantinedCount();
    }

    /**
     * One message in a vhost's {@link #QUARANTINE_QUEUE}, as operators see it.
     *
     * @param position      its position in the quarantine queue (for {@link #republishQuarantined}'s cursor)
     * @param queue         the queue it came from, or null if the message does not say
     * @param reason        why it was quarantined ({@code delivery_limit})
     * @param deliveryCount deliveries made before it was quarantined
     */
    public record Quarantined(long position, String queue, String reason, int deliveryCount, Message message) {}

    /**
     * What one step of {@link #republishQuarantined} did.
     *
     * @param republished messages sent back to their queues (and settled from quarantine)
     * @param stayed      messages that stayed: their queue is gone or refused them
     * @param next        the position to continue after
     * @param left        ready quarantined messages after {@code next}, matching or not
     */
    public record Republished(int republished, int stayed, long next, int left) {}

    /**
     * Up to {@code max} ready messages in {@code vhost}'s quarantine queue, oldest first, only those from
     * {@code fromQueue} unless it is null (none if there is no quarantine queue). Reads each message it passes.
     */
    public List<Quarantined> quarantined(String vhost, String fromQueue, int max) {
        return quarantine.list(vhost, fromQueue, max);
    }

    /**
     * How many ready messages in {@code vhost}'s quarantine queue came from {@code fromQueue} (their
     * {@code x-quarantine-queue}). Reads each quarantined message.
     */
    public int quarantinedFrom(String vhost, String fromQueue) {
        return quarantine.count(vhost, fromQueue);
    }

    /**
     * One step of sending quarantined messages back to the queues they came from: looks at up to
     * {@code examineMax} ready messages after position {@code afterSeq} (0 to start) and sends back those from
     * {@code fromQueue} (all if null), at most {@code republishMax}, in order. Each copy is enqueued, and its store
     * record written, before the quarantined entry is settled: a crash leaves a duplicate, never a loss.
     */
    public Republished republishQuarantined(String vhost, String fromQueue, long afterSeq, int examineMax,
                                            int republishMax) {
        Republished r = quarantine.republish(vhost, fromQueue, afterSeq, examineMax, republishMax);
        deliveries.dispatch();
        return r;
    }

    /** Messages republished to a queue's {@code x-dead-letter-exchange} since this broker started. */
    public long deadLetteredCount() {
        return deadLetters.deadLetteredCount();
    }

    /** Messages whose queue had a dead-letter exchange that were dropped anyway (no exchange, no route, a cycle). */
    public long deadLetterDroppedCount() {
        return deadLetters.droppedCount();
    }

    /** Recovery tells the broker the highest position it found, so new ones are higher. */
    public void advanceSequence(long seenSeq) {
        lastSeq = Math.max(lastSeq, seenSeq);
    }

    /**
     * Tells the broker the time: the session calls it before each command, so the deliveries an ack or a
     * consume causes judge expiry by the current time. Its only other effect: messages held back by
     * {@code x-redelivery-backoff} whose time has come become ready (see {@link RedeliveryHolds}), to be
     * delivered by the command's dispatch or the next tick's.
     */
    public void advanceClock(long nowMillis) {
        clockMillis = Math.max(clockMillis, nowMillis);
        if (holds.due(clockMillis)) {
            holds.releaseDue(); // x-redelivery-backoff: ready again; delivered by this command's or the next dispatch
        }
    }

    /**
     * The periodic command: at {@code nowMillis}, every queue drops the expired messages at its head (they
     * leave the store like acked ones; {@link #expireDue} does so on time, this is the safety net that also notes
     * every head again), and a queue unused for its {@code x-expires} is deleted. The caller runs it every few
     * hundred milliseconds at most.
     *
     * <p>It also enforces the consumer timeout: a manual-ack delivery unacked for longer than its queue's
     * timeout (see {@link #consumerTimeout}) either cancels its consumer, whose unacked deliveries go back
     * to their queues, or closes its channel (the channel's output is told, to send channel.close).
     */
    public void tick(long nowMillis) {
        advanceClock(nowMillis);
        delayed.releaseDue(); // x-delayed-message: due messages are routed now
        deduplication.expire(); // x-message-deduplication: ids past a time window are forgotten
        deliveries.renoteExpiries(); // every queue's head is looked at below, and noted again
        long shortestTimeout = leases.brokerTimeoutOrMax();
        for (VirtualHost v : vhosts.values()) {
            for (Queue q : new ArrayList<>(v.queues.values())) {
                if (q.unusedAt(clockMillis)) {
                    topology.deleteQueue(v, q); // x-expires: its messages go with it
                } else {
                    deliveries.expireHead(q);
                    long t = leases.timeoutFor(q);
                    if (t >= 0) {
                        shortestTimeout = Math.min(shortestTimeout, t);
                    }
                }
            }
        }
        if (shortestTimeout != Long.MAX_VALUE) {
            leases.expire(shortestTimeout, channels);
        }
        dispatch();
    }

    /**
     * When {@link #expireDue} next has work: the earliest expiry of a message at a queue's head, of a message held
     * by {@code x-redelivery-backoff} or by a delayed exchange; Long.MAX_VALUE when nothing is timed. The caller
     * schedules that call for exactly then, so a message leaves (or is dead-lettered) within milliseconds of its
     * TTL. A cheap read: each command keeps it up to date.
     */
    public long nextExpiryMillis() {
        return Math.min(deliveries.expiryDueMillis(), Math.min(holds.nextWakeMillis(), delayed.nextDueMillis()));
    }

    /**
     * At {@code nowMillis}: expired messages leave the heads of their queues (dead-lettered when the queue says
     * so), held-back ones that are due become ready, due delayed messages are routed, and what became deliverable
     * is delivered. Only what {@link #nextExpiryMillis} covers; the rest waits for {@link #tick}.
     */
    public void expireDue(long nowMillis) {
        advanceClock(nowMillis);
        delayed.releaseDue();
        deliveries.expireDue();
        dispatch();
    }

    long clockMillis() {
        return clockMillis;
    }

    void durableTopologyChanged() {
        durableTopologyChanged = true;
    }

    RedeliveryHolds holds() {
        return holds;
    }

    Deliveries deliveries() {
        return deliveries;
    }

    /** The messages delayed exchanges hold (see {@link DelayedMessages}): for recovery and inspection. */
    public DelayedMessages delayedMessages() {
        return delayed;
    }

    MessageStore store() {
        return store;
    }

    DirectReplyTo directReplyTo() {
        return directReplyTo;
    }

    /** The message-ids queues with {@code x-message-deduplication} remember (see {@link Deduplication}). */
    public Deduplication deduplication() {
        return deduplication;
    }

    /** The last queue position given out. */
    long lastSeq() {
        return lastSeq;
    }

    /** The next queue position. */
    long nextSeq() {
        return ++lastSeq;
    }

    String generateName(String prefix) {
        return prefix + nameGenerator.get();
    }

    /** A fresh consumer tag, as basic.consume with an empty tag gets (for consumers kept outside this broker). */
    public String generateConsumerTag() {
        return generateName("amq.ctag-");
    }

    /** From now on messages routed to quorum queues go to {@code r} (a cluster node); set before clients connect. */
    public void replicatedQueues(ReplicatedQueues r) {
        this.replicated = r;
    }

    /** Whether {@code q}'s messages live in the cluster rather than here. */
    public boolean replicated(Queue q) {
        return replicated != null && q.quorumType();
    }

    ReplicatedQueues replicatedQueues() {
        return replicated;
    }

    /** What this node's replica of {@code q} knows, or null if {@code q} is not replicated. */
    public ReplicatedQueues.ReplicaView replicaView(Queue q) {
        return replicated(q) ? replicated.view(q) : null;
    }

    VirtualHost requireVhost(String name) {
        VirtualHost v = vhosts.get(name);
        if (v == null) {
            throw new BrokerException(ErrorCode.NOT_ALLOWED, "vhost '" + name + "' not found");
        }
        return v;
    }

    // ---- channels ----

    public ChannelState openChannel(long connectionId, int number, String vhost, ChannelOutput output) {
        requireVhost(vhost);
        ChannelState ch = new ChannelState(connectionId, number, vhost, output);
        channels.add(ch);
        return ch;
    }

    /**
     * The channel is gone (closed by either side, or its connection died): its consumers are cancelled
     * and its unacked deliveries return to their queues at their original positions, redelivered.
     */
    public void closeChannel(ChannelState ch) {
        if (ch.closed) {
            return;
        }
        ch.closed = true;
        channels.remove(ch);
        directReplyTo.closed(ch);
        for (Consumer c : new ArrayList<>(ch.consumers.values())) {
            removeConsumer(c);
        }
        deliveries.unhold(ch); // what an uncommitted transaction acked goes back too
        deliveries.returnAll(ch);
        dispatch();
    }

    /** The connection is gone (its channels were closed first): its exclusive queues are deleted. */
    public void closeConnection(long connectionId) {
        for (VirtualHost v : vhosts.values()) {
            for (Queue q : new ArrayList<>(v.queues.values())) {
                if (q.exclusive() && q.ownerConnection() == connectionId) {
                    topology.deleteQueue(v, q);
                }
            }
        }
        dispatch();
    }

    /** The client can take frames again: deliveries to it resume. */
    public void channelWritable(ChannelState ch) {
        deliveries.wakeAll(ch);
        dispatch();
    }

    /** channel.flow from the client: stop or resume deliveries to this channel. */
    public void flow(ChannelState ch, boolean active) {
        ch.flowActive = active;
        if (active) {
            channelWritable(ch);
        }
    }

    // ---- publishing ----

    /**
     * What became of a publish.
     *
     * @param routedQueues   queues the exchanges routed it to, whether or not they took it (0: unroutable,
     *                       the caller sends basic.return for a mandatory publish)
     * @param rejectedQueues of those, queues that refused it because they were full and their
     *                       {@code x-overflow} is reject-publish (the caller nacks a confirmed publish)
     */
    public record PublishResult(int routedQueues, int rejectedQueues) {
        public boolean unroutable() {
            return routedQueues == 0;
        }

        public boolean rejected() {
            return rejectedQueues > 0;
        }
    }

    /**
     * Routes and enqueues a message. A queue at its length limit either refuses it (reject-publish) or
     * takes it and then drops ready messages from its head until within the limit (drop-head); a dropped
     * message leaves the store like an acked one. Deliveries to waiting consumers happen before the
     * drop, so a message a consumer takes at once never counts against the limit.
     *
     * <p>The message's expiry counts from {@code nowMillis}. One whose TTL is 0 goes only to a consumer
     * that can take it at once; otherwise it is dropped straight away, as in RabbitMQ.
     */
    public PublishResult publish(ChannelState ch, String exchange, String routingKey, Message message,
                                 long nowMillis) {
        advanceClock(nowMillis);
        VirtualHost v = requireVhost(ch.vhost);
        Exchange x = v.requireExchange(exchange);
        if (x.internal()) {
            throw BrokerException.accessRefused("cannot publish to internal exchange '" + exchange + "' in vhost '"
                    + ch.vhost + "'");
        }
        List<String> keys = SenderSelected.routingKeys(routingKey, message.headers(), rewriter);
        Message stored = SenderSelected.withoutBcc(message, rewriter);
        if (x.type() == ExchangeType.X_DELAYED_MESSAGE && delayed.hold(v, x, stored)) {
            return new PublishResult(1, 0); // held: no basic.return, as the plugin cannot tell routability either
        }
        int replies = x.name().equals(VirtualHost.DEFAULT_EXCHANGE) ? directReplyTo.deliver(keys, stored) : 0;
        Set<Queue> targets = v.route(x, keys, stored.headers());
        int refused = deliveries.enqueueRouted(targets, stored, true);
        dispatch(); // the copies of messages dead-lettered on the way
        return new PublishResult(targets.size() + replies, refused);
    }

    /**
     * Checks what {@link #publish} would refuse in a message itself, before it is routed: a {@code CC} or
     * {@code BCC} header that is not an array (406, see {@link SenderSelected}). For a session that must refuse
     * a publish at once although it routes it later (in a transaction).
     */
    public void checkRoutingHeaders(Message message) {
        SenderSelected.routingKeys(message.routingKey(), message.headers(), rewriter);
    }

    /**
     * The address a request published on {@code ch} with {@code reply-to} {@code amq.rabbitmq.reply-to} gets
     * instead (see {@link DirectReplyTo}); 406 PRECONDITION_FAILED if the channel does not consume from it.
     */
    public String directReplyAddress(ChannelState ch) {
        return directReplyTo.address(ch);
    }

    /** True if {@code replyTo} is the direct reply-to pseudo-queue, which a publish must rewrite. */
    public static boolean isDirectReplyTo(String replyTo) {
        return DirectReplyTo.PSEUDO_QUEUE.equals(replyTo);
    }

    // ---- consuming ----

    /** basic.consume; returns the consumer tag (generated when {@code tag} is empty). */
    public String consume(ChannelState ch, String queueName, String tag, boolean noAck, boolean exclusive,
                          Map<String, Object> arguments) {
        VirtualHost v = requireVhost(ch.vhost);
        if (ch.consumers.containsKey(tag) || tag.equals(ch.replyConsumerTag)) {
            throw new BrokerException(ErrorCode.NOT_ALLOWED, "attempt to reuse consumer tag '" + tag + "'");
        }
        if (queueName.equals(DirectReplyTo.PSEUDO_QUEUE)) {
            String replyTag = tag.isEmpty() ? generateName("amq.ctag-") : tag;
            directReplyTo.consume(ch, replyTag, noAck);
            return replyTag;
        }
        Queue q = topology.accessibleQueue(v, ch, queueName);
        Consumer.validate(arguments, q);
        if (tag.isEmpty()) {
            tag = generateName("amq.ctag-");
        }
        checkExclusiveUse(q, exclusive);
        Consumer c = new Consumer(tag, ch, q, noAck, exclusive, ch.prefetchPerConsumer, arguments);
        ch.consumers.put(tag, c);
        q.consumers.add(c);
        q.hadConsumers = true;
        q.used(clockMillis);
        deliveries.schedule(q);
        return tag;
    }

    /** Refuses (403) a consumer that would share {@code q} with an exclusive one. */
    static void checkExclusiveUse(Queue q, boolean exclusive) {
        boolean inUse = exclusive && !q.consumers.isEmpty();
        for (Consumer other : q.consumers) {
            inUse |= other.exclusive;
        }
        if (inUse) {
            throw BrokerException.accessRefused("queue '" + q.name() + "' in vhost '" + q.vhost() + "' in exclusive use");
        }
    }

    /**
     * Starts deliveries to consumers that have just been registered. Kept apart from {@link #consume}
     * so the caller can send consume-ok before the first basic.deliver.
     */
    public void dispatch() {
        deliveries.dispatch();
    }

    /**
     * The store can now give what {@code q}'s head waited for (see {@link MessageStore#readable}): the queue
     * delivers again.
     */
    public void readable(Queue q) {
        if (!q.deleted) {
            deliveries.schedule(q);
            deliveries.dispatch();
        }
    }

    /** basic.cancel from the client; false if no such consumer. Its unacked deliveries stay ackable. */
    public boolean cancel(ChannelState ch, String tag) {
        Consumer c = ch.consumers.get(tag);
        if (c == null) {
            return directReplyTo.cancel(ch, tag);
        }
        removeConsumer(c);
        dispatch();
        return true;
    }

    void removeConsumer(Consumer c) {
        c.channel.consumers.remove(c.tag);
        Queue q = c.queue;
        q.consumers.remove(c);
        q.used(clockMillis); // an x-expires lease counts from the last consumer leaving
        if (q.singleActiveConsumer()) {
            deliveries.schedule(q); // if c was the active one, the next in registration order takes over
        }
        if (q.autoDelete() && q.hadConsumers && q.consumers.isEmpty() && !q.deleted) {
            topology.deleteQueue(requireVhost(q.vhost()), q);
        }
    }

    /** The result of basic.get: a delivery, or null when the queue was empty. */
    public record GetResult(long deliveryTag, boolean redelivered, QueueEntry entry, Message message,
                            int messageCount) {}

    /** basic.get at {@code nowMillis}; returns null when the queue has no ready message that is not expired. */
    public GetResult get(ChannelState ch, String queueName, boolean noAck, long nowMillis) {
        advanceClock(nowMillis);
        VirtualHost v = requireVhost(ch.vhost);
        Queue q = topology.accessibleQueue(v, ch, queueName);
        q.used(clockMillis);
        return deliveries.get(ch, q, noAck);
    }

    /** basic.qos. RabbitMQ's meaning: global=false sets the limit for consumers created after it. */
    public void qos(ChannelState ch, int prefetchCount, boolean global) {
        if (global) {
            ch.prefetchGlobal = prefetchCount;
        } else {
            ch.prefetchPerConsumer = prefetchCount;
        }
        deliveries.wakeAll(ch);
        dispatch();
    }

    // ---- settling ----

    /** basic.ack. */
    /** basic.ack; returns how many deliveries it settled. */
    public int ack(ChannelState ch, long deliveryTag, boolean multiple) {
        List<ChannelState.Unacked> settled = deliveries.takeUnacked(ch, deliveryTag, multiple);
        acked(settled);
        return settled.size();
    }

    /** basic.nack and basic.reject: requeue, or drop (dead-letter, when the queue has a dead-letter exchange). */
    public void reject(ChannelState ch, long deliveryTag, boolean multiple, boolean requeue) {
        rejected(deliveries.takeUnacked(ch, deliveryTag, multiple), requeue);
    }

    /** Acks, nacks and rejects on channels in tx mode (see {@link TxSettlements}). */
    public TxSettlements transactions() {
        return transactions;
    }

    void acked(List<ChannelState.Unacked> taken) {
        for (ChannelState.Unacked u : taken) {
            u.queue().countAck();
            settle(u.queue(), u.entry());
        }
        dispatch();
    }

    void rejected(List<ChannelState.Unacked> taken, boolean requeue) {
        for (ChannelState.Unacked u : taken) {
            if (requeue) {
                deliveries.returnToQueue(u.queue(), u.entry());
            } else {
                deadLetters.remove(u.queue(), u.entry(), DeadLetters.Reason.REJECTED);
            }
        }
        dispatch();
    }

    /**
     * basic.recover with requeue: every unacked delivery of the channel goes back to its queue; not those an open
     * transaction acked or rejected, which are no longer unacked (as in RabbitMQ).
     */
    public void recover(ChannelState ch) {
        deliveries.returnAll(ch);
        dispatch();
    }

    /** The content properties seam, for a priority queue's enqueue (see {@link PriorityLevels}). */
    PropertiesRewriter rewriter() {
        return rewriter;
    }

    /**
     * The entry's message, read back from the store if it was paged out. Null if the store cannot read
     * it: the entry is then dropped from its queue (the store has reported the damage), so a damaged
     * message is never delivered and never blocks the queue.
     */
    Message messageOf(Queue q, QueueEntry e) {
        if (e.message != null) {
            return e.message;
        }
        Message m = store.load(q, e);
        if (m == null) {
            settle(q, e);
        }
        return m;
    }

    /** The entry leaves its queue for good; the store hears of it once, however many paths lead here. */
    void settle(Queue q, QueueEntry e) {
        if (e.removed) {
            return;
        }
        e.removed = true;
        if (q.stores(e)) {
            store.removed(q, e);
        }
    }
}
