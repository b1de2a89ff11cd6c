package io.holdfast.core;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Declaring and deleting exchanges, queues and bindings, with RabbitMQ's rules and reply codes:
 * redeclaring with other attributes is 406, touching another connection's exclusive queue is 405,
 * the {@code amq.} prefix is reserved (403), deletes are idempotent. Part of {@link Broker}'s state
 * machine: broker thread only.
 */
public final class Topology {
    private final Broker broker;

    Topology(Broker broker) {
        this.broker = broker;
    }

    // ---- exchanges ----

    public void declareExchange(ChannelState ch, String name, String type, boolean passive, boolean durable,
                                boolean autoDelete, boolean internal, Map<String, Object> arguments) {
        VirtualHost v = broker.requireVhost(ch.vhost);
        name = stripLineBreaks(name);
        if (passive) {
            v.requireExchange(name);
            return;
        }
        if (name.isEmpty()) {
            throw BrokerException.accessRefused("operation not permitted on the default exchange");
        }
        ExchangeType t = ExchangeType.fromWireName(type);
        if (t == null) {
            throw new BrokerException(ErrorCode.COMMAND_INVALID, "unknown exchange type '" + type + "'");
        }
        Exchange existing = v.exchange(name);
        // As RabbitMQ: the reserved prefix only stops creating an exchange; an equivalent redeclaration of
        // a predeclared amq.* exchange is fine.
        if (existing == null && name.startsWith("amq.")) {
            throw BrokerException.accessRefused("exchange name '" + name + "' contains reserved prefix 'amq.*'");
        }
        if (existing != null) {
            String what = "exchange '" + name + "' in vhost '" + v.name() + "'";
            checkEquivalent("type", what, type, existing.type().wireName());
            checkEquivalent("durable", what, durable, existing.durable());
            checkEquivalent("auto_delete", what, autoDelete, existing.autoDelete());
            checkEquivalent("internal", what, internal, existing.internal());
            // RabbitMQ compares only this one exchange argument.
            checkEquivalentArguments(what, arguments == null ? Map.of() : arguments, existing.arguments(),
                    List.of("alternate-exchange"));
            return;
        }
        if (t == ExchangeType.X_DELAYED_MESSAGE) {
            DelayedMessages.validate(name, arguments);
        }
        Object ae = arguments == null ? null : arguments.get(Exchange.ALTERNATE_EXCHANGE);
        if (ae != null && !PropertiesRewriter.LONG_STRING.equals(broker.rewriter().fieldType(ae))) {
            throw BrokerException.precondition("invalid type '" + broker.rewriter().fieldType(ae) + "' for arg '"
                    + Exchange.ALTERNATE_EXCHANGE + "' in exchange '" + name + "' in vhost '" + v.name() + "'");
        }
        v.exchanges.put(name, new Exchange(name, t, durable, autoDelete, internal, arguments));
        if (durable) {
            broker.durableTopologyChanged();
        }
    }

    public void deleteExchange(ChannelState ch, String name, boolean ifUnused) {
        VirtualHost v = broker.requireVhost(ch.vhost);
        name = stripLineBreaks(name);
        if (name.isEmpty() || name.startsWith("amq.")) {
            throw BrokerException.accessRefused("operation not permitted on the default exchange or 'amq.*' ("
                    + (name.isEmpty() ? "default" : name) + ")");
        }
        Exchange x = v.exchange(name);
        if (x == null) {
            return;
        }
        if (ifUnused && !x.bindings().isEmpty()) {
            throw BrokerException.precondition("exchange '" + name + "' in vhost '" + v.name() + "' in use");
        }
        removeExchange(v, x);
    }

    private void removeExchange(VirtualHost v, Exchange x) {
        v.exchanges.remove(x.name());
        broker.delayedMessages().drop(x); // what a delayed exchange holds goes with it
        boolean durable = x.durable();
        // Bindings into this exchange from others go too; their sources may now auto-delete.
        for (Exchange source : v.unbindDestination(x.name(), false)) {
            maybeAutoDelete(v, source);
        }
        if (durable) {
            broker.durableTopologyChanged();
        }
    }

