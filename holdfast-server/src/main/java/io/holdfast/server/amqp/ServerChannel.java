package io.holdfast.server.amqp;

import io.holdfast.core.Broker;
import io.holdfast.core.BrokerException;
import io.holdfast.core.ChannelOutput;
import io.holdfast.core.ChannelState;
import io.holdfast.core.ErrorCode;
import io.holdfast.core.Exchange;
import io.holdfast.core.Message;
import io.holdfast.core.Queue;
import io.holdfast.core.QueueEntry;
import io.holdfast.core.QuorumCommand;
import io.holdfast.core.QuorumQueueRules;
import io.holdfast.core.Topology;
import io.holdfast.core.TxSettlements;
import io.holdfast.core.VirtualHost;
import io.holdfast.protocol.BasicProperties;
import io.holdfast.protocol.Method.*;
import io.holdfast.protocol.Method;
import io.holdfast.protocol.ReplyCode;
import io.holdfast.server.engine.MessageCounters;
import io.holdfast.server.engine.PermissionGate;
import io.holdfast.server.engine.QuorumQueues;
import io.holdfast.server.engine.ReplicatedTopology;
import io.holdfast.server.persistence.WriteBarrier;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * The broker thread's side of one AMQP channel: turns channel methods into core commands and core
 * effects into frames, tracks publisher confirms and buffers transactions (publishes wait for commit; acks,
 * nacks and rejects are checked at once and applied at commit, see {@link TxSettlements}). Broker thread only.
 */
final class ServerChannel implements ChannelOutput {
    private final Session session;
    private final int number;
    private final Broker broker;
    private final PermissionGate permissions;
    private ChannelState state;
    /** We sent channel.close and wait for close-ok: everything else from the client is ignored. */
    private boolean closing;
    private ConfirmTracker confirms;
    /** Non-null in tx mode: the publishes and settlements of the open transaction. */
    private List<Runnable> transaction;
    /** Publishes among {@link #transaction}'s work (RabbitMQ's messages_uncommitted). */
    private int txPublishes;
    /**
     * Non-null while a topology change of this channel is being committed in the cluster: the methods and
     * publishes that arrive meanwhile wait here, in order, as they would behind any synchronous method.
     */
    private ArrayDeque<Runnable> held;
    /** Its side of the quorum queues it uses, made on first use on a cluster node; null until then. */
    private QuorumChannel quorum;

    ServerChannel(Session session, int number) {
        this.session = session;
        this.number = number;
        this.broker = session.engine.broker();
        this.permissions = new PermissionGate(session.engine.access(), broker, session.user, session.vhost,
                session.clientId);
    }

    int number() {
        return number;
    }

    /** The core's side of the channel, null until channel.open-ok. */
    ChannelState state() {
        return state;
    }

    boolean confirmMode() {
        return confirms != null;
    }

    boolean transactional() {
        return transaction != null;
    }

    /** Publishes in the open transaction (0 outside tx mode). */
    int uncommitted() {
        return txPublishes;
    }

    /** Publishes awaiting their confirm (0 outside confirm mode). */
    int unconfirmed() {
        return confirms == null ? 0 : confirms.outstanding();
    }

    void open() {
        state = broker.openChannel(session.id, number, session.vhost, this);
        session.outbox.method(number, new ChannelOpenOk(new byte[0]));
    }

    /** The channel is over: consumers cancelled, unacked deliveries back to their queues. */
    void release() {
        closing = true; // methods held behind a cluster commit must not run on a released channel
        if (quorum != null) {
            quorum.close();
        }
        if (state != null) {
            broker.advanceClock(System.currentTimeMillis());
            broker.closeChannel(state);
            session.engine.afterCommand();
        }
    }

    void handle(Method m) {
        if (closing) {
            return;
        }
        if (held != null) {
            held.add(() -> handle(m));
            return;
        }
        try {
            // Deliveries this command causes (an ack frees credit, a consume starts) judge expiry by now.
            broker.advanceClock(System.currentTimeMillis());
            dispatch(m);
            session.engine.afterCommand();
        } catch (BrokerException e) {
            session.engine.afterCommand();
            refuse(e, m);
        }
    }

    private Exchange exchange(String name) {
        VirtualHost v = broker.virtualHost(session.vhost);
        return v == null ? null : v.exchange(name);
    }

