package io.holdfast.core;

import static io.holdfast.core.BrokerFixture.replyCode;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.holdfast.core.BrokerFixture.Delivery;
import io.holdfast.core.BrokerFixture.RecordingOutput;
import io.holdfast.core.BrokerFixture.RecordingStore.Kind;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * {@code x-redelivery-backoff}: a message that comes back unsettled waits out the delay its delivery count
 * calls for, then takes its original place in the queue.
 */
class RedeliveryBackoffTest {
    private final BrokerFixture f = new BrokerFixture();
    private final Broker broker = f.broker;
    private final ChannelState ch = f.channel(1);
    private final RecordingOutput out = f.output(ch);

    private void declare(String name, boolean durable, Object... keyValues) {
        Map<String, Object> args = new LinkedHashMap<>();
        for (int i = 0; i < keyValues.length; i += 2) {
            args.put((String) keyValues[i], keyValues[i + 1]);
        }
        f.topology.declareQueue(ch, name, false, durable, false, false, args);
    }

    private int messageCount(String queue) {
        return f.topology.declareQueue(ch, queue, true, false, false, false, Map.of()).messageCount();
    }

    /** basic.get at {@code nowMillis} then nack with requeue; returns the body got, or null. */
    private String getAndNack(String queue, long nowMillis) {
        Broker.GetResult r = broker.get(ch, queue, false, nowMillis);
        if (r == null) {
            return null;
        }
        broker.reject(ch, r.deliveryTag(), false, true);
        return BrokerFixture.body(r.message());
    }

    // ---- the delays ----

    @Test
    void aListGivesOneDelayPerReturnAndRepeatsTheLast() {
        RedeliveryBackoff b = RedeliveryBackoff.parse("300ms, 1s,2m");
        assertThat(b.delayMillis(7, 1)).isEqualTo(300);
        assertThat(b.delayMillis(7, 2)).isEqualTo(1000);
        assertThat(b.delayMillis(7, 3)).isEqualTo(120_000);
        assertThat(b.delayMillis(7, 50)).isEqualTo(120_000);
        assertThat(RedeliveryBackoff.parse("250").delayMillis(1, 1)).as("a bare number is milliseconds").isEqualTo(250);
        assertThat(RedeliveryBackoff.parse("1h").delayMillis(1, 9)).isEqualTo(3_600_000);
        assertThat(RedeliveryBackoff.parse("0,1s").delayMillis(1, 1)).isZero();
    }

    @Test
    void exponentialDoublesWithBoundedDeterministicJitterUpToItsCap() {
        RedeliveryBackoff b = RedeliveryBackoff.parse("exponential:1s:5m");
        for (int n = 1; n <= 40; n++) {
            long base = n >= 20 ? 300_000 : Math.min(300_000, 1000L << (n - 1));
            Set<Long> seen = new HashSet<>();
            for (long seq = 1; seq <= 200; seq++) {
                long d = b.delayMillis(seq, n);
                assertThat(d).as("return %d of seq %d", n, seq).isBetween(base * 8 / 10, Math.min(300_000, base * 12 / 10));
                assertThat(b.delayMillis(seq, n)).as("deterministic").isEqualTo(d);
                seen.add(d);
            }
            if (base < 300_000) {
                assertThat(seen.size()).as("jitter spreads the returns of a batch").isGreaterThan(100);
            }
        }
        // the mean stays near the base: the jitter is two-sided
        double sum = 0;
        for (long seq = 1; seq <= 10_000; seq++) {
            sum += b.delayMillis(seq, 3);
        }
        assertThat(sum / 10_000).isBetween(3900.0, 4100.0);
    }