    /**
     * Deletes every queue (its messages settled, consumers cancelled) and exchange (a delayed one's held
     * messages dropped) of the vhost, for {@link Broker#deleteVirtualHost}.
     */
    void deleteEverything(VirtualHost v) {
        for (Queue q : new ArrayList<>(v.queues.values())) {
            deleteQueue(v, q);
        }
        for (Exchange x : new ArrayList<>(v.exchanges.values())) {
            removeExchange(v, x);
        }
    }

    private void maybeAutoDelete(VirtualHost v, Exchange x) {
        if (x.autoDelete() && x.bindings().isEmpty() && v.exchange(x.name()) == x) {
            removeExchange(v, x);
        }
    }

    // ---- queues ----

    /** The outcome of queue.declare: the (possibly server-generated) name and its counts. */
    public record DeclareOk(String queue, int messageCount, int consumerCount) {}

    public DeclareOk declareQueue(ChannelState ch, String name, boolean passive, boolean durable, boolean exclusive,
                                  boolean autoDelete, Map<String, Object> arguments) {
        VirtualHost v = broker.requireVhost(ch.vhost);
        name = stripLineBreaks(name);
        if (DirectReplyTo.pseudoQueue(name)) {
            DeclareOk ok = broker.directReplyTo().declare(v.name(), name); // never created, whatever passive says
            ch.lastDeclaredQueue = name;
            return ok;
        }
        if (passive) {
            Queue q = accessibleQueue(v, ch, name);
            q.used(broker.clockMillis()); // as RabbitMQ: any declaration, passive too, renews an x-expires lease
            return ok(ch, q);
        }
        name = newQueueName(name);
        Queue existing = v.queue(name);
        if (existing != null) {
            // RabbitMQ's "strict" check: the other exclusive flag is a lock conflict (405), not an inequivalence.
            checkExclusiveAccess(v, ch, existing, existing.exclusive() != exclusive);
            String what = "queue '" + name + "' in vhost '" + v.name() + "'";
            checkEquivalent("durable", what, durable, existing.durable());
            checkEquivalent("auto_delete", what, autoDelete, existing.autoDelete());
            checkEquivalentArguments(what, arguments == null ? Map.of() : arguments, existing.arguments(),
                    QueueArguments.COMPARED_ON_REDECLARE);
            existing.used(broker.clockMillis());
            return ok(ch, existing);
        }
        QueueArguments.validate(arguments == null ? Map.of() : arguments);
        Deduplication.validate(arguments == null ? Map.of() : arguments);
        Queue q = new Queue(v.name(), name, durable, exclusive, autoDelete, arguments,
                exclusive ? ch.connectionId : -1);
        q.used(broker.clockMillis());
        pageIndex(q);
        v.queues.put(name, q);
        broker.deduplication().register(q);
        if (durable) {
            broker.durableTopologyChanged();
        }
        return ok(ch, q);
    }

    /**
     * The name a non-passive queue.declare of {@code requested} gives its queue: line breaks dropped, a generated
     * {@code amq.gen-} name for an empty one; 403 for another name in the reserved {@code amq.} prefix. For a
     * declaration carried out elsewhere (a quorum queue, declared through the cluster) as for one made here.
     */
    public String newQueueName(String requested) {
        String name = stripLineBreaks(requested);
        if (name.isEmpty()) {
            return broker.generateName("amq.gen-");
        }
        if (name.startsWith("amq.")) {
            throw BrokerException.accessRefused("queue name '" + name + "' contains reserved prefix 'amq.*'");
        }
        return name;
    }

    private static DeclareOk ok(ChannelState ch, Queue q) {
        ch.lastDeclaredQueue = q.name();
        return new DeclareOk(q.name(), q.messageCount(), q.consumerCount());
    }

