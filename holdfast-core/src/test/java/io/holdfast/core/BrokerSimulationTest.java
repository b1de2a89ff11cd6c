package io.holdfast.core;

import java.util.stream.LongStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Runs {@link BrokerSimulation} for many seeds. {@code -Dholdfast.core.seed=N} replays one seed,
 * {@code -Dholdfast.core.seeds=K} runs seeds 1..K (default 200), {@code -Dholdfast.core.steps=S} sets
 * the steps per seed (default {@value BrokerSimulation#DEFAULT_STEPS}). Seeds that once failed are kept
 * as named tests in {@link BrokerSimulationRegressionTest}.
 */
class BrokerSimulationTest {

    @TestFactory
    Stream<DynamicTest> contractHoldsForEverySeed() {
        return seeds(false, false);
    }

    /** The same with two queues that have length limits (drop-head, reject-publish) added. */
    @TestFactory
    Stream<DynamicTest> contractHoldsWithLengthLimitsForEverySeed() {
        return seeds(true, false);
    }

    /** The same with two queues that have {@code x-single-active-consumer} added. */
    @TestFactory
    Stream<DynamicTest> contractHoldsWithSingleActiveConsumersForEverySeed() {
        return seeds(false, true);
    }

    private static Stream<DynamicTest> seeds(boolean lengthLimits, boolean singleActive) {
        int steps = Integer.getInteger("holdfast.core.steps", BrokerSimulation.DEFAULT_STEPS);
        String replay = System.getProperty("holdfast.core.seed");
        LongStream seeds = replay != null && !replay.isBlank()
                ? LongStream.of(Long.parseLong(replay.trim()))
                : LongStream.rangeClosed(1, Integer.getInteger("holdfast.core.seeds", 200));
        return seeds.mapToObj(seed -> DynamicTest.dynamicTest("seed " + seed,
                () -> BrokerSimulation.run(seed, steps, lengthLimits, singleActive)));
    }
}
