package io.holdfast.server.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The metadata state every node applies: first bootstrap wins, stale changes are refused, snapshots restore it. */
class MetadataStateTest {
    /** What the state asked this node to do, in order. */
    private static final class Recorded implements MetadataState.Effects {
        final List<String> effects = new ArrayList<>();
        final List<String> refusals = new ArrayList<>();

        @Override
        public void accessChanged(byte[] access) {
            effects.add("access " + new String(access, StandardCharsets.UTF_8));
        }

        @Override
        public void exchangeDeclared(MetadataState.ExchangeDecl x) {
            effects.add("declare " + x.vhost() + "/" + x.name() + " " + x.type());
        }

        @Override
        public void exchangeDeleted(String vhost, String name) {
            effects.add("delete " + vhost + "/" + name);
        }

        @Override
        public void quorumQueueDeclared(MetadataState.QuorumDecl q) {
            effects.add("declare quorum " + q.vhost() + "/" + q.name());
        }

        @Override
        public void quorumQueueDeleted(String vhost, String name) {
            effects.add("delete quorum " + vhost + "/" + name);
        }

        @Override
        public void bound(MetadataState.BindingDecl b) {
            effects.add("bind " + b.source() + "->" + b.destination() + " " + b.key());
        }

        @Override
        public void unbound(MetadataState.BindingDecl b) {
            effects.add("unbind " + b.source() + "->" + b.destination() + " " + b.key());
        }

        @Override
        public void applied(String origin, long seq, String refusal) {
            refusals.add(refusal);
        }
    }

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static MetadataState.ExchangeDecl exchange(String name) {
        return new MetadataState.ExchangeDecl("/", name, "topic", false, false, new byte[] {0, 0, 0, 0});
    }

    @Test
    void theFirstBootstrapCommittedWinsAndLaterOnesAreIgnored() {
        Recorded r = new Recorded();
        MetadataState s = new MetadataState(r);
        s.apply(MetadataState.bootstrapAccess("a", 1, b("users of a")), 0);
        s.apply(MetadataState.bootstrapAccess("b", 1, b("users of b")), 0);
        assertThat(r.effects).containsExactly("access users of a");
        assertThat(r.refusals).containsOnlyNulls();
    }

    @Test
    void aChangeMadeFromAStaleStateIsRefusedAndChangesNothing() {
        Recorded r = new Recorded();
        MetadataState s = new MetadataState(r);
        s.apply(MetadataState.setAccess("a", 1, b("v0"), b("v1")), 0);
        s.apply(MetadataState.bootstrapAccess("a", 2, b("v0")), 0);
        s.apply(MetadataState.setAccess("a", 3, b("v0"), b("v1")), 0);
        s.apply(MetadataState.setAccess("b", 1, b("v0"), b("v2")), 0);
        assertThat(r.refusals).containsExactly(MetadataState.NOT_FORMED, null, null, MetadataState.CONFLICT);
        assertThat(r.effects).containsExactly("access v0", "access v1");
    }

    @Test
    void aSnapshotRestoresTheAccessStateAndTheExchangesAndDropsTheOnesItLacks() throws Exception {
        MetadataState leader = new MetadataState(new Recorded());
        leader.apply(MetadataState.bootstrapAccess("a", 1, b("users")), 0);
        leader.apply(MetadataState.declareExchange("a", 2, exchange("kept")), 0);
        leader.apply(MetadataState.declareExchange("a", 3, exchange("gone")), 0);
        leader.apply(MetadataState.deleteExchange("a", 4, "/", "gone"), 0);
        ByteArrayOutputStream snapshot = new ByteArrayOutputStream();
        leader.writeSnapshot(snapshot);

        Recorded r = new Recorded();
        MetadataState behind = new MetadataState(r);
        behind.apply(MetadataState.declareExchange("a", 3, exchange("gone")), 0);
        r.effects.clear();
        behind.readSnapshot(new ByteArrayInputStream(snapshot.toByteArray()));
        assertThat(r.effects).containsExactly("access users", "delete //gone", "declare //kept topic");

        ByteArrayOutputStream again = new ByteArrayOutputStream();
        behind.writeSnapshot(again);
        assertThat(again.toByteArray()).as("the same state gives the same snapshot").isEqualTo(snapshot.toByteArray());
    }

