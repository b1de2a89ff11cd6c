package io.holdfast.server.cluster;

import io.holdfast.cluster.ClusterConfig;
import io.holdfast.cluster.ClusterNode;
import io.holdfast.cluster.CommandSubmitter;
import io.holdfast.cluster.GroupStatus;
import io.holdfast.cluster.ReplicaGroup;
import io.holdfast.cluster.ReplicationException;
import io.holdfast.protocol.FieldTable;
import io.holdfast.server.auth.AccessException;
import io.holdfast.server.auth.AccessReplication;
import io.holdfast.server.config.ClusterSettings;
import io.holdfast.server.config.ServerConfig;
import io.holdfast.server.engine.Engine;
import io.holdfast.server.engine.ReplicatedTopology;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import io.holdfast.cluster.ReplicatedState;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A cluster node's metadata: one Raft group over every node of {@code cluster_formation.classic_config.nodes},
 * hosted on this node's {@link ClusterNode}, whose log carries the changes that must be the same everywhere
 * ({@link MetadataState}). Changes made on this node (users, vhosts, permissions and limits through
 * {@link AccessReplication}, durable exchanges through {@link ReplicatedTopology}) are submitted to the group (the
 * Ratis client finds the leader) and answered once this node's replica has applied them, or refused when the group
 * does not commit them within {@code raft.commit_timeout}: never half made on this node.
 *
 * <p>At start a node proposes its own users and vhosts as the cluster's first ("bootstrap"); the first proposal
 * committed wins, the others are ignored, so every node then holds the same.
 *
 * <p>Threads: any thread may call; effects run on the group's apply thread ({@link NodeEffects}).
 */
public final class MetadataGroup implements AccessReplication, ReplicatedTopology, AutoCloseable {
    public static final String GROUP_NAME = "metadata";
    private static final Logger log = LoggerFactory.getLogger(MetadataGroup.class);
    private static final long BOOTSTRAP_RETRY_MILLIS = 1000;