    /** queue.delete; returns the number of ready messages deleted with it (0 if there was no queue). */
    public int deleteQueue(ChannelState ch, String name, boolean ifUnused, boolean ifEmpty) {
        VirtualHost v = broker.requireVhost(ch.vhost);
        Queue q = v.queue(resolveName(ch, stripLineBreaks(name)));
        if (q == null) {
            return 0;
        }
        checkExclusiveAccess(v, ch, q);
        if (ifUnused && !q.consumers.isEmpty()) {
            throw BrokerException.precondition("queue '" + q.name() + "' in vhost '" + v.name() + "' in use");
        }
        if (ifEmpty && q.messageCount() > 0) {
            throw BrokerException.precondition("queue '" + q.name() + "' in vhost '" + v.name() + "' is not empty");
        }
        return deleteQueue(v, q);
    }

    /** Deletes the queue: consumers get a server-sent cancel, its messages (ready and unacked) go. */
    int deleteQueue(VirtualHost v, Queue q) {
        q.deleted = true;
        v.queues.remove(q.name());
        for (Consumer c : new ArrayList<>(q.consumers)) {
            c.channel.consumers.remove(c.tag);
            c.channel.output.consumerCancelled(c.tag);
        }
        q.consumers.clear();
        int ready = q.purge(e -> broker.settle(q, e));
        broker.deduplication().deleted(q);
        // Deliveries still out go with the queue now (their later ack or requeue does nothing), so the
        // store never keeps a record that a queue redeclared under this name could inherit.
        for (QueueEntry e : q.dropUnacked()) {
            broker.settle(q, e);
        }
        for (Exchange source : v.unbindDestination(q.name(), true)) {
            maybeAutoDelete(v, source);
        }
        if (q.durable()) {
            broker.durableTopologyChanged();
        }
        return ready;
    }

    /** queue.purge: removes the ready messages (not the unacked ones); returns how many. */
    public int purgeQueue(ChannelState ch, String name) {
        VirtualHost v = broker.requireVhost(ch.vhost);
        return purge(accessibleQueue(v, ch, name));
    }

    /** Removes the queue's ready and held messages (not the unacked ones); returns how many. */
    int purge(Queue q) {
        return q.purge(e -> broker.settle(q, e));
    }

    /**
     * Looks a queue up for a channel: 404 if absent, 405 if another connection's exclusive queue. Line feeds and
     * carriage returns in the name are dropped, and an empty name is the channel's last declared queue.
     */
    Queue accessibleQueue(VirtualHost v, ChannelState ch, String name) {
        Queue q = v.requireQueue(resolveName(ch, stripLineBreaks(name)));
        checkExclusiveAccess(v, ch, q);
        return q;
    }

    /**
     * The spec's shortcut, as RabbitMQ has it: an empty queue name means the channel's last declared queue
     * (404 when it has declared none).
     */
    private static String resolveName(ChannelState ch, String name) {
        if (!name.isEmpty()) {
            return name;
        }
        if (ch.lastDeclaredQueue == null) {
            throw new BrokerException(ErrorCode.NOT_FOUND, "no previously declared queue");
        }
        return ch.lastDeclaredQueue;
    }

    /** For queue.bind and queue.unbind: an empty key with an empty queue name means that queue's name. */
    private static String resolveKey(ChannelState ch, String queue, String routingKey) {
        return queue.isEmpty() && routingKey.isEmpty() ? resolveName(ch, queue) : routingKey;
    }

    /** RabbitMQ drops line feeds and carriage returns from the names of queues and exchanges. */
    static String stripLineBreaks(String name) {
        return name.indexOf('\n') < 0 && name.indexOf('\r') < 0 ? name : name.replace("\n", "").replace("\r", "");
    }

    private static void checkExclusiveAccess(VirtualHost v, ChannelState ch, Queue q) {
        checkExclusiveAccess(v, ch, q, false);
    }

