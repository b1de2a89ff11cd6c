package io.holdfast.core;

import java.util.stream.LongStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Runs {@link QuorumSimulation} for many seeds: {@code -Dholdfast.quorum.seed=N} replays one,
 * {@code -Dholdfast.quorum.seeds=K} runs 1..K (default 60), {@code -Dholdfast.quorum.steps=S} sets the steps
 * (default {@value QuorumSimulation#DEFAULT_STEPS}).
 */
class QuorumSimulationTest {

    @TestFactory
    Stream<DynamicTest> aReplicatedQueueBehavesAsAClassicOneAndItsReplicasAgreeForEverySeed() {
        int steps = Integer.getInteger("holdfast.quorum.steps", QuorumSimulation.DEFAULT_STEPS);
        String replay = System.getProperty("holdfast.quorum.seed");
        LongStream seeds = replay != null && !replay.isBlank() ? LongStream.of(Long.parseLong(replay.trim()))
                : LongStream.rangeClosed(1, Integer.getInteger("holdfast.quorum.seeds", 60));
        return seeds.mapToObj(seed -> DynamicTest.dynamicTest("seed " + seed, () -> QuorumSimulation.run(seed, steps)));
    }

    /**
     * Step 176: a node down closed the node's channels one by one, so what the first gave back went to a consumer on
     * the second, counting a delivery to a dead node. See {@code QuorumQueueTest#aNodeDownGivesNothingToAnotherOfTheDeadNodesChannels}.
     */
    @Test
    void seed12ANodeDownCountsNoDeliveryToItsOwnChannels() {
        QuorumSimulation.run(12, QuorumSimulation.DEFAULT_STEPS);
    }
}