    /**
     * Holds this channel's later methods until the cluster has committed (and this node applied) {@code change},
     * then runs {@code committed}; if the cluster did not commit it, runs {@code undo} and closes the connection
     * with 541 INTERNAL_ERROR saying so (the client must not take the change as made). Broker thread.
     */
    private void awaitCluster(Method m, CompletableFuture<Void> change, Runnable committed, Runnable undo) {
        held = new ArrayDeque<>();
        change.whenComplete((ok, error) -> session.engine.loop().execute(() -> {
            ArrayDeque<Runnable> waiting = held;
            held = null;
            try {
                if (error == null) {
                    if (!closing) {
                        committed.run();
                    }
                } else {
                    undo.run();
                    Throwable why = error instanceof CompletionException && error.getCause() != null
                            ? error.getCause() : error;
                    if (why instanceof BrokerException refused) {
                        throw refused; // the cluster decided, and refused: the client hears why, as from the core
                    }
                    session.connection.hardErrorFromBroker(ReplyCode.INTERNAL_ERROR, "INTERNAL_ERROR - "
                            + why.getMessage(), m.classId(), m.methodId());
                    closing = true;
                }
            } catch (BrokerException e) {
                refuse(e, m);
            }
            session.engine.afterCommand();
            for (Runnable r : waiting) {
                r.run(); // each runs, or waits again behind a change it started
            }
        }));
    }

    /** Closes this channel with a soft error; the client answers close-ok. */
    void fail(int code, String text, int classId, int methodId) {
        if (closing) {
            return;
        }
        closing = true;
        session.connection.channelClosingFromBroker(number);
        session.outbox.method(number, new ChannelClose(code,
                AmqpConnection.replyText(ReplyCode.name(code) + " - " + text), classId, methodId));
        broker.closeChannel(state);
        session.engine.afterCommand();
    }

