package io.holdfast.server.persistence;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.core.Broker;
import io.holdfast.core.Message;
import io.holdfast.core.MessageStore;
import io.holdfast.core.Queue;
import io.holdfast.core.QueueEntry;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The HELD record: a message held back by {@code x-redelivery-backoff} is still held after a replay. */
class HeldRecordTest {
    private final Queue queue = new Broker(MessageStore.NONE, () -> "x").topology()
            .restoreQueue("/", "q", false, Map.of("x-redelivery-backoff", "1s"));
    private final JournalReplay replay = new JournalReplay(false);

    private void enqueue(long seq, long position) {
        Message m = new Message("", "q", new byte[0], Map.of(), true, Message.NO_EXPIRATION,
                "body".getBytes(StandardCharsets.UTF_8));
        replay.record(position, JournalRecords.enqueue(queue, new QueueEntry(seq, m, false, 0, 0, QueueEntry.NEVER), m));
    }

    private static QueueEntry entry(long seq, int deliveryCount) {
        return QueueEntry.pagedOut(seq, 4, true, deliveryCount, 0, QueueEntry.NEVER, 0);
    }

    @Test
    void aHeldRecordDecodesWithItsCountAndReadyTime() {
        JournalRecords.Decoded r = JournalRecords.decode(JournalRecords.held(queue, entry(9, 3), 1_700_000_000_123L));
        assertThat(r.type()).isEqualTo(JournalRecords.HELD);
        assertThat(r.seq()).isEqualTo(9);
        assertThat(r.deliveryCount()).isEqualTo(3);
        assertThat(r.readyAtMillis()).isEqualTo(1_700_000_000_123L);
        assertThat(r.vhost()).isEqualTo("/");
        assertThat(r.queue()).isEqualTo("q");
        assertThat(r.isEnqueue()).isFalse();
        assertThat(JournalRecords.decode(JournalRecords.delivered(queue, entry(9, 3))).readyAtMillis()).isEqualTo(-1);
    }

    @Test
    void replayKeepsTheLatestReadyTimeAndTheCount() {
        enqueue(1, 100);
        enqueue(2, 200);
        replay.record(0, JournalRecords.held(queue, entry(2, 1), 5000));
        replay.record(0, JournalRecords.held(queue, entry(2, 2), 9000));

        assertThat(replay.heldUntil(1)).isEqualTo(-1);
        assertThat(replay.heldUntil(2)).isEqualTo(9000);
        QueueEntry e = java.util.stream.StreamSupport.stream(replay.take("/", "q").spliterator(), false).toList().get(1);
        assertThat(e.deliveryCount()).isEqualTo(2);
        assertThat(e.redelivered()).isTrue();
        assertThat(e.storeRef).isEqualTo(200L);
    }

    @Test
    void aCompactionCopyFollowedByItsHeldRecordKeepsTheHold() {
        enqueue(2, 200);
        replay.record(0, JournalRecords.held(queue, entry(2, 1), 5000));
        enqueue(2, 900); // compaction's copy, then the HELD record JournalStore.relocate writes after it
        replay.record(0, JournalRecords.held(queue, entry(2, 1), 5000));

        assertThat(replay.heldUntil(2)).isEqualTo(5000);
        assertThat(replay.take("/", "q")).extracting(x -> x.storeRef).containsExactly(900L);
    }

    @Test
    void aCopyWithoutItsHeldRecordYetStillKeepsTheEarlierHold() {
        enqueue(2, 200);
        replay.record(0, JournalRecords.held(queue, entry(2, 1), 5000));
        enqueue(2, 900); // a crash came between the copy and its HELD record

        assertThat(replay.heldUntil(2)).isEqualTo(5000);
    }

    @Test
    void aRemovedMessageIsNoLongerHeld() {
        enqueue(2, 200);
        replay.record(0, JournalRecords.held(queue, entry(2, 1), 5000));
        replay.record(0, JournalRecords.remove(queue, entry(2, 1)));

        assertThat(replay.heldUntil(2)).isEqualTo(-1);
        assertThat(replay.take("/", "q")).isEmpty();
    }
}
