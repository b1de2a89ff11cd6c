package io.holdfast.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Map;
import org.junit.jupiter.api.Test;

class VirtualHostDeletionTest {
    private final BrokerFixture f = new BrokerFixture();

    @Test
    void deletingAVhostTakesItsQueuesExchangesAndStoredMessagesAndNothingElse() {
        f.broker.addVirtualHost("v");
        ChannelState inV = f.broker.openChannel(7, 1, "v", new BrokerFixture.RecordingOutput("7/1", new ArrayList<>()));
        f.topology.declareQueue(inV, "jobs", false, true, false, false, Map.of());
        f.topology.declareExchange(inV, "events", "fanout", false, true, false, false, Map.of());
        f.topology.bindQueue(inV, "jobs", "events", "", Map.of());
        f.broker.publish(inV, "events", "", BrokerFixture.message("events", "", Map.of(), true, "in v"), 0);
        ChannelState inRoot = f.channel(1);
        f.durableQueue(inRoot, "kept");
        f.publishPersistent(inRoot, "", "kept", "in /");
        assertThat(f.store.live("jobs")).containsExactly("in v");
        f.broker.closeConnection(7);
        f.broker.takeDurableTopologyChange();

        assertThat(f.broker.deleteVirtualHost("v")).isTrue();

        assertThat(f.broker.virtualHost("v")).isNull();
        assertThat(f.store.live("jobs")).as("its stored messages leave the store").isEmpty();
        assertThat(f.store.live("kept")).containsExactly("in /");
        assertThat(f.broker.takeDurableTopologyChange()).as("durable topology is saved again").isTrue();
        assertThat(f.store.problems).isEmpty();
        assertThat(f.broker.deleteVirtualHost("v")).as("a second delete finds nothing").isFalse();
    }
}
