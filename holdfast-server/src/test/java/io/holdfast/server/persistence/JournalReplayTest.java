package io.holdfast.server.persistence;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.core.Broker;
import io.holdfast.core.Message;
import io.holdfast.core.MessageStore;
import io.holdfast.core.Queue;
import io.holdfast.core.QueueEntry;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Replay builds each queue's index from records, without keeping any body in memory. */
class JournalReplayTest {
    private final Queue queue = new Broker(MessageStore.NONE, () -> "x").topology()
            .restoreQueue("/", "q", false, Map.of());
    private final JournalReplay replay = new JournalReplay(false);

    private void enqueue(long seq, long position, String body) {
        Message m = new Message("", "q", new byte[0], Map.of(), true, Message.NO_EXPIRATION,
                body.getBytes(StandardCharsets.UTF_8));
        replay.record(position, JournalRecords.enqueue(queue, new QueueEntry(seq, m, false, 0, 0, QueueEntry.NEVER), m));
    }

    private void remove(long seq) {
        replay.record(0, JournalRecords.remove(queue, entry(seq)));
    }

    private QueueEntry entry(long seq) {
        return QueueEntry.pagedOut(seq, 0, false, 2, 0, QueueEntry.NEVER, 0);
    }

    private List<QueueEntry> recovered() {
        List<QueueEntry> out = new java.util.ArrayList<>();
        replay.take("/", "q").forEach(out::add);
        return out;
    }

    @Test
    void entriesComeBackPagedOutInPositionOrderPointingAtTheirRecords() {
        enqueue(1, 100, "a");
        enqueue(2, 200, "bb");
        enqueue(5, 300, "ccc");

        List<QueueEntry> out = recovered();

        assertThat(out).extracting(QueueEntry::seq).containsExactly(1L, 2L, 5L);
        assertThat(out).extracting(e -> e.storeRef).containsExactly(100L, 200L, 300L);
        assertThat(out).extracting(QueueEntry::sizeBytes).containsExactly(1, 2, 3);
        assertThat(out).allSatisfy(e -> {
            assertThat(e.residentMessage()).isNull();
            assertThat(e.persistent()).isTrue();
            assertThat(e.redelivered()).isFalse();
        });
        assertThat(replay.maxSeq()).isEqualTo(5);
    }

    @Test
    void removedEntriesAreGoneEvenAfterTheArrayIsSwept() {
        for (long seq = 1; seq <= 10; seq++) {
            enqueue(seq, seq * 10, "m");
        }
        for (long seq = 1; seq <= 8; seq++) {
            remove(seq); // past half: the sorted array is swept
        }
        remove(10);

        assertThat(recovered()).extracting(QueueEntry::seq).containsExactly(9L);
    }

    @Test
    void aCompactionCopyReplacesTheOriginalAndKeepsItsPlace() {
        enqueue(1, 100, "a");
        enqueue(2, 200, "b");
        enqueue(3, 300, "c");
        enqueue(1, 400, "a"); // copy of 1, original still on disk

        List<QueueEntry> out = recovered();

        assertThat(out).extracting(QueueEntry::seq).containsExactly(1L, 2L, 3L);
        assertThat(out).extracting(e -> e.storeRef).containsExactly(400L, 200L, 300L);
    }

    @Test
    void aCopyWhoseOriginalSegmentIsGoneIsMergedBackInOrder() {
        enqueue(4, 100, "d");
        enqueue(6, 200, "f");
        enqueue(2, 300, "b"); // its original segment was deleted
        enqueue(5, 400, "e"); // likewise
        remove(5);

        assertThat(recovered()).extracting(QueueEntry::seq).containsExactly(2L, 4L, 6L);
    }

    @Test
    void deliveredMarksTheEntryRedeliveredWithItsCount() {
        enqueue(1, 100, "a");
        enqueue(2, 200, "b");
        replay.record(0, JournalRecords.delivered(queue, entry(2)));

        List<QueueEntry> out = recovered();

        assertThat(out).extracting(QueueEntry::redelivered).containsExactly(false, true);
        assertThat(out.get(1).deliveryCount()).isEqualTo(2);
        assertThat(out.get(1).storeRef).isEqualTo(200L);
    }

    @Test
    void afterAnUncleanShutdownEveryEntryIsFlaggedRedelivered() {
        JournalReplay afterCrash = new JournalReplay(true);
        Message m = new Message("", "q", new byte[0], Map.of(), true, Message.NO_EXPIRATION, new byte[1]);
        afterCrash.record(7, JournalRecords.enqueue(queue, new QueueEntry(1, m, false, 0, 0, QueueEntry.NEVER), m));

        assertThat(afterCrash.take("/", "q")).extracting(QueueEntry::redelivered).containsExactly(true);
    }
}