    private void dispatch(Method m) {
        permissions.authorize(m, state);
        Topology t = broker.topology();
        if (m instanceof BasicAck a) {
            long classic = settleQuorum(a.deliveryTag(), a.multiple(), QuorumCommand.Disposition.ACK);
            if (classic < 0) {
                return;
            }
            if (transaction != null) {
                TxSettlements.Held held = broker.transactions().hold(state, classic, a.multiple());
                transaction.add(() -> broker.transactions().ack(state, held));
            } else {
                session.engine.counters().acknowledged.add(broker.ack(state, classic, a.multiple()));
            }
        } else if (m instanceof BasicNack n) {
            reject(n.deliveryTag(), n.multiple(), n.requeue());
        } else if (m instanceof BasicReject r) {
            reject(r.deliveryTag(), false, r.requeue());
        } else if (m instanceof BasicQos q) {
            if (q.prefetchSize() != 0) {
                throw new BrokerException(ErrorCode.NOT_IMPLEMENTED, "prefetch_size!=0 ("
                        + q.prefetchSize() + ")");
            }
            broker.qos(state, q.prefetchCount(), q.global());
            reply(new BasicQosOk());
        } else if (m instanceof BasicConsume c && isQuorum(c.queue())) {
            awaitCluster(m, quorum().consume(c, state.queueNamed(c.queue()), state), () -> { }, () -> { });
        } else if (m instanceof BasicConsume c) {
            String tag = broker.consume(state, c.queue(), c.consumerTag(), c.noAck(), c.exclusive(), c.arguments());
            if (!c.nowait()) {
                reply(new BasicConsumeOk(tag));
            }
            broker.dispatch();
        } else if (m instanceof BasicCancel c) {
            if (quorum == null || !quorum.cancel(c.consumerTag())) {
                broker.cancel(state, c.consumerTag());
            }
            if (!c.nowait()) {
                reply(new BasicCancelOk(c.consumerTag()));
            }
        } else if (m instanceof BasicGet g && isQuorum(g.queue())) {
            String queue = state.queueNamed(g.queue());
            CompletableFuture<QuorumQueues.Result> got = quorum().get(queue, g.noAck());
            awaitCluster(m, got.thenApply(r -> null), () -> quorum.got(queue, g.noAck(), got.join()), () -> { });
        } else if (m instanceof BasicGet g) {
            Broker.GetResult r = broker.get(state, g.queue(), g.noAck(), System.currentTimeMillis());
            if (r == null) {
                reply(new BasicGetEmpty(""));
            } else {
                Message msg = r.message();
                countDelivery(r.redelivered());
                session.outbox.content(number, new BasicGetOk(r.deliveryTag(), r.redelivered(), msg.exchange(),
                        msg.routingKey(), r.messageCount()), deliveryProperties(r.entry(), msg), msg.body());
            }
        } else if (m instanceof BasicRecover r) {
            requeueAll(r.requeue());
            reply(new BasicRecoverOk());
        } else if (m instanceof BasicRecoverAsync r) {
            requeueAll(r.requeue());
        } else if (m instanceof QueueDeclare d && declaresQuorum(d)) {
            String name = t.newQueueName(d.queue());
            QuorumQueueRules.checkDeclare(session.vhost, name, d.durable(), d.exclusive(), d.autoDelete(),
                    d.arguments());
            awaitCluster(m, session.engine.quorumQueues().declare(session.vhost, name, d.arguments()), () -> {
                Topology.DeclareOk ok = t.declareQueue(state, name, true, true, false, false, null);
                if (!d.nowait()) {
                    reply(new QueueDeclareOk(ok.queue(), 0, 0));
                }
            }, () -> { });
        } else if (m instanceof QueueDeclare d) {
            Topology.DeclareOk ok = t.declareQueue(state, d.queue(), d.passive(), d.durable(), d.exclusive(),
                    d.autoDelete(), d.arguments());
            if (!d.nowait()) {
                Broker.ReplicatedQueues.ReplicaView replica = replicaView(ok.queue());
                reply(replica == null ? new QueueDeclareOk(ok.queue(), ok.messageCount(), ok.consumerCount())
                        : new QueueDeclareOk(ok.queue(), replica.ready(), replica.consumers()));
            }
        } else if (m instanceof QueueBind b) {
            t.bindQueue(state, b.queue(), b.exchange(), b.routingKey(), b.arguments());
            String queue = state.queueNamed(PermissionGate.clean(b.queue()));
            String key = b.queue().isEmpty() && b.routingKey().isEmpty() ? queue : b.routingKey();
            String source = PermissionGate.clean(b.exchange());
            ReplicatedTopology cluster = session.engine.replicatedTopology();
            if (cluster != null && isQuorum(queue) && durableExchange(source)) {
                // Bound here (checked by the core); answered once every node routes so, else undone.
                awaitCluster(m, cluster.bound(session.vhost, source, queue, true, key, b.arguments()), () -> {
                    if (!b.nowait()) {
                        reply(new QueueBindOk());
                    }
                }, () -> t.unbindQueue(state, queue, source, key, b.arguments()));
            } else if (!b.nowait()) {
                reply(new QueueBindOk());
            }
        } else if (m instanceof QueueUnbind u) {
            String queue = state.queueNamed(PermissionGate.clean(u.queue()));
            String key = u.queue().isEmpty() && u.routingKey().isEmpty() ? queue : u.routingKey();
            String source = PermissionGate.clean(u.exchange());
            ReplicatedTopology cluster = session.engine.replicatedTopology();
            if (cluster != null && isQuorum(queue) && durableExchange(source)) {
                awaitCluster(m, cluster.unbound(session.vhost, source, queue, true, key, u.arguments()), () -> {
                    t.unbindQueue(state, u.queue(), u.exchange(), u.routingKey(), u.arguments());
                    reply(new QueueUnbindOk());
                }, () -> { });
                return;
            }
            t.unbindQueue(state, u.queue(), u.exchange(), u.routingKey(), u.arguments());
            reply(new QueueUnbindOk());
        } else if (m instanceof QueuePurge p && isQuorum(p.queue())) {
            CompletableFuture<QuorumQueues.Result> purged = session.engine.quorumQueues().submit(session.vhost,
                    state.queueNamed(p.queue()), new QuorumCommand.Purge());
            awaitCluster(m, purged.thenApply(r -> null), () -> {
                QuorumQueues.Result r = purged.join();
                if (r.refusal() != null) {
                    throw r.refusal();
                }
                if (!p.nowait()) {
                    reply(new QueuePurgeOk(r.count()));
                }
            }, () -> { });
        } else if (m instanceof QueuePurge p) {
            int n = t.purgeQueue(state, p.queue());
            if (!p.nowait()) {
                reply(new QueuePurgeOk(n));
            }
        } else if (m instanceof QueueDelete d && isQuorum(d.queue())) {
            String name = state.queueNamed(d.queue());
            Broker.ReplicatedQueues.ReplicaView replica = replicaView(name);
            String what = "queue '" + name + "' in vhost '" + session.vhost + "'";
            if (d.ifUnused() && replica.consumers() > 0) {
                throw BrokerException.precondition(what + " in use");
            }
            if (d.ifEmpty() && replica.ready() > 0) {
                throw BrokerException.precondition(what + " is not empty");
            }
            awaitCluster(m, session.engine.quorumQueues().delete(session.vhost, name), () -> {
                if (!d.nowait()) {
                    reply(new QueueDeleteOk(replica.ready()));
                }
            }, () -> { });
        } else if (m instanceof QueueDelete d) {
            int n = t.deleteQueue(state, d.queue(), d.ifUnused(), d.ifEmpty());
            if (!d.nowait()) {
                reply(new QueueDeleteOk(n));
            }
        } else if (m instanceof ExchangeDeclare d) {
            String name = PermissionGate.clean(d.exchange());
            boolean creates = !d.passive() && d.durable() && exchange(name) == null;
            t.declareExchange(state, d.exchange(), d.type(), d.passive(), d.durable(), d.autoDelete(), d.internal(),
                    d.arguments());
            ReplicatedTopology cluster = session.engine.replicatedTopology();
            if (creates && cluster != null) {
                // Declared here (checked by the core); answered once the whole cluster has it, else undone.
                awaitCluster(m, cluster.exchangeDeclared(session.vhost, name, d.type(), d.autoDelete(), d.internal(),
                        d.arguments()), () -> {
                            if (!d.nowait()) {
                                reply(new ExchangeDeclareOk());
                            }
                        }, () -> t.deleteExchange(state, name, false));
            } else if (!d.nowait()) {
                reply(new ExchangeDeclareOk());
            }
        } else if (m instanceof ExchangeDelete d) {
            String name = PermissionGate.clean(d.exchange());
            Exchange x = exchange(name);
            ReplicatedTopology cluster = session.engine.replicatedTopology();
            if (cluster != null && x != null && x.durable() && !name.startsWith("amq.")
                    && !(d.ifUnused() && !x.bindings().isEmpty())) {
                // Deleted through the cluster first: a delete cannot be undone here if the cluster refuses it.
                awaitCluster(m, cluster.exchangeDeleted(session.vhost, name), () -> {
                    t.deleteExchange(state, d.exchange(), d.ifUnused());
                    if (!d.nowait()) {
                        reply(new ExchangeDeleteOk());
                    }
                }, () -> { });
                return;
            }
            t.deleteExchange(state, d.exchange(), d.ifUnused());
            if (!d.nowait()) {
                reply(new ExchangeDeleteOk());
            }
        } else if (m instanceof ExchangeBind b) {
            t.bindExchange(state, b.destination(), b.source(), b.routingKey(), b.arguments());
            String source = PermissionGate.clean(b.source());
            String destination = PermissionGate.clean(b.destination());
            ReplicatedTopology cluster = session.engine.replicatedTopology();
            if (cluster != null && durableExchange(source) && durableExchange(destination)) {
                awaitCluster(m, cluster.bound(session.vhost, source, destination, false, b.routingKey(),
                        b.arguments()), () -> {
                            if (!b.nowait()) {
                                reply(new ExchangeBindOk());
                            }
                        }, () -> t.unbindExchange(state, destination, source, b.routingKey(), b.arguments()));
            } else if (!b.nowait()) {
                reply(new ExchangeBindOk());
            }
        } else if (m instanceof ExchangeUnbind u) {
            String source = PermissionGate.clean(u.source());
            String destination = PermissionGate.clean(u.destination());
            ReplicatedTopology cluster = session.engine.replicatedTopology();
            if (cluster != null && durableExchange(source) && durableExchange(destination)) {
                awaitCluster(m, cluster.unbound(session.vhost, source, destination, false, u.routingKey(),
                        u.arguments()), () -> {
                            t.unbindExchange(state, u.destination(), u.source(), u.routingKey(), u.arguments());
                            if (!u.nowait()) {
                                reply(new ExchangeUnbindOk());
                            }
                        }, () -> { });
                return;
            }
            t.unbindExchange(state, u.destination(), u.source(), u.routingKey(), u.arguments());
            if (!u.nowait()) {
                reply(new ExchangeUnbindOk());
            }
        } else if (m instanceof ChannelFlow f) {
            broker.flow(state, f.active());
            reply(new ChannelFlowOk(f.active()));
        } else if (m instanceof ConfirmSelect c) {
            if (transaction != null) {
                throw new BrokerException(ErrorCode.PRECONDITION_FAILED,
                        "cannot switch from tx to confirm mode");
            }
            if (confirms == null) {
                confirms = new ConfirmTracker(session.engine.counters());
            }
            if (!c.nowait()) {
                reply(new ConfirmSelectOk());
            }
        } else if (m instanceof TxSelect) {
            if (confirms != null) {
                throw new BrokerException(ErrorCode.PRECONDITION_FAILED,
                        "cannot switch from confirm to tx mode");
            }
            if (transaction == null) {
                transaction = new ArrayList<>();
            }
            reply(new TxSelectOk());
        } else if (m instanceof TxCommit) {
            commit();
        } else if (m instanceof TxRollback) {
            requireTransaction();
            transaction.clear();
            txPublishes = 0;
            broker.transactions().rollback(state);
            reply(new TxRollbackOk());
        } else if (m instanceof AccessRequest) {
            reply(new AccessRequestOk(1));
        } else {
            throw new BrokerException(ErrorCode.COMMAND_INVALID, "method " + m.name()
                    + " is not allowed from a client on channel " + number);
        }
    }

