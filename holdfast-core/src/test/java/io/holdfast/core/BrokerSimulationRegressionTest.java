package io.holdfast.core;

import org.junit.jupiter.api.Test;

/**
 * Seeds of {@link BrokerSimulation} that once found a bug, named for it. Each replays the same command
 * sequence as when it failed; the focused unit test of the same bug is named in each comment.
 */
class BrokerSimulationRegressionTest {

    /**
     * Step 10: nack-multiple naming a tag that was never sent silently settled the channel's lower tags
     * instead of failing with 406 as RabbitMQ does. See {@code DeliveryTest#multipleAckWithAnUnknownTagIsRefusedAndSettlesNothing}.
     */
    @Test
    void seed36MultipleSettleOfAnUnknownTagIsRefused() {
        BrokerSimulation.run(36, BrokerSimulation.DEFAULT_STEPS);
    }

    /**
     * Step 35: with a global prefetch, acking a delivery made to a consumer since cancelled gave the
     * credit back to the channel but woke no other consumer, so a ready queue sat idle. See
     * {@code DeliveryTest#globalPrefetchFreedByACancelledConsumersAckWakesTheOthers}.
     */
    @Test
    void seed131GlobalCreditReturnedByAnAckWakesTheChannelsOtherConsumers() {
        BrokerSimulation.run(131, BrokerSimulation.DEFAULT_STEPS);
    }
}