    @Test
    void badBackoffArgumentsAreRefusedNamingTheArgument() {
        for (Object bad : new Object[] {"", "1x", "1s,,2s", "-1s", "1.5s", "exponential:1s", "exponential:0s:1m",
                "exponential:5m:1s", "exponential:a:b", "9999999999h", 42}) {
            BrokerException e = catchThrowableOfType(BrokerException.class,
                    () -> declare("q", false, "x-redelivery-backoff", bad));
            assertThat(e).as("'%s' should be refused", bad).isNotNull();
            assertThat(e.code()).isEqualTo(ErrorCode.PRECONDITION_FAILED);
            assertThat(e.getMessage()).startsWith("invalid arg 'x-redelivery-backoff' for queue: ");
        }
        assertThat(f.broker.virtualHost("/").queue("q")).isNull();
    }

    @Test
    void aRedeclarationMustAgreeOnTheBackoff() {
        declare("q", false, "x-redelivery-backoff", "1s");
        declare("q", false, "x-redelivery-backoff", "1s");
        assertThat(replyCode(() -> declare("q", false, "x-redelivery-backoff", "2s"))).isEqualTo(406);
    }

    // ---- holding back ----

    @Test
    void aNackedMessageIsHeldForItsDelayThenTakesItsOriginalPlace() {
        declare("q", false, "x-redelivery-backoff", "1s,5s");
        f.publishTo(ch, "q", "a", "b", "c");

        assertThat(getAndNack("q", 100)).isEqualTo("a");
        assertThat(f.ready("q")).as("held back, not ready").containsExactly("b", "c");
        Queue q = f.queueState("q");
        assertThat(q.readyCount()).isEqualTo(2);
        assertThat(q.heldCount()).isEqualTo(1);
        assertThat(messageCount("q")).as("still in the queue for declare-ok").isEqualTo(3);

        broker.advanceClock(1099);
        assertThat(f.ready("q")).containsExactly("b", "c");
        broker.advanceClock(1100);
        assertThat(f.ready("q")).as("back ahead of later messages").containsExactly("a", "b", "c");
        assertThat(q.readySnapshot().get(0).redelivered()).isTrue();
        assertThat(q.heldCount()).isZero();

        assertThat(getAndNack("q", 2000)).isEqualTo("a"); // its second return waits 5 s
        broker.tick(6999);
        assertThat(f.ready("q")).containsExactly("b", "c");
        broker.tick(7000);
        assertThat(f.ready("q")).containsExactly("a", "b", "c");
    }

    @Test
    void consumersGetOtherMessagesMeanwhileAndTheHeldOneWhenItIsDue() {
        declare("q", false, "x-redelivery-backoff", "500");
        f.publishTo(ch, "q", "a", "b", "c");
        broker.qos(ch, 1, false);
        f.consume(ch, "q", false);
        Delivery a = out.takeNew().get(0);
        broker.reject(ch, a.deliveryTag(), false, true);
        Delivery b = out.takeNew().get(0);
        assertThat(b.body()).isEqualTo("b");
        broker.advanceClock(499);
        broker.ack(ch, b.deliveryTag(), false);
        Delivery c = out.takeNew().get(0);
        assertThat(c.body()).isEqualTo("c");
        broker.ack(ch, c.deliveryTag(), false);
        assertThat(out.takeNew()).isEmpty();

        broker.tick(500);
        List<Delivery> again = out.takeNew();
        assertThat(again).extracting(Delivery::body).containsExactly("a");
        assertThat(again.get(0).redelivered()).isTrue();
    }

    @Test
    void messagesHeldTogetherComeBackInQueueOrder() {
        declare("q", false, "x-redelivery-backoff", "exponential:1s:1m");
        f.publishTo(ch, "q", "a", "b", "c", "d");
        Broker.GetResult a = broker.get(ch, "q", false, 0);
        Broker.GetResult b = broker.get(ch, "q", false, 0);
        Broker.GetResult c = broker.get(ch, "q", false, 0);
        broker.reject(ch, 0, true, true); // all three, each with its own jitter
        assertThat(f.ready("q")).containsExactly("d");
        assertThat(List.of(a, b, c)).allSatisfy(r -> assertThat(r).isNotNull());
        broker.tick(1200);
        assertThat(f.ready("q")).containsExactly("a", "b", "c", "d");
    }