    private void requeueAll(boolean requeue) {
        if (!requeue) {
            throw new BrokerException(ErrorCode.NOT_IMPLEMENTED, "requeue=false");
        }
        if (quorum != null) {
            quorum.recover();
        }
        broker.recover(state);
    }

    // ---- quorum queues (cluster nodes only) ----

    /** True if {@code name} (or the last declared queue, for "") is a quorum queue whose messages the cluster holds. */
    private boolean isQuorum(String name) {
        if (session.engine.quorumQueues() == null) {
            return false;
        }
        Queue q = queueNamed(name);
        return q != null && broker.replicated(q);
    }

    /** The queue a method names ({@code ""}: the last declared one), or null if there is none. */
    private Queue queueNamed(String name) {
        VirtualHost v = broker.virtualHost(session.vhost);
        return v == null ? null : v.queue(state.queueNamed(PermissionGate.clean(name)));
    }

    /** A durable exchange: one every node of a cluster has (the predeclared ones, and those the cluster declared). */
    private boolean durableExchange(String name) {
        Exchange x = exchange(name);
        return x != null && x.durable();
    }

    /** A non-passive declaration of a quorum queue this node does not have yet: the cluster makes it. */
    private boolean declaresQuorum(QueueDeclare d) {
        if (session.engine.quorumQueues() == null || d.passive() || !QuorumQueueRules.isQuorum(d.arguments())) {
            return false;
        }
        VirtualHost v = broker.virtualHost(session.vhost);
        return v != null && v.queue(PermissionGate.clean(d.queue())) == null;
    }