    private final ClusterSettings settings;
    private final ReplicaGroup group;
    private final NodeEffects effects;
    /** Names this process's commands, so that a restarted node never takes an old command for its own. */
    private final String origin = UUID.randomUUID().toString();
    private final AtomicLong seq = new AtomicLong();
    private final Map<Long, CompletableFuture<String>> waiting = new ConcurrentHashMap<>();
    private final ScheduledExecutorService bootstrap = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "holdfast-cluster-bootstrap");
        t.setDaemon(true);
        return t;
    });
    private ClusterNode node;
    private CommandSubmitter submitter;
    private QuorumGroups quorum;
    /** Whether the current run of refused writes has been logged: one line per outage, not per write. */
    private volatile boolean refusalLogged;

    private MetadataGroup(ClusterSettings settings, Engine engine, BiConsumer<String, Runnable> closeVirtualHost) {
        this.settings = settings;
        List<ReplicaGroup.Peer> peers = new ArrayList<>();
        for (ClusterSettings.Node n : settings.nodes()) {
            peers.add(new ReplicaGroup.Peer(n.name(), n.address()));
        }
        this.group = new ReplicaGroup(GROUP_NAME, peers);
        this.effects = new NodeEffects(engine, closeVirtualHost, this::applied);
    }

    /**
     * Starts this node's Raft server with the metadata group and routes the engine's replicated changes through
     * it. Returns once the server listens; the group elects its leader once a majority runs.
     *
     * @throws IOException if the peer port is taken, or the Raft storage cannot be used; the message says which
     */
    public static MetadataGroup start(ServerConfig config, Engine engine, BiConsumer<String, Runnable> closeVirtualHost)
            throws IOException {
        ClusterSettings settings = config.cluster();
        ClusterSettings.Node self = settings.self();
        checkPortFree(self);
        MetadataGroup metadata = new MetadataGroup(settings, engine, closeVirtualHost);
        ClusterConfig cc = ClusterConfig.of(settings.nodeName(), self.host(), self.port(), config.dataDir())
                .withElectionTimeout(settings.electionTimeout())
                .withCommitTimeout(settings.commitTimeout());
        QuorumGroups quorum = new QuorumGroups(settings, engine, metadata, metadata.effects,
                config.consumerTimeoutMillis());
        metadata.quorum = quorum;
        metadata.effects.quorumQueues(quorum);
        Map<ReplicaGroup, ReplicatedState> hosted = new LinkedHashMap<>(quorum.recovered());
        hosted.put(metadata.group, new MetadataState(metadata.effects));
        metadata.node = ClusterNode.start(cc, hosted);
        metadata.submitter = metadata.node.submitter(metadata.group);
        engine.access().replicateThrough(metadata);
        engine.replicateTopologyThrough(metadata);
        engine.broker().replicatedQueues(quorum);
        engine.replicateQueuesThrough(quorum);
        quorum.started(metadata.node);
        metadata.bootstrap.execute(() -> metadata.proposeBootstrap(engine.access().encoded()));
        log.info("cluster: node {} of {} ({}); users, vhosts, permissions, durable exchanges, quorum queues and their "
                + "bindings are replicated; classic queues are node-local",
                settings.nodeName(), settings.nodes(), GROUP_NAME);
        return metadata;
    }

    /** A clear refusal before Ratis tries (it would log a stack trace of the shaded gRPC's bind failure). */
    private static void checkPortFree(ClusterSettings.Node self) throws IOException {
        try (ServerSocket probe = new ServerSocket()) {
            probe.setReuseAddress(true);
            probe.bind(new InetSocketAddress(self.host(), self.port()));
        } catch (IOException e) {
            throw new IOException("cannot listen for cluster peers on " + self.address() + " (this node's entry "
                    + self + " in cluster_formation.classic_config.nodes): " + e.getMessage()
                    + "; another process holds the port, or the address is not this machine's", e);
        }
    }

    /** Proposes this node's users and vhosts as the cluster's first, until some node's proposal is committed. */
    private void proposeBootstrap(byte[] access) {
        if (effects.formed()) {
            bootstrap.shutdown();
            return;
        }
        submit(seqNo -> MetadataState.bootstrapAccess(origin, seqNo, access), "the first users and vhosts")
                .whenComplete((refusal, error) -> {
                    if (error == null) {
                        log.info("cluster: the metadata group is formed; users and vhosts are the same on every node");
                        bootstrap.shutdown();
                    } else if (!bootstrap.isShutdown()) {
                        bootstrap.schedule(() -> proposeBootstrap(access), BOOTSTRAP_RETRY_MILLIS,
                                TimeUnit.MILLISECONDS);
                    }
                });
    }

    // ---- AccessReplication ----

    @Override
    public void replicate(byte[] prior, byte[] next) {
        String refusal;
        try {
            refusal = submit(seqNo -> MetadataState.setAccess(origin, seqNo, prior, next), "the change").get();
        } catch (ExecutionException e) {
            throw new AccessException(AccessException.Kind.UNAVAILABLE, e.getCause().getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AccessException(AccessException.Kind.UNAVAILABLE, "interrupted waiting for the cluster");
        }
        if (refusal != null) {
            throw new AccessException(refusal.equals(MetadataState.NOT_FORMED) ? AccessException.Kind.UNAVAILABLE
                    : AccessException.Kind.CONFLICT, refusal);
        }
    }

    // ---- ReplicatedTopology ----

    @Override
    public CompletableFuture<Void> exchangeDeclared(String vhost, String name, String type, boolean autoDelete,
                                                    boolean internal, Map<String, Object> arguments) {
        MetadataState.ExchangeDecl x = new MetadataState.ExchangeDecl(vhost, name, type, autoDelete, internal,
                table(arguments));
        return submit(seqNo -> MetadataState.declareExchange(origin, seqNo, x), "exchange.declare of '" + name + "'")
                .thenApply(refusal -> null);
    }

    @Override
    public CompletableFuture<Void> exchangeDeleted(String vhost, String name) {
        return submit(seqNo -> MetadataState.deleteExchange(origin, seqNo, vhost, name),
                "exchange.delete of '" + name + "'").thenApply(refusal -> null);
    }

    @Override
    public CompletableFuture<Void> bound(String vhost, String source, String destination, boolean toQueue, String key,
                                         Map<String, Object> arguments) {
        MetadataState.BindingDecl b = new MetadataState.BindingDecl(vhost, source, destination, toQueue, key,
                table(arguments));
        return submit(seqNo -> MetadataState.bind(origin, seqNo, b), "the binding of '" + destination + "' to '"
                + source + "'").thenApply(refusal -> null);
    }

    @Override
    public CompletableFuture<Void> unbound(String vhost, String source, String destination, boolean toQueue,
                                           String key, Map<String, Object> arguments) {
        MetadataState.BindingDecl b = new MetadataState.BindingDecl(vhost, source, destination, toQueue, key,
                table(arguments));
        return submit(seqNo -> MetadataState.unbind(origin, seqNo, b), "the unbinding of '" + destination
                + "' from '" + source + "'").thenApply(refusal -> null);
    }

    /** Arguments as a field table's bytes, the form the metadata log keeps them in. */
    private static byte[] table(Map<String, Object> arguments) {
        ByteBuf buf = Unpooled.buffer();
        try {
            FieldTable.write(buf, arguments == null ? Map.of() : arguments);
            return ByteBufUtil.getBytes(buf);
        } finally {
            buf.release();
        }
    }

    /** Declares a quorum queue cluster-wide (its arguments passed the rules already). */
    CompletableFuture<String> declareQuorum(String vhost, String name, Map<String, Object> arguments) {
        MetadataState.QuorumDecl q = new MetadataState.QuorumDecl(vhost, name, table(arguments));
        return submit(seqNo -> MetadataState.declareQuorum(origin, seqNo, q), "queue.declare of '" + name + "'");
    }

    CompletableFuture<String> deleteQuorum(String vhost, String name) {
        return submit(seqNo -> MetadataState.deleteQuorum(origin, seqNo, vhost, name),
                "queue.delete of '" + name + "'");
    }

    private interface Command {
        byte[] encode(long seq);
    }

    /**
     * Submits a command; the future completes when this node's replica has applied it (with the state's refusal,
     * or null), or fails with {@link NotCommitted} once it is not known to be committed in time.
     */
    private CompletableFuture<String> submit(Command command, String what) {
        long n = seq.incrementAndGet();
        CompletableFuture<String> applied = new CompletableFuture<>();
        waiting.put(n, applied);
        long timeoutMillis = settings.commitTimeout().toMillis();
        submitter.submit(command.encode(n)).whenComplete((result, error) -> {
            if (error != null) {
                applied.completeExceptionally(error);
            }
        });
        return applied.orTimeout(timeoutMillis, TimeUnit.MILLISECONDS).handle((refusal, error) -> {
            waiting.remove(n);
            if (error == null) {
                refusalLogged = false;
                return refusal;
            }
            Throwable why = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
            NotCommitted refused = new NotCommitted("the cluster did not commit " + what + " within " + timeoutMillis
                    + " ms (raft.commit_timeout): " + majority() + (why instanceof TimeoutException
                    || why instanceof ReplicationException ? "" : " (" + why.getMessage() + ")")
                    + "; it may still take effect later", why);
            if (!refusalLogged) {
                refusalLogged = true;
                log.warn("cluster: writes are refused: {} (logged once until a write succeeds)", refused.getMessage());
            }
            throw refused;
        });
    }

    private String majority() {
        int n = settings.nodes().size();
        return "a majority (" + (n / 2 + 1) + " of " + n + " nodes) must be up";
    }

    private void applied(String from, long seqNo, String refusal) {
        if (from.equals(origin)) {
            CompletableFuture<String> f = waiting.get(seqNo);
            if (f != null) {
                f.complete(refusal);
            }
        }
    }

    // ---- visibility ----

    /**
     * The cluster as this node sees it: a member is running if it is this node or its peer port answered the last
     * probe (see {@link QuorumGroups}: every second), so a look never waits on a node that is down.
     */
    public ClusterStatus status() throws IOException {
        GroupStatus g = node.groupStatus(group);
        List<ClusterStatus.Member> members = new ArrayList<>();
        for (ClusterSettings.Node n : settings.nodes()) {
            members.add(new ClusterStatus.Member(n.name(), n.address(),
                    n.name().equals(settings.nodeName()) || quorum.answers(n.name())));
        }
        return new ClusterStatus(settings.nodeName(), members, GROUP_NAME, g.leaderId(), g.term(), g.commitIndex(),
                g.appliedIndex(), new TreeMap<>(g.followerLag()), quorum.statuses());
    }

    /** Every group's Raft state without probing the peers, by group name (the metadata group first): for scrapes. */
    public Map<String, GroupStatus> groupStatuses() throws IOException {
        Map<String, GroupStatus> out = new LinkedHashMap<>();
        out.put(GROUP_NAME, node.groupStatus(group));
        for (ClusterStatus.QueueGroup q : quorum.statuses()) {
            out.put(QuorumGroups.groupName(q.vhost(), q.name()), q.raft());
        }
        return out;
    }

    /** Stops proposing, fails waiting changes and closes the Raft server (about a second). */
    @Override
    public void close() {
        bootstrap.shutdownNow();
        if (quorum != null) {
            quorum.close();
        }
        if (node != null) {
            node.close();
        }
    }
}