    private static void checkExclusiveAccess(VirtualHost v, ChannelState ch, Queue q, boolean flagMismatch) {
        if (flagMismatch || q.exclusive() && q.ownerConnection() != ch.connectionId) {
            throw new BrokerException(ErrorCode.RESOURCE_LOCKED, "cannot obtain exclusive access to locked queue '"
                    + q.name() + "' in vhost '" + v.name() + "'. It could be originally declared on another "
                    + "connection or the exclusive property value does not match that of the original declaration.");
        }
    }

    // ---- bindings ----

    public void bindQueue(ChannelState ch, String queue, String exchange, String routingKey,
                          Map<String, Object> arguments) {
        VirtualHost v = broker.requireVhost(ch.vhost);
        Queue q = accessibleQueue(v, ch, queue);
        Exchange x = bindableSource(v, exchange);
        HeadersMatch.validate(x, arguments, broker.rewriter());
        Binding b = new Binding(x.name(), q.name(), true, resolveKey(ch, queue, routingKey), arguments);
        if (x.addBinding(b) && x.durable() && q.durable()) {
            broker.durableTopologyChanged();
        }
    }

    public void unbindQueue(ChannelState ch, String queue, String exchange, String routingKey,
                            Map<String, Object> arguments) {
        VirtualHost v = broker.requireVhost(ch.vhost);
        String key = resolveKey(ch, queue, routingKey);
        Queue q = v.queue(resolveName(ch, stripLineBreaks(queue)));
        Exchange x = unbindableSource(v, exchange);
        if (q == null || x == null) {
            return; // as RabbitMQ: unbinding what does not exist (binding, queue or exchange) is fine
        }
        checkExclusiveAccess(v, ch, q);
        if (x.removeBinding(new Binding(x.name(), q.name(), true, key, arguments))) {
            if (x.durable() && q.durable()) {
                broker.durableTopologyChanged();
            }
            maybeAutoDelete(v, x);
        }
    }

    public void bindExchange(ChannelState ch, String destination, String source, String routingKey,
                             Map<String, Object> arguments) {
        VirtualHost v = broker.requireVhost(ch.vhost);
        Exchange dst = bindableSource(v, destination);
        Exchange src = bindableSource(v, source);
        HeadersMatch.validate(src, arguments, broker.rewriter());
        if (src.addBinding(new Binding(src.name(), dst.name(), false, routingKey, arguments))
                && src.durable() && dst.durable()) {
            broker.durableTopologyChanged();
        }
    }

    public void unbindExchange(ChannelState ch, String destination, String source, String routingKey,
                               Map<String, Object> arguments) {
        VirtualHost v = broker.requireVhost(ch.vhost);
        Exchange dst = unbindableSource(v, destination);
        Exchange src = unbindableSource(v, source);
        if (dst == null || src == null) {
            return; // as for queue.unbind
        }
        if (src.removeBinding(new Binding(src.name(), dst.name(), false, routingKey, arguments))) {
            if (src.durable() && dst.durable()) {
                broker.durableTopologyChanged();
            }
            maybeAutoDelete(v, src);
        }
    }

    private static Exchange bindableSource(VirtualHost v, String exchange) {
        Exchange x = unbindableSource(v, exchange);
        if (x == null) {
            throw BrokerException.notFound("exchange", stripLineBreaks(exchange), v.name());
        }
        return x;
    }

    /** As {@link #bindableSource} for an unbind, which does not mind a missing exchange: null then. */
    private static Exchange unbindableSource(VirtualHost v, String exchange) {
        if (exchange.isEmpty()) {
            throw BrokerException.accessRefused("operation not permitted on the default exchange");
        }
        return v.exchange(stripLineBreaks(exchange));
    }

    // ---- recovery ----

    /** Puts back a durable exchange read from the metadata store at start-up. */
    public void restoreExchange(String vhost, String name, ExchangeType type, boolean autoDelete, boolean internal,
                                Map<String, Object> arguments) {
        VirtualHost v = broker.addVirtualHost(vhost);
        v.exchanges.putIfAbsent(name, new Exchange(name, type, true, autoDelete, internal, arguments));
    }