    /** What this node's replica of a quorum queue knows, or null for any other queue. */
    private Broker.ReplicatedQueues.ReplicaView replicaView(String name) {
        Queue q = queueNamed(name);
        return q == null ? null : broker.replicaView(q);
    }

    private QuorumChannel quorum() {
        if (quorum == null) {
            quorum = new QuorumChannel(this, session, session.engine.quorumQueues());
        }
        return quorum;
    }

    /**
     * The quorum part of an ack, nack or reject (sent to the queues' groups), returning the tag the classic part
     * is settled with, or -1 if there is none. A quorum delivery cannot be settled inside a transaction yet.
     */
    private long settleQuorum(long tag, boolean multiple, QuorumCommand.Disposition disposition) {
        if (quorum == null) {
            return tag;
        }
        if (transaction != null) {
            if (quorum.holds(tag, multiple)) {
                throw new BrokerException(ErrorCode.NOT_IMPLEMENTED, "acknowledging quorum queue deliveries in a"
                        + " transaction is not supported");
            }
            return tag;
        }
        return quorum.settle(tag, multiple, disposition, state);
    }

    void replyGetEmpty() {
        reply(new BasicGetEmpty(""));
    }

    /**
     * basic.nack and basic.reject. In tx mode, as acks, they name their deliveries now (an unknown tag is 406 at
     * once) and take effect at commit.
     */
    private void reject(long tag, boolean multiple, boolean requeue) {
        long deliveryTag = settleQuorum(tag, multiple, requeue ? QuorumCommand.Disposition.REQUEUE
                : QuorumCommand.Disposition.DISCARD);
        if (deliveryTag < 0) {
            return;
        }
        if (transaction != null) {
            TxSettlements.Held held = broker.transactions().hold(state, deliveryTag, multiple);
            transaction.add(() -> broker.transactions().reject(state, held, requeue));
        } else {
            broker.reject(state, deliveryTag, multiple, requeue);
        }
    }

