package io.holdfast.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SegmentDeletionTest {
    @TempDir
    Path dir;

    /** Three 30-byte records fill a segment: header 20 + 3 * (8 + 22). */
    private JournalConfig config() {
        return JournalConfig.defaults(dir).withSegmentBytesMax(110);
    }

    private static String record(int i) {
        return String.format("record-%015d", i); // 22 bytes
    }

    private boolean exists(long segmentId) {
        return Files.exists(dir.resolve(SegmentFormat.fileName(segmentId)));
    }

    @Test
    void settledSegmentsAreDeletedOldestFirstAndOnlyAsAPrefix() throws IOException {
        try (Journal journal = Journal.open(config(), new Replay())) {
            List<Long> positions = new ArrayList<>();
            for (int i = 0; i < 12; i++) {
                positions.add(Completion.append(journal, record(i), true).position());
            }
            assertThat(positions).extracting(Journal::segmentOf)
                    .containsExactly(1L, 1L, 1L, 2L, 2L, 2L, 3L, 3L, 3L, 4L, 4L, 4L);
            // Settle segments 2 and 3 completely: they must stay, segment 1 is still live.
            for (int i = 3; i < 9; i++) {
                journal.settle(positions.get(i));
            }
            Completion.append(journal, record(12), true).segmentId(); // a full writer round after the settles
            Completion.append(journal, record(13), true).segmentId();
            assertThat(exists(2)).isTrue();
            assertThat(exists(3)).isTrue();
            // Settling segment 1 releases 1, 2 and 3 together; 4 is live and 5 active.
            journal.settle(positions.get(0));
            journal.settle(positions.get(1));
            journal.settle(positions.get(2));
            await().until(() -> journal.segmentCount() == 2);
            assertThat(exists(1) || exists(2) || exists(3)).isFalse();
            assertThat(exists(4)).isTrue();
            assertThat(journal.diskBytes()).isEqualTo(Files.size(dir.resolve(SegmentFormat.fileName(4)))
                    + Files.size(dir.resolve(SegmentFormat.fileName(5))));
        }
    }

    @Test
    void anAckInANewerSegmentOutlivesTheMessageItSettlesSoNothingResurrects() throws IOException {
        try (Journal journal = Journal.open(config(), new Replay())) {
            long m = Completion.append(journal, "msg:M", true).position();
            long n = Completion.append(journal, "msg:N", true).position();
            Completion.append(journal, record(100), false).segmentId();
            Completion.append(journal, record(101), false).segmentId();
            long ack = Completion.append(journal, "ack:N", false).segmentId();
            assertThat(Journal.segmentOf(m)).isEqualTo(Journal.segmentOf(n)).isLessThan(ack);
            journal.settle(n);
            Completion.append(journal, record(201), false).segmentId();
            Completion.append(journal, record(202), false).segmentId();
            Completion.append(journal, record(203), false).segmentId(); // the ack's segment is no longer active
            Completion.append(journal, record(204), false).segmentId();
            assertThat(exists(ack)).as("the ack's segment has no live record but M's older segment is live").isTrue();
        }
        Replay replay = new Replay();
        Journal.open(config(), replay).close();
        assertThat(unacked(replay.strings())).containsExactly("M");
    }

    @Test
    void recoveredSegmentsWaitForTheFirstSettleAndRetainedOnesStay() throws IOException {
        try (Journal journal = Journal.open(config(), new Replay())) {
            for (int i = 0; i < 9; i++) {
                Completion.append(journal, record(i), true).segmentId();
            }
        }
        Replay replay = new Replay();
        try (Journal journal = Journal.open(config(), replay)) {
            assertThat(journal.segmentCount()).isEqualTo(3);
            assertThat(replay.segmentIds.subList(4, 9)).containsExactly(2L, 2L, 3L, 3L, 3L);
            journal.retain(replay.positions.get(4)); // segment 2 stays live
            journal.retain(replay.positions.get(8)); // segment 3, settled below
            long fresh = Completion.append(journal, record(9), true).segmentId();
            Completion.append(journal, "x", false).segmentId();
            assertThat(journal.segmentCount()).as("nothing deleted before the first settle").isEqualTo(4);
            journal.settle(replay.positions.get(8));
            await().until(() -> journal.segmentCount() == 3);
            assertThat(exists(1)).isFalse();
            assertThat(exists(2)).isTrue();
            assertThat(exists(3)).as("settled, but newer than live segment 2").isTrue();
            assertThat(exists(fresh)).isTrue();
            assertThatThrownBy(() -> journal.retain(replay.positions.get(0))).isInstanceOf(IllegalStateException.class);
        }
    }

    @Test
    void bookkeepingMistakesFailLoudly() throws IOException {
        try (Journal journal = Journal.open(config(), new Replay())) {
            long position = Completion.append(journal, "once", true).position();
            journal.settle(position);
            assertThatThrownBy(() -> journal.settle(position)).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("no live record");
            long elsewhere = Journal.position(99, SegmentFormat.HEADER_BYTES);
            assertThatThrownBy(() -> journal.settle(elsewhere)).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("not in the journal");
            assertThatThrownBy(() -> journal.retain(elsewhere)).isInstanceOf(IllegalStateException.class);
        }
    }

    /**
     * A tiny owner, model-checked with a seed: publish (live), ack (a non-live record, then settle the
     * message once the ack is durable), reopen with retains. After every reopen the unacked messages
     * replayed are exactly the model's: none lost, none resurrected, whatever segments were deleted.
     */
    @Test
    void randomPublishAckAndRestartNeverLoseOrResurrectAMessage() throws IOException {
        long seed = Long.getLong("holdfast.store.seed", System.nanoTime());
        System.out.println("SegmentDeletionTest seed " + seed + " (replay with -Dholdfast.store.seed=" + seed + ")");
        Random random = new Random(seed);
        Map<Integer, Long> unacked = new LinkedHashMap<>(); // message -> position
        Journal journal = Journal.open(config(), new Replay());
        int nextMessage = 0;
        long highestSegment = 0;
        for (int step = 0; step < 600; step++) {
            int action = random.nextInt(100);
            if (action < 50) {
                int message = nextMessage++;
                long position = Completion.append(journal, "msg:" + message, true).position();
                unacked.put(message, position);
                highestSegment = Math.max(highestSegment, Journal.segmentOf(position));
            } else if (action < 95 && !unacked.isEmpty()) {
                List<Integer> messages = new ArrayList<>(unacked.keySet());
                int message = messages.get(random.nextInt(messages.size()));
                Completion.append(journal, "ack:" + message, false).segmentId();
                journal.settle(unacked.remove(message));
            } else {
                journal.close();
                Replay replay = new Replay();
                journal = Journal.open(config(), replay);
                Map<Integer, Long> replayed = unackedWithPositions(replay);
                assertThat(replayed.keySet()).as("seed %d step %d", seed, step).isEqualTo(unacked.keySet());
                unacked.clear();
                unacked.putAll(replayed);
                for (long position : replayed.values()) {
                    journal.retain(position);
                }
            }
        }
        // Ack everything (plus one fresh message, so that there is at least one settle): only the active
        // segment may remain.
        unacked.put(nextMessage, Completion.append(journal, "msg:" + nextMessage, true).position());
        nextMessage++;
        for (Map.Entry<Integer, Long> message : unacked.entrySet()) {
            Completion.append(journal, "ack:" + message.getKey(), false).segmentId();
            journal.settle(message.getValue());
        }
        Journal last = journal;
        await().until(() -> last.segmentCount() == 1);
        assertThat(highestSegment).isGreaterThan(20);
        journal.close();
        assertThat(nextMessage).isGreaterThan(200);
    }

    private static List<String> unacked(List<String> records) {
        Map<String, Boolean> live = new LinkedHashMap<>();
        for (String record : records) {
            String[] parts = record.split(":");
            if (parts[0].equals("msg")) {
                live.put(parts[1], true);
            } else if (parts[0].equals("ack")) {
                live.remove(parts[1]);
            }

        }
        return new ArrayList<>(live.keySet());
    }

    private static Map<Integer, Long> unackedWithPositions(Replay replay) {
        Map<Integer, Long> live = new HashMap<>();
        for (int i = 0; i < replay.payloads.size(); i++) {
            String[] parts = replay.strings().get(i).split(":");
            int message = Integer.parseInt(parts[1]);
            if (parts[0].equals("msg")) {
                live.put(message, replay.positions.get(i));
            } else {
                live.remove(message);
            }
        }
        return live;
    }
}
