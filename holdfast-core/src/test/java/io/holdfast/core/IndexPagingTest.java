package io.holdfast.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A durable queue whose backlog's middle is paged out ({@link ReadyEntries}, {@link IndexPages}) behaves as one
 * that keeps every entry in memory: order, redelivery, TTL, purge, delete and settlement, with only its head and
 * tail windows in memory. The store here is a twin of the journal store: it pages every message out, writes pages
 * as copies, and can refuse a page or damage one.
 */
class IndexPagingTest {
    private static final int PAGE = 8;

    /** A store that keeps messages by position and pages of entry copies, checking what the core asks of it. */
    static final class PagingStore implements MessageStore, IndexPages {
        final Map<Long, Message> live = new HashMap<>();
        final Map<Long, List<QueueEntry>> pages = new HashMap<>();
        final Set<Long> damaged = new HashSet<>();
        final List<String> problems = new ArrayList<>();
        int refuseNext;
        long nextPage;
        int removed;

        @Override public void enqueued(Queue queue, QueueEntry entry) {
            live.put(entry.seq(), entry.residentMessage());
            entry.storeRef = entry.seq();
            entry.pageOut();
        }

        @Override public void removed(Queue queue, QueueEntry entry) {
            removed++;
            if (live.remove(entry.storeRef) == null) {
                problems.add("removed twice or never stored: " + entry.seq());
            }
        }

        @Override public void returned(Queue queue, QueueEntry entry) {
            if (!live.containsKey(entry.storeRef)) {
                problems.add("returned an entry not stored: " + entry.seq());
            }
        }

        @Override public Message load(Queue queue, QueueEntry entry) {
            Message m = live.get(entry.storeRef);
            if (m == null) {
                problems.add("loaded an entry not stored: " + entry.seq());
            }
            return m;
        }

        @Override public IndexPages indexPages() {
            return this;
        }

        @Override public long write(Queue queue, List<QueueEntry> entries) {
            if (refuseNext > 0) {
                refuseNext--;
                return -1;
            }
            List<QueueEntry> copy = new ArrayList<>();
            for (QueueEntry e : entries) {
                if (e.residentMessage() != null || e.storeRef < 0) {
                    problems.add("paged an entry the store does not hold on disk: " + e.seq());
                }
                copy.add(QueueEntry.pagedOut(e.seq(), e.sizeBytes(), e.redelivered(), e.deliveryCount(),
                        e.enqueuedAtMillis(), e.expiresAtMillis(), e.storeRef, e.priority()));
            }
            pages.put(nextPage, copy);
            return nextPage++;
        }

        @Override public List<QueueEntry> read(Queue queue, long page) {
            List<QueueEntry> p = pages.get(page);
            if (p == null) {
                problems.add("read a freed page " + page);
                return null;
            }
            if (damaged.contains(page)) {
                return null;
            }
            List<QueueEntry> out = new ArrayList<>();
            for (QueueEntry e : p) {
                out.add(QueueEntry.pagedOut(e.seq(), e.sizeBytes(), e.redelivered(), e.deliveryCount(),
                        e.enqueuedAtMillis(), e.expiresAtMillis(), e.storeRef, e.priority()));
            }
            return out;
        }

        @Override public void free(long page) {
            if (pages.remove(page) == null) {
                problems.add("freed page " + page + " twice");
            }
        }
    }

    private final PagingStore store = new PagingStore();
    private final Broker broker = new Broker(store, BrokerFixture.counter(), new BrokerFixture.TextProperties());
    private final BrokerFixture.RecordingOutput out = new BrokerFixture.RecordingOutput("1/1", new ArrayList<>());
    private ChannelState ch = broker.openChannel(1, 1, "/", out);

    @AfterEach
    void theStoreWasAskedOnlyWhatItCanAnswer() {
        assertThat(store.problems).isEmpty();
    }

    private Queue declare(String name, Map<String, Object> arguments) {
        broker.topology().declareQueue(ch, name, false, true, false, false, arguments);
        Queue q = broker.virtualHost("/").queue(name);
        q.pageIndex(store, PAGE);
        return q;
    }

