package io.holdfast.server.persistence;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.core.Broker;
import io.holdfast.core.Message;
import io.holdfast.core.MessageStore;
import io.holdfast.core.Queue;
import io.holdfast.core.QueueEntry;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The journal's message records: the current enqueue layout round-trips, the old one stays readable. */
class JournalRecordsTest {
    private final Queue queue = new Broker(MessageStore.NONE, () -> "x").topology()
            .restoreQueue("/", "q", false, Map.of());
    private final Message message = new Message("ex", "key", new byte[] {1, 2}, Map.of(), true,
            Message.NO_EXPIRATION, "body".getBytes(StandardCharsets.UTF_8));

    @Test
    void enqueueKeepsItsEnqueueTimeAndExpiry() {
        QueueEntry e = new QueueEntry(42, message, true, 3, 1_700_000_000_000L, 1_700_000_004_000L);

        JournalRecords.Decoded r = JournalRecords.decode(JournalRecords.enqueue(queue, e, message));

        assertThat(r.type()).isEqualTo(JournalRecords.ENQUEUE_V2);
        assertThat(r.isEnqueue()).isTrue();
        assertThat(r.seq()).isEqualTo(42);
        assertThat(r.redelivered()).isTrue();
        assertThat(r.deliveryCount()).isEqualTo(3);
        assertThat(r.enqueuedAtMillis()).isEqualTo(1_700_000_000_000L);
        assertThat(r.expiresAtMillis()).isEqualTo(1_700_000_004_000L);
        assertThat(r.vhost()).isEqualTo("/");
        assertThat(r.queue()).isEqualTo("q");
        assertThat(r.exchange()).isEqualTo("ex");
        assertThat(r.routingKey()).isEqualTo("key");
        assertThat(r.properties()).containsExactly(1, 2);
        assertThat(new String(r.body(), StandardCharsets.UTF_8)).isEqualTo("body");
    }

    @Test
    void aMessageThatNeverExpiresComesBackSo() {
        QueueEntry e = new QueueEntry(1, message, false, 0, 5, QueueEntry.NEVER);

        JournalRecords.Decoded r = JournalRecords.decode(JournalRecords.enqueue(queue, e, message));

        assertThat(r.expiresAtMillis()).isEqualTo(QueueEntry.NEVER);
    }

    @Test
    void oldEnqueueRecordStaysReadableAndNeverExpires() {
        ByteBuffer b = ByteBuffer.allocate(64);
        b.put(JournalRecords.ENQUEUE).putLong(7).put((byte) 0).putInt(0);
        for (String s : new String[] {"/", "q", "", "q"}) {
            b.put((byte) s.length()).put(s.getBytes(StandardCharsets.UTF_8));
        }
        b.putInt(0).putInt(2).put(new byte[] {'h', 'i'});
        byte[] payload = java.util.Arrays.copyOf(b.array(), b.position());

        JournalRecords.Decoded r = JournalRecords.decode(payload);

        assertThat(r.isEnqueue()).isTrue();
        assertThat(r.seq()).isEqualTo(7);
        assertThat(r.queue()).isEqualTo("q");
        assertThat(r.enqueuedAtMillis()).isZero();
        assertThat(r.expiresAtMillis()).isEqualTo(QueueEntry.NEVER);
        assertThat(new String(r.body(), StandardCharsets.UTF_8)).isEqualTo("hi");
    }

    @Test
    void anIndexOnlyDecodeSkipsTheContentButKeepsTheBodySize() {
        QueueEntry e = new QueueEntry(9, message, false, 0, 5, QueueEntry.NEVER);

        JournalRecords.Decoded r = JournalRecords.decode(JournalRecords.enqueue(queue, e, message),
                new JournalRecords.Names(), false);

        assertThat(r.seq()).isEqualTo(9);
        assertThat(r.bodySize()).isEqualTo(4);
        assertThat(r.body()).isNull();
        assertThat(r.properties()).isNull();
    }
}
