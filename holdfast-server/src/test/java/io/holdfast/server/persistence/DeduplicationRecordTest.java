package io.holdfast.server.persistence;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.core.Broker;
import io.holdfast.core.Deduplication;
import io.holdfast.core.MessageStore;
import io.holdfast.core.Queue;
import io.holdfast.protocol.BasicProperties;
import io.holdfast.server.engine.BasicPropertiesRewriter;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The DEDUP and DUPLICATE records, and how a replay rebuilds a deduplication window from them. */
class DeduplicationRecordTest {
    private final Broker broker = new Broker(MessageStore.NONE, () -> "x");
    private final Queue queue = broker.topology().restoreQueue("/", "q", false,
            Map.of(Deduplication.ARGUMENT, 2));
    private final JournalReplay replay = new JournalReplay(true);

    private void dedup(String id, long seq, long time, long position) {
        replay.record(position, JournalRecords.dedup(queue, Deduplication.Remembered.recovered(id, seq, time, -1)));
    }

    @Test
    void aDedupRecordDecodesWithItsPositionTimeAndId() {
        byte[] record = JournalRecords.dedup(queue, Deduplication.Remembered.recovered("ïd-1", 42, 1_700_000_000_123L,
                -1));
        assertThat(JournalRecords.isDedup(record, 0, record.length)).isTrue();
        JournalRecords.DedupDecoded r = JournalRecords.decodeDedup(record, 0, record.length, new JournalRecords.Names());
        assertThat(r.type()).isEqualTo(JournalRecords.DEDUP);
        assertThat(r.seq()).isEqualTo(42);
        assertThat(r.timeMillis()).isEqualTo(1_700_000_000_123L);
        assertThat(r.vhost()).isEqualTo("/");
        assertThat(r.queue()).isEqualTo("q");
        assertThat(r.messageId()).isEqualTo("ïd-1");

        byte[] duplicate = JournalRecords.duplicate(queue, "ïd-1");
        JournalRecords.DedupDecoded d = JournalRecords.decodeDedup(duplicate, 0, duplicate.length,
                new JournalRecords.Names());
        assertThat(d.type()).isEqualTo(JournalRecords.DUPLICATE);
        assertThat(d.messageId()).isEqualTo("ïd-1");
    }

    @Test
    void replayRebuildsTheWindowByPositionAndAppliesItsBoundAgain() {
        dedup("a", 10, 0, 1000);
        dedup("b", 20, 0, 1001);
        dedup("c", 30, 0, 1002); // pushed a out; evictions are not recorded
        dedup("a", 10, 0, 1003); // a compaction copy of a, later in the journal but not newer
        replay.record(1004, JournalRecords.duplicate(queue, "b"));

        List<Deduplication.Remembered> kept = broker.deduplication().restore(queue,
                replay.deduplication.take("/", "q"));

        assertThat(kept).extracting(Deduplication.Remembered::messageId).containsExactly("b", "c");
        assertThat(kept).extracting(r -> r.storeRef).containsExactly(1001L, 1002L);
        assertThat(replay.maxSeq()).isEqualTo(30);
        assertThat(replay.deduplication.take("/", "q")).as("taken once").isEmpty();
    }

    @Test
    void theLaterCopyOfOnePositionWins() {
        dedup("a", 10, 0, 1000);
        dedup("a", 10, 0, 2000);

        assertThat(broker.deduplication().restore(queue, replay.deduplication.take("/", "q")))
                .extracting(r -> r.storeRef).containsExactly(2000L);
    }

    @Test
    void theRewriterReadsTheMessageId() {
        byte[] props = new BasicProperties(null, null, null, 2, null, null, null, null, "m-7", null, null, null,
                null, null).encode();
        assertThat(new BasicPropertiesRewriter().messageId(props)).isEqualTo("m-7");
        assertThat(new BasicPropertiesRewriter().messageId(new BasicProperties(null, null, null, null, null, null,
                null, null, null, null, null, null, null, null).encode())).isNull();
    }
}
