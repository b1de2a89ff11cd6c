package io.holdfast.server.persistence;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.core.QueueEntry;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * The replay's columns agree with a sorted map of entry objects over random records: enqueues in order across
 * many blocks, compaction copies (of live entries, and of entries whose original is gone), amendments and removals,
 * with sweeps in between.
 */
class ReplayedQueueTest {
    private static QueueEntry entry(long seq, long position, int deliveryCount, boolean redelivered) {
        return QueueEntry.pagedOut(seq, (int) (seq % 1000), redelivered, deliveryCount, seq * 3,
                seq % 7 == 0 ? QueueEntry.NEVER : seq * 5, position, (int) (seq % 256));
    }

    private static String describe(QueueEntry e) {
        return e.seq() + "/" + e.storeRef + "/" + e.sizeBytes() + "/" + e.redelivered() + "/" + e.deliveryCount() + "/"
                + e.enqueuedAtMillis() + "/" + e.expiresAtMillis() + "/" + e.priority();
    }

    @Test
    void theColumnsAgreeWithAMapOfEntriesOverRandomRecords() {
        for (long seed = 1; seed <= 10; seed++) {
            Random random = new Random(seed);
            ReplayedQueue q = new ReplayedQueue();
            TreeMap<Long, QueueEntry> model = new TreeMap<>();
            long nextSeq = 1;
            long position = 0;
            for (int step = 0; step < 60_000; step++) {
                int op = random.nextInt(100);
                if (op < 55 || model.isEmpty()) {
                    QueueEntry e = entry(nextSeq++, position++, 0, false);
                    q.put(e);
                    model.put(e.seq(), e);
                } else if (op < 85) {
                    long seq = some(model, random, nextSeq);
                    q.remove(seq);
                    model.remove(seq);
                } else if (op < 93) {
                    long seq = some(model, random, nextSeq);
                    QueueEntry copy = entry(seq, position++, model.get(seq).deliveryCount(),
                            model.get(seq).redelivered());
                    q.put(copy); // a compaction copy, later in the journal
                    model.put(seq, copy);
                } else {
                    long seq = some(model, random, nextSeq);
                    QueueEntry old = q.get(seq);
                    assertThat(describe(old)).isEqualTo(describe(model.get(seq)));
                    QueueEntry amended = QueueEntry.pagedOut(seq, old.sizeBytes(), true, old.deliveryCount() + 1,
                            old.enqueuedAtMillis(), old.expiresAtMillis(), old.storeRef, old.priority());
                    q.replace(amended);
                    model.put(seq, amended);
                }
            }
            assertThat(q.size()).isEqualTo(model.size());
            List<String> got = new ArrayList<>();
            for (Iterator<QueueEntry> it = q.entries(); it.hasNext(); ) {
                got.add(describe(it.next()));
            }
            assertThat(got).as("seed %d", seed).containsExactlyElementsOf(
                    model.values().stream().map(ReplayedQueueTest::describe).toList());
        }
    }

    /** A live position, about uniformly. */
    private static long some(TreeMap<Long, QueueEntry> model, Random random, long nextSeq) {
        Long seq = model.ceilingKey(1 + (long) random.nextInt((int) nextSeq));
        return seq != null ? seq : model.lastKey();
    }

    @Test
    void aCopyOfAnEntryWhoseOriginalIsGoneComesBackInItsPlace() {
        ReplayedQueue q = new ReplayedQueue();
        q.put(entry(5, 10, 0, false));
        q.put(entry(9, 11, 0, false));
        q.put(entry(2, 12, 0, false)); // its original was in a deleted segment
        q.remove(9);

        List<Long> seqs = new ArrayList<>();
        q.entries().forEachRemaining(e -> seqs.add(e.seq()));
        assertThat(seqs).containsExactly(2L, 5L);
        assertThat(Map.of("size", q.size())).containsEntry("size", 2);
    }
}