    /** Puts back a durable queue read from the metadata store at start-up. */
    public Queue restoreQueue(String vhost, String name, boolean autoDelete, Map<String, Object> arguments) {
        VirtualHost v = broker.addVirtualHost(vhost);
        Queue q = v.queues.computeIfAbsent(name, n -> {
            Queue created = new Queue(vhost, n, true, false, autoDelete, arguments, -1);
            pageIndex(created);
            return created;
        });
        broker.deduplication().register(q);
        return q;
    }

    /**
     * A durable plain queue pages the index of a long backlog's middle out if the store can (see
     * {@link ReadyEntries}); not a priority queue, and not the quarantine, whose tools look through it in place.
     */
    private void pageIndex(Queue q) {
        IndexPages pages = broker.store().indexPages();
        if (pages != null && q.durable() && q.maxPriority() == 0 && !q.name().equals(Broker.QUARANTINE_QUEUE)) {
            q.pageIndex(pages, ReadyEntries.PAGE_ENTRIES);
        }
    }

    /** Puts back a binding between durable ends; ignored if either end is missing. */
    public void restoreBinding(String vhost, Binding b) {
        VirtualHost v = broker.addVirtualHost(vhost);
        Exchange source = v.exchange(b.source());
        boolean destinationExists = b.toQueue() ? v.queue(b.destination()) != null : v.exchange(b.destination()) != null;
        if (source != null && destinationExists) {
            source.addBinding(b);
        }
    }

    /**
     * Puts back a recovered message; call in sequence order per queue. Its enqueue time and expiry are the
     * stored ones ({@link QueueEntry#NEVER} if it has none), so its TTL still counts from its publish.
     */
    public QueueEntry restoreEntry(Queue q, long seq, Message message, boolean redelivered, int deliveryCount,
                                   long enqueuedAtMillis, long expiresAtMillis) {
        QueueEntry e = new QueueEntry(seq, message, redelivered, deliveryCount, enqueuedAtMillis, expiresAtMillis);
        if (q.maxPriority() > 0) {
            e.priority = (byte) broker.rewriter().priority(message.properties());
        }
        q.restore(e);
        return e;
    }

    /** Puts back a recovered entry whose message the store paged out; call in sequence order per queue. */
    public void restoreEntry(Queue q, QueueEntry pagedOut) {
        q.restore(pagedOut);
    }

    /**
     * Puts back a recovered entry that {@code x-redelivery-backoff} held back until {@code readyAtMillis} (wall
     * clock; -1 or 0 for none, then as {@link #restoreEntry(Queue, QueueEntry)}): it stays held until then, and is
     * released by the first {@link Broker#tick} or {@link Broker#advanceClock} at or after it.
     */
    public void restoreEntry(Queue q, QueueEntry pagedOut, long readyAtMillis) {
        if (readyAtMillis <= 0) {
            q.restore(pagedOut);
        } else {
            broker.holds().restore(q, pagedOut, readyAtMillis);
        }
    }

    /** True for the exchanges every vhost has from birth (the default one and {@code amq.*}). */
    public static boolean predeclared(Exchange x) {
        return x.name().isEmpty() || x.name().startsWith("amq.");
    }

    // ---- equivalence ----

    private static void checkEquivalent(String arg, String what, Object received, Object current) {
        if (!Objects.equals(received, current)) {
            throw BrokerException.precondition("inequivalent arg '" + arg + "' for " + what + ": received '"
                    + received + "' but current is '" + current + "'");
        }
    }

    private static void checkEquivalentArguments(String what, Map<String, Object> received,
                                                 Map<String, Object> current, Iterable<String> keys) {
        for (String key : keys) {
            Object r = received.get(key);
            Object c = current.get(key);
            if (!QueueArguments.sameValue(r, c)) {
                throw BrokerException.precondition("inequivalent arg '" + key + "' for " + what + ": received "
                        + (r == null ? "none" : "the value '" + QueueArguments.show(r) + "'") + " but current is "
                        + (c == null ? "none" : "the value '" + QueueArguments.show(c) + "'"));
            }
        }
    }
}