    private void requireTransaction() {
        if (transaction == null) {
            throw new BrokerException(ErrorCode.PRECONDITION_FAILED,
                    "channel is not transactional");
        }
    }

    /** tx.commit: applies the buffered work; commit-ok once every persistent write in it is durable. */
    private void commit() {
        requireTransaction();
        List<Runnable> work = new ArrayList<>(transaction);
        transaction.clear();
        txPublishes = 0;
        WriteBarrier barrier = new WriteBarrier(durable -> {
            if (!closing && session.outbox.open()) {
                reply(new TxCommitOk());
            }
        });
        session.engine.store().barrier(barrier);
        try {
            for (Runnable r : work) {
                r.run();
            }
        } finally {
            session.engine.store().barrier(null);
        }
        barrier.arm();
    }

    /** A fully assembled basic.publish with its content. */
    void publish(BasicPublish p, byte[] properties, byte[] body) {
        if (closing) {
            return;
        }
        if (held != null) {
            held.add(() -> publish(p, properties, body));
            return;
        }
        if (p.immediate()) {
            refuse(new BrokerException(ErrorCode.NOT_IMPLEMENTED, "immediate=true"), p); // as RabbitMQ: 540
            return;
        }
        BasicProperties props;
        try {
            props = BasicProperties.decode(properties);
        } catch (RuntimeException e) {
            fail(ReplyCode.SYNTAX_ERROR, "malformed content header properties: " + e.getMessage(),
                    BasicPublish.CLASS_ID, BasicPublish.METHOD_ID);
            return;
        }
        String claimed = props.userId();
        if (claimed != null && !claimed.equals(session.user)) {
            // Validated user-id, as RabbitMQ: consumers may trust the property to name the publisher.
            fail(ReplyCode.PRECONDITION_FAILED, "user_id property set to '" + claimed
                    + "' but authenticated user was '" + session.user + "'", BasicPublish.CLASS_ID,
                    BasicPublish.METHOD_ID);
            return;
        }
        Message message;
        try {
            byte[] stored = properties;
            if (Broker.isDirectReplyTo(props.replyTo())) {
                // Direct reply-to: the responder replies to this channel's own address.
                stored = props.withReplyTo(broker.directReplyAddress(state)).encode();
            }
            Integer mode = props.deliveryMode();
            message = new Message(p.exchange(), p.routingKey(), stored, props.headers(),
                    mode != null && mode == 2, Message.parseExpiration(props.expiration()), body);
            broker.checkRoutingHeaders(message);
        } catch (BrokerException e) {
            // No reply consumer, an invalid expiration, a CC or BCC not an array: 406, as RabbitMQ, before routing.
            refuse(e, p);
            return;
        }
        try {
            permissions.publish(p.exchange(), p.routingKey());
        } catch (BrokerException e) {
            refuse(e, p);
            return;
        }
        session.engine.counters().received.increment();
        if (confirms != null) {
            session.engine.counters().receivedConfirm.increment();
        }
        if (transaction != null) {
            transaction.add(() -> route(p, message, null));
            txPublishes++;
            return;
        }
        ConfirmTracker.Pending pending = confirms == null ? null : confirms.register();
        try {
            route(p, message, pending);
        } catch (BrokerException e) {
            refuse(e, p);
        }
    }

    /** A refused command: hard errors close the connection, soft ones this channel. */
    private void refuse(BrokerException e, Method m) {
        if (e.code().closesConnection()) {
            session.connection.hardErrorFromBroker(e.code().code(), ReplyCode.name(e.code().code()) + " - "
                    + e.getMessage(), m.classId(), m.methodId());
        } else {
            fail(e.code().code(), e.getMessage(), m.classId(), m.methodId());
        }
    }

