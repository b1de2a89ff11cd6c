package io.holdfast.server.engine;

import io.holdfast.core.Broker;
import io.holdfast.core.Queue;
import io.holdfast.core.QueueEntry;
import io.holdfast.core.VirtualHost;
import io.holdfast.server.auth.AccessControl;
import io.holdfast.server.auth.AuditLog;
import io.holdfast.server.auth.Authenticator;
import io.holdfast.server.auth.LoginThrottle;
import io.holdfast.server.auth.Limits;
import io.holdfast.server.config.ServerConfig;
import io.holdfast.server.persistence.Compactor;
import io.holdfast.server.persistence.JournalRecords;
import io.holdfast.server.persistence.JournalReplay;
import io.holdfast.server.persistence.JournalStore;
import io.holdfast.server.persistence.TopologyStore;
import io.holdfast.store.Journal;
import io.holdfast.store.JournalConfig;
import io.holdfast.store.RecoveryReport;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Carries out the core's effects and owns the threads around it: the broker loop (the only thread
 * that touches {@link Broker}), the journal, and the durable topology. Recovers both at start.
 */
public final class Engine implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Engine.class);
    private static final String CLEAN_SHUTDOWN_MARKER = "clean-shutdown";
    /** Index page files (see {@link io.holdfast.core.IndexPages}) roll over at this size. */
    private static final long INDEX_PAGE_FILE_BYTES = 64L << 20;
    private static final long COMPACTION_CHECK_MILLIS = 2000;
    /**
     * How often the broker's periodic housekeeping runs: unused queues expire ({@code x-expires}), consumer
     * timeouts, deduplication windows. Message TTL, redelivery backoff and delayed messages do not wait for it:
     * the loop runs {@link Broker#expireDue} at the time {@link Broker#nextExpiryMillis} names.
     */
    private static final long HOUSEKEEPING_TICK_MILLIS = 100;
    /** How long {@link #query} waits for the broker thread. */
    public static final long QUERY_TIMEOUT_SECONDS = 5;

    private final ServerConfig config;
    private final BrokerLoop loop = new BrokerLoop();
    private final Broker broker;
    private final Journal journal;
    private final JournalStore store;
    private final TopologyStore topologyStore;
    private final AuditLog audit;
    private final AccessControl access;
    private final Authenticator authenticator;
    private final Limits limits;
    private final MessageCounters counters = new MessageCounters();
    private final AtomicLong connectionIds = new AtomicLong();
    private final RecoveryReport recoveryReport;
    /** Non-null on a cluster node: durable exchange changes go through the cluster first. */
    private volatile ReplicatedTopology replicatedTopology;
    private volatile QuorumQueues quorumQueues;

    private Engine(ServerConfig config, Journal journal, JournalReplay replay, boolean unclean, AuditLog audit,
                   AccessControl access) throws IOException {
        this.config = config;
        this.audit = audit;
        this.access = access;
        this.journal = journal;
        this.recoveryReport = journal.recoveryReport();
        this.store = config.queueIndexPaging()
                ? JournalStore.paging(journal, loop, config.residentMessageBytesMax(), config.dataDir(),
                        INDEX_PAGE_FILE_BYTES)
                : new JournalStore(journal, loop, config.residentMessageBytesMax());
        SecureRandom random = new SecureRandom();
        this.broker = new Broker(store, () -> {
            byte[] b = new byte[16];
            random.nextBytes(b);
            return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
        }, new BasicPropertiesRewriter());
        store.onReadable(q -> {
            broker.readable(q);
            afterCommand(); // as after every command
        });
        broker.consumerTimeout(config.consumerTimeoutMillis(), config.consumerTimeoutAction());
        broker.quarantineListener((source, entry, quarantine) -> {
            log.warn("message on queue '{}' in vhost '{}' exceeded x-delivery-limit {} after {} deliveries: moved to {}",
                    source.name(), source.vhost(), source.deliveryLimit(), entry.deliveryCount(), quarantine.name());
            afterCommand(); // a new quarantine queue's declaration is saved before its first message record
        });
        // Debug only: a missing dead-letter exchange drops every message it should take, and RabbitMQ is silent.
        broker.deadLetterDropListener((source, why) -> log.debug(
                "message dead-lettered from queue '{}' in vhost '{}' to exchange '{}' dropped: {}", source.name(),
                source.vhost(), source.deadLetterExchange(), why));
        this.topologyStore = new TopologyStore(config.dataDir());
        this.authenticator = new Authenticator(config.guestLoopbackOnly(), config.security().authMechanisms(),
                access, audit, new LoginThrottle(() -> System.nanoTime() / 1_000_000));
        this.limits = new Limits(access);
        for (AccessControl.Vhost v : access.vhosts()) {
            if (broker.virtualHost(v.name()) == null) {
                broker.addVirtualHost(v.name());
            }
        }
        topologyStore.load(broker);
        restoreMessages(replay, unclean);
        restoreDelayedMessages(replay);
        restoreDeduplication(replay);
        log.info("message bodies beyond {} MiB stay on disk and are read back when delivered",
                config.residentMessageBytesMax() >> 20);
    }

    /** Opens the data directory, recovers topology and messages, and starts the broker thread. */
    public static Engine start(ServerConfig config) throws IOException {
        Path dir = config.dataDir();
        Files.createDirectories(dir);
        Path marker = dir.resolve(CLEAN_SHUTDOWN_MARKER);
        boolean unclean = !Files.exists(marker) && Files.exists(dir.resolve("journal"));
        Files.deleteIfExists(marker);
        JournalConfig jc = new JournalConfig(dir.resolve("journal"), config.segmentBytesMax(), config.fsync(),
                config.fsyncIntervalMillis());
        AuditLog audit = AuditLog.open(dir, System::currentTimeMillis);
        AccessControl access;
        try {
            access = AccessControl.open(dir, config.defaultUser(), config.defaultPass(), audit);
        } catch (IOException | RuntimeException e) {
            audit.close();
            throw e;
        }
        JournalReplay replay = new JournalReplay(unclean);
        Journal journal;
        Engine engine;
        try {
            journal = Journal.open(jc, replay);
            engine = new Engine(config, journal, replay, unclean, audit, access);
        } catch (IOException | RuntimeException e) {
            audit.close();
            throw e;
        }
        Compactor compactor = new Compactor(engine.broker, engine.journal, engine.store);
        engine.loop.every(COMPACTION_CHECK_MILLIS, compactor::maybeCompact);
        engine.loop.every(HOUSEKEEPING_TICK_MILLIS, () -> {
            engine.broker.tick(System.currentTimeMillis());
            engine.afterCommand(); // a durable queue deleted by x-expires
        });
        engine.loop.at(engine.broker::nextExpiryMillis, () -> {
            engine.broker.expireDue(System.currentTimeMillis());
            engine.afterCommand(); // as after every command
        });
        engine.loop.start();
        return engine;
    }

    private void restoreMessages(JournalReplay replay, boolean unclean) {
        long restored = 0;
        for (VirtualHost v : broker.virtualHosts()) {
            for (Queue q : v.queues()) {
                for (QueueEntry e : replay.take(v.name(), q.name())) {
                    broker.topology().restoreEntry(q, e, replay.heldUntil(e.seq()));
                    journal.retain(e.storeRef);
                    restored++;
                }
            }
        }
        // Messages of queues that no longer exist are not retained: their segments can go.
        long maxSeq = replay.maxSeq();
        broker.advanceSequence(maxSeq);
        RecoveryReport r = recoveryReport;
        log.info("recovered {} messages from {} journal segments ({} shutdown){}", restored, r.segmentsScanned(),
                unclean ? "after an unclean" : "after a clean",
                r.degraded() ? "; DEGRADED: " + r.corruptRecordsSkipped() + " corrupt records skipped: " + r.damage() : "");
    }

    /** Puts back what durable delayed exchanges held (see {@link io.holdfast.core.DelayedMessages}). */
    private void restoreDelayedMessages(JournalReplay replay) {
        long restored = 0;
        for (VirtualHost v : broker.virtualHosts()) {
            for (io.holdfast.core.Exchange x : v.exchanges()) {
                String holding = broker.delayedMessages().holdingName(v.name(), x.name());
                if (holding == null) {
                    continue;
                }
                for (QueueEntry e : replay.take(v.name(), holding)) {
                    broker.delayedMessages().restore(v.name(), x.name(), e);
                    journal.retain(e.storeRef);
                    restored++;
                }
            }
        }
        if (restored > 0) {
            log.info("recovered {} delayed messages; those already due are routed at once", restored);
        }
    }

    /** Puts back the {@code x-message-deduplication} windows; records of ids past their window are not kept. */
    private void restoreDeduplication(JournalReplay replay) {
        long restored = 0;
        for (VirtualHost v : broker.virtualHosts()) {
            for (Queue q : v.queues()) {
                for (var id : broker.deduplication().restore(q, replay.deduplication.take(v.name(), q.name()))) {
                    journal.retain(id.storeRef);
                    restored++;
                }
            }
        }
        if (restored > 0) {
            log.info("recovered {} message-ids of deduplication windows", restored);
        }
    }

    public ServerConfig config() { return config; }

    public RecoveryReport recoveryReport() { return recoveryReport; }

    public Broker broker() { return broker; }

    public BrokerLoop loop() { return loop; }

    public JournalStore store() { return store; }

    /** Bytes of journal segment files on disk, and how many there are (for tests and metrics). */
    public long journalDiskBytes() { return journal.diskBytes(); }

    public int journalSegments() { return journal.segmentCount(); }

    /** Stored messages that did not read back intact since start (dropped, never delivered); any thread. */
    public long messageReadFailures() { return store.readFailures(); }

    public Authenticator authenticator() { return authenticator; }

    /** Users, vhosts and permissions; any thread. */
    public AccessControl access() { return access; }

    /** Broker-wide message counts and the confirm latency, for metrics; any thread. */
    public MessageCounters counters() { return counters; }

    /** Connections and channels counted against the vhost and user limits; any thread. */
    public Limits limits() { return limits; }

    /** The audit log of changes to who may do what, and of failed logins; any thread. */
    public AuditLog audit() { return audit; }

    public long nextConnectionId() { return connectionIds.incrementAndGet(); }

    /** The cluster's topology log on a cluster node, or null on a single node. Any thread. */
    public ReplicatedTopology replicatedTopology() { return replicatedTopology; }

    /** Set once by the server, before clients connect, when this node is one of a cluster. */
    public void replicateTopologyThrough(ReplicatedTopology r) { replicatedTopology = r; }

    /** The cluster's quorum queues, or null on a single node (where a quorum queue is a classic durable one). */
    public QuorumQueues quorumQueues() { return quorumQueues; }

    /** Set once by a cluster node, before clients connect. */
    public void replicateQueuesThrough(QuorumQueues q) { quorumQueues = q; }

    /** Called on the broker thread after each command: durable topology changes are saved first. */
    public void afterCommand() {
        if (broker.takeDurableTopologyChange()) {
            topologyStore.save(broker);
        }
    }

    /**
     * Clean shutdown, after the broker thread stopped (so its state is still): tells the journal which
     * stored messages were delivered before, so they come back flagged redelivered (contract rule 4).
     * Deliveries still unacked were returned to their queues when their connections closed.
     */
    private void recordDeliveries() {
        for (VirtualHost v : broker.virtualHosts()) {
            for (Queue q : v.queues()) {
                if (!q.durable()) {
                    continue;
                }
                q.forEachReady(e -> {
                    if (e.persistent() && (e.redelivered() || e.deliveryCount() > 0)) {
                        journal.append(JournalRecords.delivered(q, e), false, (position, error) -> { });
                    }
                });
            }
        }
    }

    /**
     * Runs a query on the broker thread and waits for its answer (for tests, tools and the management
     * listener, not the hot path).
     *
     * @throws java.util.concurrent.CompletionException wrapping what the query threw, or a
     *     {@link java.util.concurrent.TimeoutException} if the broker thread (stopped or stuck) did not
     *     answer within {@link #QUERY_TIMEOUT_SECONDS}
     */
    public <T> T query(java.util.function.Function<Broker, T> q) {
        CompletableFuture<T> f = new CompletableFuture<>();
        loop.execute(() -> {
            try {
                f.complete(q.apply(broker));
            } catch (RuntimeException | AssertionError e) {
                f.completeExceptionally(e);
            }
        });
        return f.orTimeout(QUERY_TIMEOUT_SECONDS, java.util.concurrent.TimeUnit.SECONDS).join();
    }

    /** Stops the broker thread, closes the journal (fsync) and marks the shutdown clean. */
    @Override
    public void close() throws IOException {
        audit.close();
        store.close();
        if (!loop.stop()) {
            // The broker thread still owns the queues: reading them here would race with it. Without
            // the marker the next start treats this as a crash and flags every message redelivered.
            journal.close(); // the index pages stay for the next start to delete
            return;
        }
        recordDeliveries();
        journal.close();
        store.closeIndexPages();
        Files.writeString(config.dataDir().resolve(CLEAN_SHUTDOWN_MARKER), "");
    }
}