    @Test
    void channelCloseRecoverAndConsumerTimeoutAllUseTheBackoff() {
        declare("q", false, "x-redelivery-backoff", "1s");
        f.publishTo(ch, "q", "a");

        ChannelState other = f.channel(2);
        broker.get(other, "q", false, 0);
        broker.closeChannel(other);
        assertThat(f.ready("q")).isEmpty();
        broker.tick(1000);
        assertThat(f.ready("q")).containsExactly("a");

        broker.get(ch, "q", false, 1000);
        broker.recover(ch);
        assertThat(f.ready("q")).isEmpty();
        broker.tick(2000);
        assertThat(f.ready("q")).containsExactly("a");

        broker.consumerTimeout(100, ConsumerTimeoutAction.CANCEL_CONSUMER);
        ChannelState slow = f.channel(3);
        f.consume(slow, "q", false); // takes a at 2000
        broker.tick(2101); // the lease ran out: cancelled, a held until 3101
        assertThat(f.output(slow).cancelled).hasSize(1);
        assertThat(f.ready("q")).isEmpty();
        broker.tick(3100);
        assertThat(f.ready("q")).isEmpty();
        broker.tick(3101);
        assertThat(f.ready("q")).containsExactly("a");
        assertThat(f.queueState("q").readySnapshot().get(0).deliveryCount()).isEqualTo(3);
    }

    @Test
    void theDeliveryLimitWinsOverTheBackoff() {
        declare("q", false, "x-redelivery-backoff", "1s", "x-delivery-limit", 1L);
        f.publishTo(ch, "q", "poison");
        assertThat(getAndNack("q", 0)).isEqualTo("poison");
        assertThat(f.queueState("q").heldCount()).isEqualTo(1);
        broker.tick(1000);
        assertThat(getAndNack("q", 1000)).isEqualTo("poison"); // the second delivery's return: 2 > 1
        assertThat(f.queueState("q").heldCount()).isZero();
        assertThat(f.ready(Broker.QUARANTINE_QUEUE)).containsExactly("poison");
    }

    @Test
    void aZeroDelayRequeuesAtOnce() {
        declare("q", false, "x-redelivery-backoff", "0,1s");
        f.publishTo(ch, "q", "a");
        assertThat(getAndNack("q", 0)).isEqualTo("a");
        assertThat(f.ready("q")).containsExactly("a");
        assertThat(getAndNack("q", 0)).isEqualTo("a");
        assertThat(f.ready("q")).isEmpty();
    }

    @Test
    void purgeAndDeleteSettleHeldMessagesWithTheStore() {
        declare("q", true, "x-redelivery-backoff", "1m");
        for (String body : new String[] {"a", "b"}) {
            broker.publish(ch, "", "q", BrokerFixture.message("", "q", Map.of(), true, body), 0);
        }
        getAndNack("q", 0);
        assertThat(f.store.returns).as("the store heard of the return").isEqualTo(1);
        Queue q = f.queueState("q");
        assertThat(q.heldUntilMillis(q.readySnapshot().get(0))).as("a ready entry is not held").isEqualTo(-1);
        assertThat(f.topology.purgeQueue(ch, "q")).isEqualTo(2);
        assertThat(f.store.live("q")).isEmpty();
        assertThat(q.heldCount()).isZero();
        broker.tick(60_000);
        assertThat(f.ready("q")).isEmpty();

        broker.publish(ch, "", "q", BrokerFixture.message("", "q", Map.of(), true, "c"), 60_000);
        getAndNack("q", 60_000);
        assertThat(f.store.live("q")).containsExactly("c");
        assertThat(replyCode(() -> f.topology.deleteQueue(ch, "q", false, true))).as("not empty while one is held")
                .isEqualTo(406);
        assertThat(f.topology.deleteQueue(ch, "q", false, false)).isEqualTo(1);
        assertThat(f.store.live("q")).isEmpty();
        broker.tick(200_000);
        assertThat(f.store.events(Kind.REMOVED)).hasSize(3);
        assertThat(f.store.problems).isEmpty();
    }