    private void route(BasicPublish p, Message message, ConfirmTracker.Pending pending) {
        WriteBarrier barrier = pending == null ? null : new WriteBarrier(durable -> {
            if (!closing) {
                confirms.complete(pending, durable, this::sendConfirm);
            }
        });
        // Inside tx.commit the commit's own barrier is set already and must count these writes.
        if (barrier != null) {
            session.engine.store().barrier(barrier);
        }
        Broker.PublishResult result;
        try {
            result = broker.publish(state, p.exchange(), p.routingKey(), message, System.currentTimeMillis());
        } finally {
            if (barrier != null) {
                session.engine.store().barrier(null);
            }
        }
        // As RabbitMQ: a queue that refused the message (reject-publish) still counts as a route, so no
        // basic.return; the confirm becomes a nack if any target queue refused it.
        if (result.rejected() && pending != null) {
            pending.refuse();
        }
        MessageCounters counters = session.engine.counters();
        if (!result.unroutable()) {
            counters.routed.increment();
        } else if (p.mandatory()) {
            counters.unroutableReturned.increment();
        } else {
            counters.unroutableDropped.increment();
        }
        if (result.unroutable() && p.mandatory()) {
            session.outbox.content(number, new BasicReturn(ReplyCode.NO_ROUTE, "NO_ROUTE", p.exchange(),
                    p.routingKey()), message.properties(), message.body());
        }
        if (barrier != null) {
            barrier.arm();
        }
    }

    private void sendConfirm(long seq, boolean ack, boolean multiple) {
        if (ack) {
            session.outbox.method(number, new BasicAck(seq, multiple));
        } else {
            session.outbox.method(number, new BasicNack(seq, multiple, false));
        }
    }

    private void reply(Method m) {
        session.outbox.method(number, m);
    }

    void writableAgain() {
        if (state != null && !closing) {
            broker.advanceClock(System.currentTimeMillis());
            broker.channelWritable(state);
        }
    }

    // ---- ChannelOutput: effects of the core on this channel ----

    @Override
    public void deliver(String consumerTag, long deliveryTag, boolean redelivered, QueueEntry entry, Message m) {
        countDelivery(redelivered);
        session.outbox.content(number, new BasicDeliver(consumerTag, deliveryTag, redelivered, m.exchange(),
                m.routingKey()), deliveryProperties(entry, m), m.body());
    }

    void countDelivery(boolean redelivered) {
        MessageCounters counters = session.engine.counters();
        counters.delivered.increment();
        if (redelivered) {
            counters.redelivered.increment();
        }
    }

    /**
     * The properties a delivery carries: on a first delivery exactly the stored ones; on a redelivery the
     * same with the header {@code x-delivery-count} (a long) set to the number of earlier deliveries, as
     * RabbitMQ's quorum queues do. The core has already counted this delivery in the entry.
     */
    static byte[] deliveryProperties(QueueEntry entry, Message m) {
        return deliveryProperties(entry.deliveryCount(), m);
    }

    /** As {@link #deliveryProperties(QueueEntry, Message)}, for a delivery counted {@code deliveryCount}. */
    static byte[] deliveryProperties(int deliveryCount, Message m) {
        int earlier = deliveryCount - 1;
        byte[] stored = m.properties();
        if (earlier < 1) {
            return stored;
        }
        BasicProperties p = BasicProperties.decode(stored);
        Map<String, Object> headers = p.headers() == null ? new LinkedHashMap<>() : new LinkedHashMap<>(p.headers());
        headers.put("x-delivery-count", (long) earlier);
        return p.withHeaders(headers).encode();
    }

    @Override
    public void deliverReply(String consumerTag, long deliveryTag, Message reply) {
        session.outbox.content(number, new BasicDeliver(consumerTag, deliveryTag, false, reply.exchange(),
                reply.routingKey()), reply.properties(), reply.body());
    }

    @Override
    public void consumerCancelled(String consumerTag) {
        if (!closing) {
            session.outbox.method(number, new BasicCancel(consumerTag, true));
        }
    }

    @Override
    public void timedOut(long timeoutMillis) {
        // RabbitMQ's text, so operators find its documentation.
        fail(ReplyCode.PRECONDITION_FAILED, "delivery acknowledgement on channel " + number
                + " timed out. Timeout value used: " + timeoutMillis + " ms. This timeout value can be configured,"
                + " see consumers doc guide to learn more", 0, 0);
    }

    @Override
    public boolean writable() {
        return session.outbox.writable();
    }
}