    private void publish(String queue, int from, int to) {
        for (int i = from; i < to; i++) {
            Message m = new Message("", queue, new byte[0], Map.of(), true, Message.NO_EXPIRATION,
                    Integer.toString(i).getBytes(StandardCharsets.UTF_8));
            assertThat(broker.publish(ch, "", queue, m, 0).routedQueues()).isEqualTo(1);
        }
    }

    private Broker.GetResult get(String queue) {
        return broker.get(ch, queue, false, 0);
    }

    private static int body(Broker.GetResult r) {
        return Integer.parseInt(new String(r.message().body(), StandardCharsets.UTF_8));
    }

    @Test
    void aLongBacklogKeepsOnlyItsWindowsInMemoryAndDrainsInOrder() {
        Queue q = declare("q", Map.of());
        publish("q", 0, 1000);

        assertThat(q.messageCount()).isEqualTo(1000);
        assertThat(q.readyBytes()).isEqualTo(sumOfDigits(0, 1000));
        assertThat(q.pagedOutCount()).isGreaterThanOrEqualTo(1000 - 4 * PAGE);
        int[] inMemory = {0};
        q.forEachEntry(e -> inMemory[0]++);
        assertThat(inMemory[0]).isLessThanOrEqualTo(4 * PAGE);

        for (int i = 0; i < 1000; i++) {
            Broker.GetResult r = get("q");
            assertThat(body(r)).isEqualTo(i);
            broker.ack(ch, r.deliveryTag(), false);
        }
        assertThat(get("q")).isNull();
        assertThat(q.readyBytes()).isZero();
        assertThat(store.live).isEmpty();
        assertThat(store.pages).isEmpty();
    }

    @Test
    void publishingWhileDrainingKeepsTheOrder() {
        declare("q", Map.of());
        int published = 0;
        int next = 0;
        Random random = new Random(7);
        while (next < 3000) {
            int burst = random.nextInt(3 * PAGE);
            if (published < 3000) {
                publish("q", published, Math.min(3000, published + burst));
                published = Math.min(3000, published + burst);
            }
            for (int i = random.nextInt(2 * PAGE); i > 0 && next < published; i--) {
                Broker.GetResult r = get("q");
                assertThat(body(r)).isEqualTo(next++);
                broker.ack(ch, r.deliveryTag(), false);
            }
        }
        assertThat(store.live).isEmpty();
        assertThat(store.pages).isEmpty();
    }

    @Test
    void aRequeuedDeliveryComesBackAtItsPositionAheadOfThePagedBacklog() {
        declare("q", Map.of());
        publish("q", 0, 10);
        List<Broker.GetResult> taken = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            taken.add(get("q"));
        }
        publish("q", 10, 500);

        broker.reject(ch, taken.get(4).deliveryTag(), true, true); // all five back, flagged redelivered

