package io.holdfast.server.persistence;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.core.Broker;
import io.holdfast.core.Message;
import io.holdfast.core.MessageStore;
import io.holdfast.core.Queue;
import io.holdfast.core.QueueEntry;
import io.holdfast.core.Topology;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * {@link ReadAhead}: reads start at a queue's head and go ahead of it within the bounds; results kept by entry
 * whatever order the reads finish in; entries that leave meanwhile dropped; a failed read kept only when it was
 * of the entry's current copy. Reader and broker threads are stand-ins the test runs by hand.
 */
class ReadAheadTest {
    private final Topology topology = new Broker(MessageStore.NONE, () -> "x").topology();
    private final ArrayDeque<Runnable> readerTasks = new ArrayDeque<>();
    private final ArrayDeque<Runnable> loopTasks = new ArrayDeque<>();
    private final List<String> woken = new ArrayList<>();
    /** Positions whose read fails as a damaged record would. */
    private final Set<Long> damaged = new java.util.HashSet<>();
    private final List<Long> readPositions = new ArrayList<>();

    private ReadAhead readAhead(int messages, long queueBytes, long totalBytes) {
        ReadAhead r = new ReadAhead(this::read, readerTasks::add, loopTasks::add, messages, queueBytes, totalBytes);
        r.onArrival(q -> woken.add(q.name()));
        return r;
    }

    private Message read(Queue q, QueueEntry e, long position) throws IOException {
        readPositions.add(position);
        if (damaged.contains(position)) {
            throw new IOException("CRC mismatch at " + position);
        }
        return new Message("", q.name(), new byte[0], Map.of(), true, Message.NO_EXPIRATION,
                ("m" + e.seq()).getBytes(StandardCharsets.UTF_8));
    }

    /** A durable queue of {@code count} paged-out 100-byte entries, seq 1.., stored at position 1000 * seq. */
    private Queue coldQueue(String name, int count) {
        Queue q = topology.restoreQueue("/", name, false, Map.of());
        for (int i = 1; i <= count; i++) {
            topology.restoreEntry(q, QueueEntry.pagedOut(i, 100, false, 0, 0, QueueEntry.NEVER, 1000L * i));
        }
        return q;
    }

    private static QueueEntry head(Queue q) {
        return q.readyInOrder().next();
    }

    private static String body(ReadAhead.Outcome o) {
        return new String(o.message().body(), StandardCharsets.UTF_8);
    }

    private void runAll(ArrayDeque<Runnable> tasks) {
        while (!tasks.isEmpty()) {
            tasks.poll().run();
        }
    }

    @Test
    void readsStartAtTheHeadAndStayWithinTheQueueBound() {
        ReadAhead r = readAhead(8, 1 << 20, 1 << 20);
        Queue q = coldQueue("q", 100);

        assertThat(r.readable(q, head(q))).isFalse();
        assertThat(r.size()).isEqualTo(8);
        assertThat(r.readable(q, head(q))).as("asked once").isFalse();
        assertThat(r.size()).isEqualTo(8);
        runAll(readerTasks);
        assertThat(readPositions).containsExactly(1000L, 2000L, 3000L, 4000L, 5000L, 6000L, 7000L, 8000L);
        assertThat(r.readable(q, head(q))).as("read, not yet back on the broker thread").isFalse();
        runAll(loopTasks);
        assertThat(woken).containsExactly("q");
        assertThat(r.readable(q, head(q))).isTrue();
        assertThat(body(r.take(head(q)))).isEqualTo("m1");
        assertThat(r.bytes()).isEqualTo(700);
    }

    @Test
    void resultsAreKeptByEntryWhateverOrderTheReadsFinishIn() {
        ReadAhead r = readAhead(128, 1 << 20, 1 << 20);
        Queue q = coldQueue("q", 100);
        r.readable(q, head(q));
        assertThat(readerTasks).as("two batches").hasSize(2);

        readerTasks.pollLast().run(); // the later batch finishes first
        runAll(loopTasks);
        assertThat(r.readable(q, head(q))).as("the head's batch is still out").isFalse();
        runAll(readerTasks);
        runAll(loopTasks);

        List<String> bodies = new ArrayList<>();
        for (java.util.Iterator<QueueEntry> it = q.readyInOrder(); it.hasNext(); ) {
            bodies.add(body(r.take(it.next())));
        }
        assertThat(bodies.get(0)).isEqualTo("m1");
        assertThat(bodies).hasSize(100).doesNotHaveDuplicates();
        assertThat(r.size()).isZero();
        assertThat(r.bytes()).isZero();
    }

    @Test
    void anEntryThatLeavesWhileItsReadIsInFlightIsDropped() {
        ReadAhead r = readAhead(8, 1 << 20, 1 << 20);
        Queue q = coldQueue("q", 3);
        QueueEntry first = head(q);
        r.readable(q, first);
        damaged.add(1000L); // its segment deleted once it was settled: the read fails, and that is no damage

        first.removed = true;
        r.forget(first);
        runAll(readerTasks);
        runAll(loopTasks);

        assertThat(r.take(first)).isNull();
        assertThat(r.size()).isEqualTo(2);
        assertThat(r.bytes()).isEqualTo(200);
    }

    @Test
    void aFailedReadIsKeptOnlyWhenItWasOfTheEntrysCurrentCopy() {
        ReadAhead r = readAhead(8, 1 << 20, 1 << 20);
        Queue q = coldQueue("q", 2);
        List<QueueEntry> entries = new ArrayList<>();
        q.readyInOrder().forEachRemaining(entries::add);
        damaged.add(1000L);
        damaged.add(2000L);
        r.readable(q, entries.get(0));
        entries.get(1).storeRef = 9000; // compaction moved the second one while it was being read
        runAll(readerTasks);
        runAll(loopTasks);

        ReadAhead.Outcome first = r.take(entries.get(0));
        assertThat(first.message()).as("damaged: never served").isNull();
        assertThat(first.error()).hasMessageContaining("CRC mismatch");
        assertThat(first.position()).isEqualTo(1000L);

        assertThat(r.readable(q, entries.get(1))).as("read again, at its new place").isFalse();
        runAll(readerTasks);
        runAll(loopTasks);
        assertThat(readPositions).startsWith(1000L, 2000L).contains(9000L);
        assertThat(body(r.take(entries.get(1)))).isEqualTo("m2");
    }

    @Test
    void theTotalBoundIsSharedButEveryQueueMayReadItsHead() {
        ReadAhead r = readAhead(8, 1 << 20, 450);
        Queue a = coldQueue("a", 10);
        Queue b = coldQueue("b", 10);

        r.readable(a, head(a));
        assertThat(r.bytes()).isEqualTo(400);
        r.readable(b, head(b));
        assertThat(r.bytes()).as("b's head over the total bound").isEqualTo(500);
        runAll(readerTasks);
        runAll(loopTasks);
        assertThat(woken).containsExactlyInAnyOrder("a", "b");
        assertThat(r.readable(b, head(b))).isTrue();
    }
}
