package io.holdfast.cluster;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class EntryFormatTest {
    private static final List<byte[]> COMMANDS = List.of("a".getBytes(UTF_8), new byte[0], "ccc".getBytes(UTF_8));

    @Test
    void anEntryReadsBackAsWritten() {
        EntryFormat.Entry entry = EntryFormat.decodeEntry(EntryFormat.encodeEntry(1234L, COMMANDS));
        assertThat(entry.timeMillis()).isEqualTo(1234L);
        assertThat(entry.commands()).containsExactlyElementsOf(COMMANDS);
        assertThat(EntryFormat.encodeEntry(0, COMMANDS)).hasSize((int) EntryFormat.entryBytes(3, 4));
    }

    @Test
    void aReplyReadsBackAsWritten() {
        List<EntryFormat.Result> results = List.of(new EntryFormat.Result(EntryFormat.OK, "r".getBytes(UTF_8)),
                new EntryFormat.Result(EntryFormat.REJECTED, "no".getBytes(UTF_8)));
        List<EntryFormat.Result> read = EntryFormat.decodeReply(EntryFormat.encodeReply(results));
        assertThat(read).hasSize(2);
        assertThat(read.get(0).status()).isEqualTo(EntryFormat.OK);
        assertThat(read.get(0).bytes()).isEqualTo("r".getBytes(UTF_8));
        assertThat(read.get(1).status()).isEqualTo(EntryFormat.REJECTED);
        assertThat(read.get(1).bytes()).isEqualTo("no".getBytes(UTF_8));
    }

    @Test
    void everySingleFlippedBitOfAnEntryIsDetected() {
        byte[] bytes = EntryFormat.encodeEntry(99L, COMMANDS);
        for (int bit = 0; bit < bytes.length * 8; bit++) {
            byte[] damaged = Arrays.copyOf(bytes, bytes.length);
            damaged[bit / 8] ^= (byte) (1 << (bit % 8));
            assertThatThrownBy(() -> EntryFormat.decodeEntry(damaged)).as("bit %d", bit)
                    .isInstanceOf(IllegalArgumentException.class);
        }
    }

    @Test
    void aCutEntryIsDetectedAtEveryLength() {
        byte[] bytes = EntryFormat.encodeEntry(7L, COMMANDS);
        for (int length = 0; length < bytes.length; length++) {
            byte[] cut = Arrays.copyOf(bytes, length);
            assertThatThrownBy(() -> EntryFormat.decodeEntry(cut)).as("length %d", length)
                    .isInstanceOf(IllegalArgumentException.class);
        }
    }

    @Test
    void anotherVersionIsRefusedByName() {
        byte[] bytes = EntryFormat.encodeEntry(7L, COMMANDS);
        bytes[5] = 2;
        assertThatThrownBy(() -> EntryFormat.decodeEntry(bytes)).hasMessageContaining("version 2");
    }

    @Test
    void randomBytesAreNeverTakenForAnEntry() {
        long seed = new Random().nextLong();
        Random random = new Random(seed);
        for (int i = 0; i < 1000; i++) {
            byte[] junk = new byte[random.nextInt(64)];
            random.nextBytes(junk);
            assertThatThrownBy(() -> EntryFormat.decodeEntry(junk)).as("seed %d", seed)
                    .isInstanceOf(IllegalArgumentException.class);
        }
    }
}