    @Test
    void theStoreHearsWhenAHeldMessageIsDueAndCompactionCanAsk() {
        long[] heard = {-1};
        RecordingStoreWithHeld store = new RecordingStoreWithHeld(heard);
        Broker b = new Broker(store, BrokerFixture.counter());
        ChannelState c = b.openChannel(1, 1, "/", new RecordingOutput("1/1", new java.util.ArrayList<>()));
        b.topology().declareQueue(c, "q", false, true, false, false, Map.of("x-redelivery-backoff", "2s"));
        b.publish(c, "", "q", BrokerFixture.message("", "q", Map.of(), true, "a"), 500);
        Broker.GetResult r = b.get(c, "q", false, 1000);
        b.reject(c, r.deliveryTag(), false, true);
        assertThat(heard[0]).isEqualTo(3000);
        Queue q = b.virtualHost("/").queue("q");
        assertThat(q.heldUntilMillis(r.entry())).isEqualTo(3000);
        int[] visited = {0};
        q.forEachEntry(e -> visited[0]++);
        assertThat(visited[0]).as("compaction sees held entries").isEqualTo(1);
    }

    @Test
    void aHeldMessageWhoseTtlRunsOutIsDeadLetteredAtItsExpiryNeverDelivered() {
        f.exchange(ch, "dlx", "fanout");
        declare("dlq", false);
        f.topology.bindQueue(ch, "dlq", "dlx", "", Map.of());
        declare("q", false, "x-redelivery-backoff", "10s", "x-message-ttl", 3000L, "x-dead-letter-exchange", "dlx");
        f.publishTo(ch, "q", "a");
        assertThat(getAndNack("q", 1000)).isEqualTo("a");
        broker.tick(3000);
        assertThat(f.ready("dlq")).isEmpty();
        broker.tick(3001);
        assertThat(f.ready("dlq")).containsExactly("a");
        assertThat(f.queueState("q").messageCount()).isZero();
    }

    @Test
    void aRecoveredHeldMessageStaysHeldUntilItsTimeThenKeepsItsPlace() {
        declare("q", false, "x-redelivery-backoff", "1s");
        Queue q = f.queueState("q");
        // After a crash: seq 1 was out for delivery (now ready again), seq 2 held until 5000, seq 3 never delivered.
        f.topology.restoreEntry(q, new QueueEntry(1, BrokerFixture.message("", "q", Map.of(), false, "a"), true, 1, 0,
                QueueEntry.NEVER), -1);
        f.topology.restoreEntry(q, new QueueEntry(2, BrokerFixture.message("", "q", Map.of(), false, "b"), true, 1, 0,
                QueueEntry.NEVER), 5000);
        f.topology.restoreEntry(q, new QueueEntry(3, BrokerFixture.message("", "q", Map.of(), false, "c"), false, 0, 0,
                QueueEntry.NEVER), -1);
        broker.advanceSequence(3);
        broker.tick(4999);
        assertThat(f.ready("q")).containsExactly("a", "c");
        broker.tick(5000);
        assertThat(f.ready("q")).containsExactly("a", "b", "c");
        f.publishTo(ch, "q", "d");
        assertThat(f.ready("q")).containsExactly("a", "b", "c", "d");
    }

    @Test
    void queuesWithoutTheArgumentRequeueAtOnce() {
        declare("q", false);
        f.publishTo(ch, "q", "a", "b");
        assertThat(getAndNack("q", 0)).isEqualTo("a");
        assertThat(f.ready("q")).containsExactly("a", "b");
        assertThat(f.queueState("q").heldCount()).isZero();
    }

    @Test
    void seededRandomReturnsKeepOrderCountsAndHoldTimes() {
        for (long seed = 1; seed <= 40; seed++) {
            runRandom(seed);
        }
    }

