package io.holdfast.server.cluster;

import io.holdfast.cluster.ClusterNode;
import io.holdfast.cluster.QuorumCommandCodec;
import io.holdfast.cluster.QuorumQueueReplica;
import io.holdfast.cluster.ReplicaGroup;
import io.holdfast.core.Broker;
import io.holdfast.core.BrokerException;
import io.holdfast.core.ErrorCode;
import io.holdfast.core.Message;
import io.holdfast.core.Queue;
import io.holdfast.core.QuorumCommand;
import io.holdfast.core.QuorumEffect;
import io.holdfast.core.QuorumQueue;
import io.holdfast.core.RemoteChannel;
import io.holdfast.core.VirtualHost;
import io.holdfast.protocol.BasicProperties;
import io.holdfast.protocol.FieldTable;
import io.holdfast.server.config.ClusterSettings;
import io.holdfast.server.engine.BasicPropertiesRewriter;
import io.holdfast.server.engine.Engine;
import io.holdfast.server.engine.QuorumQueues;
import io.holdfast.server.engine.ReplicatedTopology;
import io.holdfast.server.persistence.WriteBarrier;
import io.netty.buffer.Unpooled;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This node's replicas of the cluster's quorum queues: one Raft group per queue over every node (see
 * {@link QuorumQueues}), hosted on the node's {@link ClusterNode} beside the metadata group, which carries the
 * declarations. Also the broker's {@link Broker.ReplicatedQueues}: a message routed to a quorum queue is sent to its
 * group as one {@link QuorumCommand.Enqueue}, counted in the publish's {@link WriteBarrier} so that its confirm waits
 * for the commit (and is a nack if the queue refused it or the commit failed).
 *
 * <p>Failures of other nodes: the leader of each queue probes the other nodes' peer ports every second, and a node
 * whose port has refused connections for {@link #DOWN_AFTER_ELECTIONS} election timeouts is declared down to the
 * queues it leads ({@link QuorumCommand.NodeDown}): its consumers go and their unacked deliveries come back,
 * redelivered. A node that starts declares its previous run down to every queue it hosts before any of its channels
 * may consume there ({@link #ready}). The leader also submits a {@link QuorumCommand.Tick} every second, so TTL,
 * backoff and consumer timeouts run on the log's time.
 *
 * <p>Threads: any thread may call; replicas apply on their groups' threads and hand what concerns a channel or the
 * broker to the broker loop; hosting and the watcher run on one thread of their own.
 */
final class QuorumGroups implements QuorumQueues, Broker.ReplicatedQueues {
    private static final Logger log = LoggerFactory.getLogger(QuorumGroups.class);
    private static final String GROUP_PREFIX = "quorum/";
    private static final long WATCH_MILLIS = 1000;
    private static final int DOWN_AFTER_ELECTIONS = 3;
    private static final int PROBE_TIMEOUT_MILLIS = 250;

    private final ClusterSettings settings;
    private final Engine engine;
    private final MetadataGroup metadata;
    private final NodeEffects effects;
    private final long consumerTimeoutMillis;
    private final BasicPropertiesRewriter rewriter = new BasicPropertiesRewriter();
    private final Map<String, Hosted> hosted = new ConcurrentHashMap<>();
    private final Map<Long, ChannelListener> listeners = new ConcurrentHashMap<>();
    /** Declarations made here waiting for this node to host the queue. */
    private final Map<String, List<CompletableFuture<Void>>> hosting = new ConcurrentHashMap<>();
    private final Map<String, Long> downSince = new ConcurrentHashMap<>();
    /** Nodes found down, each with the queues (keys) already told so. Worker thread. */
    private final Map<String, java.util.Set<String>> declaredDown = new ConcurrentHashMap<>();
    /** Channel ids: this run's start second in the high half, so a restarted node never reuses one. */
    private final AtomicLong channelIds = new AtomicLong((System.currentTimeMillis() / 1000) << 32);
    /** This node run as the publisher of every message it routes to a quorum queue (its channels hear no confirm). */
    private final RemoteChannel enqueuer;
    /** Queues the metadata log declares now, as its apply thread last said: hosting skips a queue deleted since. */
    private final java.util.Set<String> declared = ConcurrentHashMap.newKeySet();
    /** Hosts and removes replicas, in the metadata log's order. */
    private final ScheduledExecutorService worker = daemon("holdfast-quorum-hosting");
    /** Probes the peers and ticks the queues led here; apart from hosting, so a slow Ratis call stalls neither. */
    private final ScheduledExecutorService watcher = daemon("holdfast-quorum-watcher");
    /** The node's Raft server, once started: hosting waits for it (the metadata log replays before). */
    private final CompletableFuture<ClusterNode> raft = new CompletableFuture<>();

    /**
     * One hosted queue: its group, its replica, the gate its commands wait behind until this node's previous run was
     * declared down to it, and this node's publish numbering for it (see {@link QuorumQueue}'s enqueuers).
     */
    private record Hosted(String vhost, String name, ReplicaGroup group, QuorumQueueReplica replica, Gate ready,
                          AtomicLong publishSeq) {}

    /** Runs tasks at once when open; until then keeps them, and runs them in arrival order when it opens. */
    private static final class Gate {
        private final java.util.ArrayDeque<Runnable> waiting = new java.util.ArrayDeque<>();
        private boolean open;

        Gate(boolean open) {
            this.open = open;
        }

        synchronized void run(Runnable task) {
            if (open) {
                task.run();
            } else {
                waiting.add(task);
            }
        }

        synchronized void open() {
            while (!waiting.isEmpty()) {
                waiting.poll().run();
            }
            open = true;
        }

        synchronized boolean isOpen() {
            return open;
        }
    }

    QuorumGroups(ClusterSettings settings, Engine engine, MetadataGroup metadata, NodeEffects effects,
                 long consumerTimeoutMillis) {
        this.settings = settings;
        this.engine = engine;
        this.metadata = metadata;
        this.effects = effects;
        this.consumerTimeoutMillis = consumerTimeoutMillis;
        this.enqueuer = new RemoteChannel(settings.nodeName(), channelIds.incrementAndGet());
    }

    private static ScheduledExecutorService daemon(String name) {
        return Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        });
    }

    /** The Raft group of quorum queue {@code name} in {@code vhost}, as metrics and logs name it. */
    static String groupName(String vhost, String name) {
        return GROUP_PREFIX + vhost + "/" + name;
    }

    /** The hosted queues' groups as this node sees them, sorted by vhost and name; those not running are left out. */
    List<ClusterStatus.QueueGroup> statuses() {
        ClusterNode n = raft.getNow(null);
        List<ClusterStatus.QueueGroup> out = new ArrayList<>();
        if (n == null) {
            return out;
        }
        for (Hosted h : hosted.values()) {
            try {
                out.add(new ClusterStatus.QueueGroup(h.vhost(), h.name(), n.groupStatus(h.group())));
            } catch (IOException | RuntimeException e) {
                // being added or removed right now: not listed
            }
        }
        out.sort(java.util.Comparator.comparing(ClusterStatus.QueueGroup::vhost)
                .thenComparing(ClusterStatus.QueueGroup::name));
        return out;
    }

    static String key(String vhost, String name) {
        return vhost + '\0' + name;
    }

    /**
     * The replicas this node must host when its Raft server starts: every quorum queue its broker recovered (the
     * node saves a quorum queue in its topology before it hosts the group, so every group on disk is among them).
     */
    Map<ReplicaGroup, QuorumQueueReplica> recovered() {
        Map<ReplicaGroup, QuorumQueueReplica> out = new LinkedHashMap<>();
        for (VirtualHost v : engine.broker().virtualHosts()) {
            for (Queue q : v.queues()) {
                if (q.quorumType() && q.durable()) {
                    Hosted h = newHosted(v.name(), q.name(), q.arguments(), new Gate(false));
                    hosted.put(key(v.name(), q.name()), h);
                    declared.add(key(v.name(), q.name()));
                    out.put(h.group(), h.replica());
                }
            }
        }
        return out;
    }

    /** The node is up: the previous run's channels go from every recovered queue, then the watcher starts. */
    void started(ClusterNode started) {
        raft.complete(started);
        for (Hosted h : hosted.values()) {
            if (!h.ready().isOpen()) {
                declareSelfDown(h);
            }
        }
        watcher.scheduleWithFixedDelay(this::watch, WATCH_MILLIS, WATCH_MILLIS, TimeUnit.MILLISECONDS);
    }

    private Hosted newHosted(String vhost, String name, Map<String, Object> arguments, Gate ready) {
        List<ReplicaGroup.Peer> peers = new ArrayList<>();
        for (ClusterSettings.Node n : settings.nodes()) {
            peers.add(new ReplicaGroup.Peer(n.name(), n.address()));
        }
        ReplicaGroup group = new ReplicaGroup(groupName(vhost, name), peers);
        QuorumQueue.Definition definition = new QuorumQueue.Definition(vhost, name, arguments,
                consumerTimeoutMillis);
        String k = key(vhost, name);
        QuorumQueueReplica replica = new QuorumQueueReplica(definition, rewriter,
                (command, outcome) -> applied(k, vhost, name, command, outcome));
        return new Hosted(vhost, name, group, replica, ready, new AtomicLong());
    }

    private void declareSelfDown(Hosted h) {
        submitTo(h, new QuorumCommand.NodeDown(settings.nodeName())).whenComplete((r, error) -> {
            if (error == null) {
                h.ready().open();
            } else if (hosted.get(key(h.vhost(), h.name())) == h) {
                watcher.schedule(() -> declareSelfDown(h), WATCH_MILLIS, TimeUnit.MILLISECONDS);
            }
        });
    }

    // ---- declarations, from the metadata log ----

    /** The cluster committed the queue: this node saves it in its broker's topology, then hosts its replica. */
    void declared(MetadataState.QuorumDecl decl) {
        Map<String, Object> arguments = FieldTable.read(Unpooled.wrappedBuffer(decl.arguments()));
        String k = key(decl.vhost(), decl.name());
        declared.add(k);
        effects.onBroker(decl.vhost(), "declare quorum queue '" + decl.name() + "'",
                ch -> engine.broker().topology().declareQueue(ch, decl.name(), false, true, false, false, arguments),
                () -> worker.execute(() -> host(k, decl.vhost(), decl.name(), arguments)));
    }

    private void host(String k, String vhost, String name, Map<String, Object> arguments) {
        if (!declared.contains(k)) {
            return; // deleted since (a node replaying its log): a replica now would wait for peers that have none
        }
        if (!hosted.containsKey(k)) {
            Hosted h = newHosted(vhost, name, arguments, new Gate(true));
            try {
                raft.join().host(h.group(), h.replica());
                hosted.put(k, h);
                log.info("cluster: hosting a replica of quorum queue '{}' in vhost '{}'", name, vhost);
            } catch (IOException | RuntimeException e) {
                log.error("cluster: could not host a replica of quorum queue '{}' in vhost '{}': {}", name, vhost,
                        e.getMessage());
                fail(k, e);
                return;
            }
        }
        List<CompletableFuture<Void>> waiting = hosting.remove(k);
        if (waiting != null) {
            waiting.forEach(f -> f.complete(null));
        }
    }

    private void fail(String k, Throwable e) {
        List<CompletableFuture<Void>> waiting = hosting.remove(k);
        if (waiting != null) {
            waiting.forEach(f -> f.completeExceptionally(e));
        }
    }

    /** The cluster deleted the queue: its replica goes (with its storage), then the broker's queue, then consumers hear. */
    void deleted(String vhost, String name) {
        String k = key(vhost, name);
        declared.remove(k);
        worker.execute(() -> {
            Hosted h = hosted.remove(k);
            if (h != null) {
                try {
                    raft.join().remove(h.group());
                } catch (IOException | RuntimeException e) {
                    log.warn("cluster: could not remove the replica of quorum queue '{}' in vhost '{}': {}", name,
                            vhost, e.getMessage());
                }
            }
            effects.onBroker(vhost, "delete quorum queue '" + name + "'",
                    ch -> engine.broker().topology().deleteQueue(ch, name, false, false), () -> {
                        for (ChannelListener l : listeners.values()) {
                            l.deleted(name);
                        }
                        List<CompletableFuture<Void>> waiting = hosting.remove(k);
                        if (waiting != null) {
                            waiting.forEach(f -> f.complete(null));
                        }
                    });
        });
    }

    // ---- QuorumQueues ----

    @Override
    public String node() {
        return settings.nodeName();
    }

    @Override
    public long newChannelId() {
        return channelIds.incrementAndGet();
    }

    @Override
    public void listen(long id, ChannelListener listener) {
        listeners.put(id, listener);
    }

    @Override
    public void unlisten(long id) {
        listeners.remove(id);
    }

    @Override
    public CompletableFuture<Void> declare(String vhost, String name, Map<String, Object> arguments) {
        String k = key(vhost, name);
        CompletableFuture<Void> done = new CompletableFuture<>();
        hosting.computeIfAbsent(k, x -> new java.util.concurrent.CopyOnWriteArrayList<>()).add(done);
        if (hosted.containsKey(k)) {
            worker.execute(() -> host(k, vhost, name, arguments)); // declared meanwhile: completes the waiting
        }
        metadata.declareQuorum(vhost, name, arguments).whenComplete((refusal, error) -> {
            if (error != null) {
                hosting.getOrDefault(k, List.of()).remove(done);
                done.completeExceptionally(error);
            }
        });
        return bounded(done, "queue.declare of '" + name + "'");
    }

    /** A declaration or deletion committed, but not carried out here in time, fails rather than hangs. */
    private CompletableFuture<Void> bounded(CompletableFuture<Void> done, String what) {
        long millis = 2 * settings.commitTimeout().toMillis();
        return done.orTimeout(millis, TimeUnit.MILLISECONDS).exceptionallyCompose(error -> {
            Throwable why = error instanceof java.util.concurrent.CompletionException && error.getCause() != null
                    ? error.getCause() : error;
            if (why instanceof java.util.concurrent.TimeoutException) {
                return CompletableFuture.failedFuture(new ReplicatedTopology.NotCommitted(what + " was not carried"
                        + " out on this node within " + millis + " ms; it may still take effect", why));
            }
            return CompletableFuture.failedFuture(why);
        });
    }

    @Override
    public CompletableFuture<Void> delete(String vhost, String name) {
        String k = key(vhost, name);
        CompletableFuture<Void> done = new CompletableFuture<>();
        hosting.computeIfAbsent(k, x -> new java.util.concurrent.CopyOnWriteArrayList<>()).add(done);
        metadata.deleteQuorum(vhost, name).whenComplete((refusal, error) -> {
            if (error != null) {
                hosting.getOrDefault(k, List.of()).remove(done);
                done.completeExceptionally(error);
            }
        });
        return bounded(done, "queue.delete of '" + name + "'");
    }

    @Override
    public CompletableFuture<Result> submit(String vhost, String name, QuorumCommand command) {
        Hosted h = hosted.get(key(vhost, name));
        if (h == null) {
            return notHosted(vhost, name);
        }
        CompletableFuture<Result> result = new CompletableFuture<>();
        h.ready().run(() -> submitTo(h, command).whenComplete((r, error) -> {
            if (error != null) {
                result.completeExceptionally(error);
            } else {
                result.complete(r);
            }
        }));
        return result;
    }

    private static CompletableFuture<Result> notHosted(String vhost, String name) {
        return CompletableFuture.failedFuture(new BrokerException(ErrorCode.NOT_FOUND, "no queue '" + name
                + "' in vhost '" + vhost + "'"));
    }

    private CompletableFuture<Result> submitTo(Hosted h, QuorumCommand command) {
        return raft.join().submitter(h.group()).submit(QuorumCommandCodec.encode(command)).thenApply(bytes -> {
            QuorumCommandCodec.Result r = QuorumCommandCodec.decodeResult(bytes);
            return new Result(r.refusal(), r.count(), r.effects());
        });
    }

    // ---- Broker.ReplicatedQueues: the broker thread, inside a publish ----

    @Override
    public void enqueue(Queue queue, Message message) {
        WriteBarrier barrier = engine.store().currentBarrier();
        if (barrier != null) {
            barrier.writeStarted();
        }
        Hosted h = hosted.get(key(queue.vhost(), queue.name()));
        CompletableFuture<Result> sent;
        if (h == null) {
            sent = notHosted(queue.vhost(), queue.name());
        } else {
            // numbered in submission order (the broker thread's), so the queue can drop a copy of one
            QuorumCommand.Publish publish = new QuorumCommand.Publish(enqueuer, h.publishSeq().incrementAndGet(),
                    message);
            sent = submitTo(h, new QuorumCommand.Enqueue(List.of(publish)));
        }
        sent.whenComplete((r, error) -> {
            boolean confirmed = error == null && r.refusal() == null
                    && r.effects().stream().anyMatch(e -> e instanceof QuorumEffect.Confirm);
            if (error != null) {
                log.debug("cluster: a publish to quorum queue '{}' is not known to be committed: {}", queue.name(),
                        error.getMessage());
            }
            if (barrier != null) {
                engine.loop().execute(() -> barrier.writeFinished(confirmed));
            }
        });
    }

    @Override
    public ReplicaView view(Queue queue) {
        Hosted h = hosted.get(key(queue.vhost(), queue.name()));
        if (h == null) {
            return new ReplicaView(0, 0, 0, null, List.of());
        }
        String leader = null;
        ClusterNode n = raft.getNow(null);
        if (n != null) {
            try {
                leader = n.groupStatus(h.group()).leaderId();
            } catch (IOException | RuntimeException e) {
                leader = null; // no division yet: no leader known
            }
        }
        return new ReplicaView(h.replica().messageCount(), h.replica().unackedCount(), h.replica().consumerCount(),
                leader, h.group().peers().stream().map(ReplicaGroup.Peer::id).toList());
    }

    // ---- what a replica applied: its group's thread ----

    private void applied(String k, String vhost, String name, QuorumCommand command, QuorumQueue.Outcome outcome) {
        String self = node();
        Map<Long, List<QuorumEffect>> mine = new LinkedHashMap<>();
        RemoteChannel named = namedChannel(command);
        if (named != null && named.node().equals(self)) {
            mine.put(named.channel(), new ArrayList<>());
        }
        if (command instanceof QuorumCommand.NodeDown d && d.node().equals(self)) {
            // Another node took this one for dead (a pause, a cut): its channels here lost their consumers there.
            listeners.keySet().forEach(id -> mine.putIfAbsent(id, new ArrayList<>()));
        }
        List<QuorumEffect> leaderOnly = new ArrayList<>();
        for (QuorumEffect e : outcome.effects()) {
            RemoteChannel c = effectChannel(e);
            if (c != null) {
                if (c.node().equals(self) && !(e instanceof QuorumEffect.Deliver d && d.consumerTag() == null)) {
                    mine.computeIfAbsent(c.channel(), x -> new ArrayList<>()).add(e);
                }
            } else if (e instanceof QuorumEffect.DeadLetter || e instanceof QuorumEffect.Quarantine
                    || e instanceof QuorumEffect.QueueExpired) {
                leaderOnly.add(e);
            }
        }
        mine.forEach((id, effects) -> {
            ChannelListener l = listeners.get(id);
            if (l != null) {
                engine.loop().execute(() -> l.applied(name, command, effects));
            }
        });
        if (!leaderOnly.isEmpty() && leads(k)) {
            engine.loop().execute(() -> leaderEffects(vhost, name, leaderOnly));
        }
    }

    private static RemoteChannel namedChannel(QuorumCommand c) {
        if (c instanceof QuorumCommand.Attach a) {
            return a.channel();
        }
        if (c instanceof QuorumCommand.Cancel x) {
            return x.channel();
        }
        if (c instanceof QuorumCommand.Recover r) {
            return r.channel();
        }
        return null;
    }

    private static RemoteChannel effectChannel(QuorumEffect e) {
        if (e instanceof QuorumEffect.Deliver d) {
            return d.channel();
        }
        if (e instanceof QuorumEffect.ConsumerCancelled c) {
            return c.channel();
        }
        if (e instanceof QuorumEffect.Confirm c) {
            return c.publisher();
        }
        if (e instanceof QuorumEffect.Nack n) {
            return n.publisher();
        }
        return null;
    }

    private boolean leads(String k) {
        Hosted h = hosted.get(k);
        ClusterNode n = raft.getNow(null);
        if (h == null || n == null) {
            return false;
        }
        try {
            return n.groupStatus(h.group()).leader();
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /**
     * Dead-letters through this node's exchanges, and quarantines in this node's quarantine queue (at most once: a
     * leader lost before this loses the copy).
     */
    private void leaderEffects(String vhost, String name, List<QuorumEffect> effects) {
        VirtualHost v = engine.broker().virtualHost(vhost);
        Queue source = v == null ? null : v.queue(name);
        for (QuorumEffect e : effects) {
            if (e instanceof QuorumEffect.DeadLetter d && source != null) {
                engine.broker().deadLetter(source, withHeaders(d.message()), d.reason());
            } else if (e instanceof QuorumEffect.Quarantine q && source != null) {
                engine.broker().quarantine(source, withHeaders(q.message()), q.deliveryCount());
            } else if (e instanceof QuorumEffect.QueueExpired) {
                delete(vhost, name);
            }
        }
        engine.afterCommand();
    }

    private static Message withHeaders(Message m) {
        BasicProperties p = BasicProperties.decode(m.properties());
        return new Message(m.exchange(), m.routingKey(), m.properties(), p.headers() == null ? Map.of() : p.headers(),
                m.persistent(),
                m.expirationMillis(), m.body());
    }

    // ---- the watcher: the worker thread, every second ----

    private void watch() {
        try {
            long now = System.nanoTime();
            long downAfter = TimeUnit.MILLISECONDS.toNanos(settings.electionTimeout().toMillis() * DOWN_AFTER_ELECTIONS);
            for (ClusterSettings.Node n : settings.nodes()) {
                if (n.name().equals(node())) {
                    continue;
                }
                if (accepts(n, PROBE_TIMEOUT_MILLIS)) {
                    downSince.remove(n.name());
                    declaredDown.remove(n.name());
                    continue;
                }
                long since = downSince.computeIfAbsent(n.name(), x -> now);
                if (now - since >= downAfter
                        && declaredDown.putIfAbsent(n.name(), ConcurrentHashMap.newKeySet()) == null) {
                    log.info("cluster: node {} does not answer on {}; its consumers leave the quorum queues led here"
                            + " and their unacked messages come back", n.name(), n.address());
                }
            }
            for (Map.Entry<String, Hosted> e : hosted.entrySet()) {
                if (!leads(e.getKey())) {
                    continue;
                }
                Hosted h = e.getValue();
                declaredDown.forEach((down, told) -> {
                    if (told.add(e.getKey())) {
                        submitTo(h, new QuorumCommand.NodeDown(down)).whenComplete((r, error) -> {
                            if (error != null) {
                                told.remove(e.getKey()); // again next round
                            }
                        });
                    }
                });
                submitTo(h, new QuorumCommand.Tick());
            }
        } catch (RuntimeException e) {
            log.warn("cluster: the quorum queue watcher failed: {}", e.getMessage(), e);
        }
    }

    /** Whether {@code n}'s peer port takes a connection within {@code timeoutMillis}. */
    private static boolean accepts(ClusterSettings.Node n, int timeoutMillis) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(n.host(), n.port()), timeoutMillis);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** Whether {@code node}'s peer port answered the last probe (true until the first one has run). */
    boolean answers(String node) {
        return !downSince.containsKey(node);
    }

    void close() {
        raft.cancel(false);
        watcher.shutdownNow();
        worker.shutdownNow();
    }
}