        for (int i = 0; i < 500; i++) {
            Broker.GetResult r = get("q");
            assertThat(body(r)).isEqualTo(i);
            assertThat(r.redelivered()).isEqualTo(i < 5);
            broker.ack(ch, r.deliveryTag(), false);
        }
        assertThat(store.live).isEmpty();
    }

    @Test
    void expiredMessagesLeaveFromTheHeadThroughPagedPages() {
        Queue q = declare("q", Map.of("x-message-ttl", 1000));
        broker.advanceClock(10_000);
        publish("q", 0, 300);
        broker.advanceClock(10_500);
        publish("q", 300, 400);

        broker.tick(11_200); // the first 300 are past their TTL, the last 100 not

        assertThat(q.messageCount()).isEqualTo(100);
        assertThat(store.live).hasSize(100);
        assertThat(body(broker.get(ch, "q", false, 11_200))).isEqualTo(300);
    }

    @Test
    void purgeAndDeleteSettleEveryEntryOnceAndFreeEveryPage() {
        Queue q = declare("q", Map.of());
        publish("q", 0, 700);
        Broker.GetResult out = get("q");

        assertThat(broker.topology().purgeQueue(ch, "q")).isEqualTo(699);
        assertThat(q.messageCount()).isZero();
        assertThat(q.readyBytes()).isZero();
        assertThat(store.live).hasSize(1);
        assertThat(store.pages).isEmpty();

        publish("q", 700, 1500);
        assertThat(broker.topology().deleteQueue(ch, "q", false, false)).isEqualTo(800);
        assertThat(store.live).isEmpty();
        assertThat(store.pages).isEmpty();
        assertThat(store.removed).isEqualTo(1500);
        assertThat(out.deliveryTag()).isPositive();
    }

    @Test
    void aPageThatDoesNotReadBackIsDroppedNeverDeliveredAndTheRestFollowsInOrder() {
        Queue q = declare("q", Map.of());
        publish("q", 0, 200);
        store.damaged.add(0L); // the first page written: entries 16..23 (the head held 0..15)

        List<Integer> got = new ArrayList<>();
        Broker.GetResult r;
        while ((r = get("q")) != null) {
            got.add(body(r));
            broker.ack(ch, r.deliveryTag(), false);
        }

        assertThat(got).hasSize(200 - PAGE).doesNotContainAnyElementsOf(List.of(16, 17, 18, 19, 20, 21, 22, 23));
        assertThat(got).isSorted();
        assertThat(q.messageCount()).isZero();
        assertThat(q.readyBytes()).isZero();
        assertThat(store.live.keySet()).hasSize(PAGE); // still in the store's records: a restart brings them back
    }

    @Test
    void pagesTheStoreRefusesStayInMemoryAndGoLater() {
        Queue q = declare("q", Map.of());
        store.refuseNext = 3;
        publish("q", 0, 40);
        long refusedStage = q.pagedOutCount();
        publish("q", 40, 400);

        assertThat(refusedStage).isZero();
        assertThat(q.pagedOutCount()).isGreaterThan(400 - 6 * PAGE);
        for (int i = 0; i < 400; i++) {
            Broker.GetResult r = get("q");
            assertThat(body(r)).isEqualTo(i);
            broker.ack(ch, r.deliveryTag(), false);
        }
        assertThat(store.pages).isEmpty();
    }

    @Test
    void aModelOfTheQueueAgreesWithThePagedOneOverRandomOperations() {
        for (long seed = 1; seed <= 20; seed++) {
            Random random = new Random(seed);
            String name = "q" + seed;
            ch = broker.openChannel(1, (int) seed * 2, "/", out);
            Queue q = declare(name, Map.of());
            TreeSet<Integer> ready = new TreeSet<>();
            Map<Long, Integer> unacked = new HashMap<>();
            int next = 0;
            for (int step = 0; step < 2000; step++) {
                int op = random.nextInt(100);
                if (op < 45) {
                    int n = random.nextInt(PAGE * 3);
                    publish(name, next, next + n);
                    for (int i = next; i < next + n; i++) {
                        ready.add(i);
                    }
                    next += n;
                } else if (op < 85) {
                    Broker.GetResult r = get(name);
                    if (ready.isEmpty()) {
                        assertThat(r).as("seed %d step %d", seed, step).isNull();
                    } else {
                        assertThat(body(r)).as("seed %d step %d", seed, step).isEqualTo(ready.pollFirst());
                        unacked.put(r.deliveryTag(), body(r));
                    }
                } else if (op < 97 && !unacked.isEmpty()) {
                    long tag = new ArrayList<>(unacked.keySet()).get(random.nextInt(unacked.size()));
                    boolean requeue = random.nextBoolean();
                    int b = unacked.remove(tag);
                    if (requeue) {
                        broker.reject(ch, tag, false, true);
                        ready.add(b);
                    } else {
                        broker.ack(ch, tag, false);
                    }
                } else if (op >= 97) {
                    assertThat(broker.topology().purgeQueue(ch, name)).isEqualTo(ready.size());
                    ready.clear();
                }
                assertThat(q.messageCount()).as("seed %d step %d", seed, step).isEqualTo(ready.size());
            }
            broker.closeChannel(ch);
            assertThat(q.messageCount()).isEqualTo(ready.size() + unacked.size());
            ch = broker.openChannel(1, (int) seed * 2 + 1, "/", out);
            assertThat(broker.topology().deleteQueue(ch, name, false, false)).isEqualTo(ready.size() + unacked.size());
            assertThat(store.live).isEmpty();
            assertThat(store.pages).isEmpty();
        }
    }

    private static long sumOfDigits(int from, int to) {
        long n = 0;
        for (int i = from; i < to; i++) {
            n += Integer.toString(i).length();
        }
        return n;
    }
}