    /**
     * Publishes, gets, acks, nacks, channel closes and clock steps at random on a durable backoff queue with a
     * delivery limit; after every step the ready messages are in position order, none is ready before its
     * time, and ready + held + unacked is what the store holds.
     */
    private static void runRandom(long seed) {
        BrokerFixture g = new BrokerFixture();
        Broker b = g.broker;
        ChannelState admin = g.channel(1);
        g.topology.declareQueue(admin, "q", false, true, false, false,
                Map.of("x-redelivery-backoff", "exponential:10ms:200ms", "x-delivery-limit", 5L));
        Queue q = g.queueState("q");
        RedeliveryBackoff policy = q.redeliveryBackoff();
        java.util.Random r = new java.util.Random(seed);
        Map<Long, Long> notBefore = new java.util.HashMap<>();
        Map<Long, QueueEntry> unacked = new LinkedHashMap<>();
        ChannelState reader = g.channel(2);
        long now = 0;
        for (int step = 0; step < 400; step++) {
            int op = r.nextInt(10);
            String where = "seed " + seed + " step " + step + " op " + op;
            if (op <= 1) {
                b.publish(admin, "", "q", BrokerFixture.message("", "q", Map.of(), true, "m" + step), now);
            } else if (op <= 3) {
                Broker.GetResult got = b.get(reader, "q", false, now);
                if (got != null) {
                    assertThat(now).as(where).isGreaterThanOrEqualTo(notBefore.getOrDefault(got.entry().seq(), 0L));
                    unacked.put(got.deliveryTag(), got.entry());
                }
            } else if (op == 4 && !unacked.isEmpty()) {
                long tag = unacked.keySet().iterator().next();
                unacked.remove(tag);
                b.ack(reader, tag, false);
            } else if (op <= 6 && !unacked.isEmpty()) {
                List<Long> tags = List.copyOf(unacked.keySet());
                long tag = tags.get(r.nextInt(tags.size()));
                QueueEntry e = unacked.remove(tag);
                notBefore.put(e.seq(), now + policy.delayMillis(e.seq(), e.deliveryCount()));
                b.reject(reader, tag, false, true);
            } else if (op == 7 && r.nextInt(4) == 0) {
                for (QueueEntry e : unacked.values()) {
                    notBefore.put(e.seq(), now + policy.delayMillis(e.seq(), e.deliveryCount()));
                }
                unacked.clear();
                b.closeChannel(reader);
                reader = g.channel(2);
            } else {
                now += r.nextInt(60);
                if (r.nextBoolean()) {
                    b.tick(now);
                } else {
                    b.advanceClock(now);
                }
            }
            List<QueueEntry> ready = q.readySnapshot();
            for (int i = 1; i < ready.size(); i++) {
                assertThat(ready.get(i).seq()).as(where).isGreaterThan(ready.get(i - 1).seq());
            }
            for (QueueEntry e : ready) {
                assertThat(now).as(where + ": seq " + e.seq() + " ready early")
                        .isGreaterThanOrEqualTo(notBefore.getOrDefault(e.seq(), 0L));
            }
            assertThat(q.messageCount() + q.unackedCount()).as(where).isEqualTo(g.store.live("q").size());
            assertThat(g.store.problems).as(where).isEmpty();
        }
    }

    /** A store that keeps messages in memory and remembers the last ready time it heard of. */
    private static final class RecordingStoreWithHeld implements MessageStore {
        private final long[] heard;

        RecordingStoreWithHeld(long[] heard) {
            this.heard = heard;
        }

        @Override public void enqueued(Queue queue, QueueEntry entry) {}

        @Override public void removed(Queue queue, QueueEntry entry) {}

        @Override public void returned(Queue queue, QueueEntry entry) {}

        @Override public void held(Queue queue, QueueEntry entry, long readyAtMillis) {
            heard[0] = readyAtMillis;
        }

        @Override public Message load(Queue queue, QueueEntry entry) {
            throw new IllegalStateException("nothing is paged out");
        }
    }
}
