package io.holdfast.server.management;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** message_stats rates from two samples, with the sampler's clock stepped by the test instead of slept. */
class MessageRatesTest {
    private long now = 1_000_000;
    private MessageRates.Counts broker = new MessageRates.Counts(0, 0, 0, 0, 0);
    private final Map<String, MessageRates.Counts> queues = new HashMap<>();
    private final MessageRates rates = new MessageRates(() -> now, () -> broker, () -> queues);

    private static double rate(Map<String, Object> stats, String name) {
        return (double) ((Map<?, ?>) stats.get(name + "_details")).get("rate");
    }

    @Test
    void ratesArePerSecondOverTheLastIntervalAndCountsAreTheCurrentOnes() {
        queues.put(MessageRates.key("/", "q"), new MessageRates.Counts(10, 0, 0, 0, 0));
        rates.sample();
        assertThat(rate(rates.brokerStats(broker), "publish")).as("one sample: no rate yet").isZero();

        now += 5_000;
        broker = new MessageRates.Counts(500, 250, 100, 450, 5);
        queues.put(MessageRates.key("/", "q"), new MessageRates.Counts(60, 20, 10, 0, 1));
        rates.sample();
        Map<String, Object> overview = rates.brokerStats(new MessageRates.Counts(510, 251, 101, 452, 5));
        assertThat(overview.get("publish")).isEqualTo(510L);
        assertThat(rate(overview, "publish")).isEqualTo(100.0);
        assertThat(rate(overview, "deliver_get")).isEqualTo(50.0);
        assertThat(rate(overview, "ack")).isEqualTo(20.0);
        assertThat(rate(overview, "confirm")).isEqualTo(90.0);
        assertThat(rate(overview, "redeliver")).isEqualTo(1.0);
        Map<String, Object> q = rates.queueStats("/", "q", new MessageRates.Counts(61, 20, 10, 0, 1));
        assertThat(q).containsEntry("publish", 61L).containsEntry("deliver_get", 20L).containsEntry("ack", 10L)
                .doesNotContainKey("confirm");
        assertThat(rate(q, "publish")).isEqualTo(10.0);
        assertThat(rate(q, "deliver_get")).isEqualTo(4.0);
        assertThat(rate(q, "ack")).isEqualTo(2.0);

        now += 2_000;
        rates.sample(); // nothing happened in these 2 s
        assertThat(rate(rates.brokerStats(broker), "publish")).isZero();
    }

    @Test
    void aNewQueueOrOneMadeAgainHasNoRateUntilItHasTwoSamples() {
        rates.sample();
        now += 5_000;
        queues.put(MessageRates.key("/", "new"), new MessageRates.Counts(50, 0, 0, 0, 0));
        queues.put(MessageRates.key("v", "again"), new MessageRates.Counts(100, 0, 0, 0, 0));
        rates.sample();
        assertThat(rate(rates.queueStats("/", "new", new MessageRates.Counts(50, 0, 0, 0, 0)), "publish")).isZero();
        now += 5_000;
        queues.put(MessageRates.key("v", "again"), new MessageRates.Counts(3, 0, 0, 0, 0)); // deleted, declared again
        rates.sample();
        assertThat(rate(rates.queueStats("v", "again", new MessageRates.Counts(3, 0, 0, 0, 0)), "publish")).isZero();
        assertThat(rates.queueStats("/", "missing", new MessageRates.Counts(0, 0, 0, 0, 0))).containsEntry("publish", 0L);
    }
}
