package io.holdfast.server.persistence;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.core.Broker;
import io.holdfast.core.Message;
import io.holdfast.core.MessageStore;
import io.holdfast.core.Queue;
import io.holdfast.core.QueueEntry;
import io.holdfast.protocol.BasicProperties;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Replay reads each message's priority from its stored properties, which it otherwise skips. */
class JournalReplayPriorityTest {
    private final Queue queue = new Broker(MessageStore.NONE, () -> "x").topology()
            .restoreQueue("/", "q", false, Map.of("x-max-priority", 10));
    private final JournalReplay replay = new JournalReplay(false);

    private static byte[] properties(Integer priority) {
        return new BasicProperties("text/plain", null, Map.of("h", "v"), 2, priority, null, null, null, null, null,
                null, null, null, null).encode();
    }

    private void enqueue(long seq, Integer priority, long expiresAtMillis) {
        Message m = new Message("", "q", properties(priority), Map.of(), true, Message.NO_EXPIRATION,
                "body".getBytes(StandardCharsets.UTF_8));
        replay.record(seq * 100, JournalRecords.enqueue(queue, new QueueEntry(seq, m, false, 0, 0, expiresAtMillis), m));
    }

    @Test
    void recoveredEntriesCarryThePriorityOfTheirProperties() {
        enqueue(1, 7, QueueEntry.NEVER);
        enqueue(2, null, 5000); // an ENQUEUE_V2 with an expiry, and no priority
        enqueue(3, 255, QueueEntry.NEVER);
        replay.record(0, JournalRecords.delivered(queue, QueueEntry.pagedOut(3, 4, true, 1, 0, QueueEntry.NEVER, 0)));

        assertThat(replay.take("/", "q")).extracting(QueueEntry::priority).containsExactly(7, 0, 255);
    }

    @Test
    void anIndexOnlyDecodeFindsThePriorityInARecordInsideALargerBuffer() {
        Message m = new Message("ex", "key", properties(4), Map.of(), true, Message.NO_EXPIRATION, new byte[10]);
        byte[] record = JournalRecords.enqueue(queue, new QueueEntry(9, m, false, 0, 0, QueueEntry.NEVER), m);
        byte[] framed = new byte[record.length + 8];
        System.arraycopy(record, 0, framed, 3, record.length);

        assertThat(JournalRecords.decode(framed, 3, record.length, new JournalRecords.Names(), false).priority())
                .isEqualTo(4);
    }
}
