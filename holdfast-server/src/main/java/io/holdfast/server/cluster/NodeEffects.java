package io.holdfast.server.cluster;

import io.holdfast.core.Broker;
import io.holdfast.core.BrokerException;
import io.holdfast.core.ChannelOutput;
import io.holdfast.core.ChannelState;
import io.holdfast.core.Message;
import io.holdfast.core.QueueEntry;
import io.holdfast.protocol.FieldTable;
import io.holdfast.server.auth.AccessControl;
import io.holdfast.server.engine.Engine;
import io.netty.buffer.Unpooled;
import java.io.IOException;
import java.util.HashSet;
import java.util.Set;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Carries out on this node what the metadata log committed: installs the access state (and adds or removes the
 * broker's vhosts to match it), and declares or deletes durable exchanges on the broker thread through a channel of
 * its own, as the management API does. Called on the metadata group's apply thread; it hands broker work to the
 * broker loop and never waits for it, so the broker thread always has a task queued before the submitting node's
 * answer is (which it queues after this returns).
 */
final class NodeEffects implements MetadataState.Effects, ChannelOutput {
    private static final Logger log = LoggerFactory.getLogger(NodeEffects.class);
    private static final int CHANNEL = 1;

    /** Where {@link #applied} goes: the group, which completes the waiting change. */
    interface AppliedListener {
        void applied(String origin, long seq, String refusal);
    }

    private final Engine engine;
    private final BiConsumer<String, Runnable> closeVirtualHost;
    private final AppliedListener listener;
    private final long connectionId;
    private volatile boolean formed;
    private QuorumGroups quorum;

    NodeEffects(Engine engine, BiConsumer<String, Runnable> closeVirtualHost, AppliedListener listener) {
        this.engine = engine;
        this.closeVirtualHost = closeVirtualHost;
        this.listener = listener;
        this.connectionId = engine.nextConnectionId();
    }

    /** Whether the cluster's access state has been applied here (some node's bootstrap was committed). */
    boolean formed() {
        return formed;
    }

    @Override
    public void accessChanged(byte[] access) {
        AccessControl ac = engine.access();
        Set<String> before = vhostNames(ac);
        try {
            ac.install(access);
        } catch (IOException e) {
            // The log holds the change; this node's copy is behind until the next change or restart replays it.
            log.error("cluster: could not install the committed users and vhosts on this node: {}", e.getMessage());
            return;
        }
        formed = true;
        Set<String> after = vhostNames(ac);
        for (String v : after) {
            if (!before.contains(v)) {
                engine.loop().execute(() -> engine.broker().addVirtualHost(v));
            }
        }
        for (String v : before) {
            if (!after.contains(v)) {
                closeVirtualHost.accept(v, () -> {
                    engine.broker().deleteVirtualHost(v);
                    engine.afterCommand();
                });
            }
        }
    }

    private static Set<String> vhostNames(AccessControl ac) {
        Set<String> names = new HashSet<>();
        ac.vhosts().forEach(v -> names.add(v.name()));
        return names;
    }

    @Override
    public void exchangeDeclared(MetadataState.ExchangeDecl x) {
        onBroker(x.vhost(), "declare exchange '" + x.name() + "'", ch -> {
            var arguments = FieldTable.read(Unpooled.wrappedBuffer(x.arguments()));
            engine.broker().topology().declareExchange(ch, x.name(), x.type(), false, true, x.autoDelete(),
                    x.internal(), arguments);
        });
    }

    @Override
    public void exchangeDeleted(String vhost, String name) {
        onBroker(vhost, "delete exchange '" + name + "'", ch -> engine.broker().topology().deleteExchange(ch, name,
                false));
    }

    @Override
    public void quorumQueueDeclared(MetadataState.QuorumDecl q) {
        quorum.declared(q);
    }

    @Override
    public void quorumQueueDeleted(String vhost, String name) {
        quorum.deleted(vhost, name);
    }

    @Override
    public void bound(MetadataState.BindingDecl b) {
        binding(b, true);
    }

    @Override
    public void unbound(MetadataState.BindingDecl b) {
        binding(b, false);
    }

    private void binding(MetadataState.BindingDecl b, boolean bind) {
        onBroker(b.vhost(), (bind ? "bind '" : "unbind '") + b.destination() + "' and exchange '" + b.source() + "'",
                ch -> {
                    var arguments = FieldTable.read(Unpooled.wrappedBuffer(b.arguments()));
                    var t = engine.broker().topology();
                    if (b.toQueue() && bind) {
                        t.bindQueue(ch, b.destination(), b.source(), b.key(), arguments);
                    } else if (b.toQueue()) {
                        t.unbindQueue(ch, b.destination(), b.source(), b.key(), arguments);
                    } else if (bind) {
                        t.bindExchange(ch, b.destination(), b.source(), b.key(), arguments);
                    } else {
                        t.unbindExchange(ch, b.destination(), b.source(), b.key(), arguments);
                    }
                });
    }

    /** Set once, before the metadata group starts applying. */
    void quorumQueues(QuorumGroups q) {
        this.quorum = q;
    }

    @Override
    public void applied(String origin, long seq, String refusal) {
        listener.applied(origin, seq, refusal);
    }

    private void onBroker(String vhost, String what, Consumer<ChannelState> change) {
        onBroker(vhost, what, change, () -> { });
    }

    /**
     * Runs {@code change} on the broker thread on a fresh channel in {@code vhost}, saves the topology, then runs
     * {@code after} (on the broker thread too).
     */
    void onBroker(String vhost, String what, Consumer<ChannelState> change, Runnable after) {
        engine.loop().execute(() -> {
            Broker b = engine.broker();
            if (b.virtualHost(vhost) == null) {
                b.addVirtualHost(vhost); // its access entry comes in the same log, earlier; the broker may lag it
            }
            ChannelState ch = b.openChannel(connectionId, CHANNEL, vhost, this);
            try {
                change.accept(ch);
            } catch (BrokerException e) {
                // Every node applies the same log; only a node-local object (a transient exchange) can differ.
                log.warn("cluster: could not {} in vhost '{}' as the cluster did: {}", what, vhost, e.getMessage());
            } finally {
                b.closeChannel(ch);
                engine.afterCommand();
            }
            after.run();
        });
    }

    // ---- ChannelOutput: this channel never consumes, so the core has nothing to send it ----

    @Override
    public void deliver(String consumerTag, long deliveryTag, boolean redelivered, QueueEntry entry, Message message) {
        throw new IllegalStateException("the cluster's channel does not consume");
    }

    @Override
    public void deliverReply(String consumerTag, long deliveryTag, Message reply) {
        throw new IllegalStateException("the cluster's channel does not consume");
    }

    @Override
    public void consumerCancelled(String consumerTag) {
        throw new IllegalStateException("the cluster's channel does not consume");
    }

    @Override
    public void timedOut(long timeoutMillis) {
        throw new IllegalStateException("the cluster's channel does not consume");
    }

    @Override
    public boolean writable() {
        return true;
    }
}