    @Test
    void quorumQueuesAreDeclaredOnceDeletedAndCarriedInTheSnapshot() throws Exception {
        Recorded r = new Recorded();
        MetadataState leader = new MetadataState(r);
        MetadataState.QuorumDecl orders = new MetadataState.QuorumDecl("/", "orders", new byte[] {0, 0, 0, 0});
        leader.apply(MetadataState.declareQuorum("a", 1, orders), 0);
        leader.apply(MetadataState.declareQuorum("b", 1, orders), 0);
        leader.apply(MetadataState.declareQuorum("a", 2, new MetadataState.QuorumDecl("/", "gone", new byte[4])), 0);
        leader.apply(MetadataState.deleteQuorum("a", 3, "/", "gone"), 0);
        assertThat(r.effects).containsExactly("declare quorum //orders", "declare quorum //gone",
                "delete quorum //gone");
        ByteArrayOutputStream snapshot = new ByteArrayOutputStream();
        leader.writeSnapshot(snapshot);

        Recorded behind = new Recorded();
        MetadataState replica = new MetadataState(behind);
        replica.apply(MetadataState.declareQuorum("a", 2, new MetadataState.QuorumDecl("/", "gone", new byte[4])), 0);
        behind.effects.clear();
        replica.readSnapshot(new ByteArrayInputStream(snapshot.toByteArray()));
        assertThat(behind.effects).containsExactly("delete quorum //gone", "declare quorum //orders");
    }

    @Test
    void bindingsAreMadeOnceAndGoWithTheirQueueOrExchangeAndInTheSnapshot() throws Exception {
        Recorded r = new Recorded();
        MetadataState s = new MetadataState(r);
        s.apply(MetadataState.declareQuorum("a", 1, new MetadataState.QuorumDecl("/", "q", new byte[4])), 0);
        s.apply(MetadataState.declareExchange("a", 2, exchange("x")), 0);
        MetadataState.BindingDecl toQueue = new MetadataState.BindingDecl("/", "x", "q", true, "k", new byte[4]);
        s.apply(MetadataState.bind("a", 3, toQueue), 0);
        s.apply(MetadataState.bind("b", 1, toQueue), 0);
        s.apply(MetadataState.bind("a", 4, new MetadataState.BindingDecl("/", "x", "q", true, "other", new byte[4])),
                0);
        s.apply(MetadataState.unbind("a", 5, new MetadataState.BindingDecl("/", "x", "q", true, "other",
                new byte[4])), 0);
        assertThat(r.effects).containsExactly("declare quorum //q", "declare //x topic", "bind x->q k",
                "bind x->q other", "unbind x->q other");
        ByteArrayOutputStream snapshot = new ByteArrayOutputStream();
        s.writeSnapshot(snapshot);
        Recorded fresh = new Recorded();
        new MetadataState(fresh).readSnapshot(new ByteArrayInputStream(snapshot.toByteArray()));
        assertThat(fresh.effects).contains("bind x->q k").doesNotContain("bind x->q other");

        s.apply(MetadataState.deleteQuorum("a", 6, "/", "q"), 0);
        ByteArrayOutputStream after = new ByteArrayOutputStream();
        s.writeSnapshot(after);
        Recorded later = new Recorded();
        new MetadataState(later).readSnapshot(new ByteArrayInputStream(after.toByteArray()));
        assertThat(later.effects).as("a queue's bindings go with it").noneMatch(e -> e.startsWith("bind"));
    }

    @Test
    void aRepeatedDeclareOrADeleteOfNothingHasNoEffect() {
        Recorded r = new Recorded();
        MetadataState s = new MetadataState(r);
        s.apply(MetadataState.declareExchange("a", 1, exchange("x")), 0);
        s.apply(MetadataState.declareExchange("b", 1, exchange("x")), 0);
        s.apply(MetadataState.deleteExchange("a", 2, "/", "y"), 0);
        assertThat(r.effects).containsExactly("declare //x topic");
    }
}
