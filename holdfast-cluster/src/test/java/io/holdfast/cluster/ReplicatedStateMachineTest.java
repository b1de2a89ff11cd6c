package io.holdfast.cluster;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.InputStream;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The adapter's part of applying an entry, without Ratis: order, results, refusals, damage, time. */
class ReplicatedStateMachineTest {
    private static final ReplicaGroup GROUP = new ReplicaGroup("g", List.of(new ReplicaGroup.Peer("n0", "h:1")));

    private final CommandLog log = new CommandLog();
    private final ReplicatedStateMachine machine = new ReplicatedStateMachine(GROUP, log);

    @Test
    void theCommandsOfAnEntryApplyInOrderWithOneResultEach() {
        List<EntryFormat.Result> results = EntryFormat.decodeReply(machine.applyEntry(1, entry(10, "a", "b", "c")));
        assertThat(log.commands()).containsExactly("a", "b", "c");
        assertThat(results).extracting(r -> CommandLog.position(r.bytes())).containsExactly(0L, 1L, 2L);
        assertThat(machine.appliedCommands()).isEqualTo(3);
    }

    @Test
    void aRefusedCommandIsAnsweredAsRejectedAndTheOthersStillApply() {
        List<EntryFormat.Result> results = EntryFormat.decodeReply(
                machine.applyEntry(1, entry(10, "a", CommandLog.REJECT, "b")));
        assertThat(log.commands()).containsExactly("a", "b");
        assertThat(results).extracting(EntryFormat.Result::status)
                .containsExactly(EntryFormat.OK, EntryFormat.REJECTED, EntryFormat.OK);
        assertThat(new String(results.get(1).bytes(), UTF_8)).contains("refused");
    }

    @Test
    void aDamagedEntryIsRefusedAndAppliesNothing() {
        byte[] damaged = entry(10, "a", "b");
        damaged[damaged.length - 1] ^= 1;
        assertThatThrownBy(() -> machine.applyEntry(1, damaged)).isInstanceOf(IllegalArgumentException.class);
        assertThat(log.commands()).isEmpty();
    }

    @Test
    void timeNeverGoesBackEvenWhenAnEntryCarriesAnEarlierClock() {
        List<Long> times = new ArrayList<>();
        ReplicatedStateMachine timed = new ReplicatedStateMachine(GROUP, new ReplicatedState() {
            @Override
            public byte[] apply(byte[] command, long timeMillis) {
                times.add(timeMillis);
                return new byte[0];
            }

            @Override
            public void writeSnapshot(OutputStream out) {}

            @Override
            public void readSnapshot(InputStream in) {}
        });
        timed.applyEntry(1, entry(100, "x", "y"));
        timed.applyEntry(2, entry(50, "z")); // a new leader whose clock is behind
        timed.applyEntry(3, entry(200, "w"));
        assertThat(times).containsExactly(100L, 100L, 100L, 200L);
    }

    private static byte[] entry(long timeMillis, String... commands) {
        List<byte[]> bytes = new ArrayList<>();
        for (String c : commands) {
            bytes.add(c.getBytes(UTF_8));
        }
        return EntryFormat.encodeEntry(timeMillis, bytes);
    }
}
