package io.holdfast.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AtomicFileTest {
    @TempDir
    Path dir;

    @Test
    void writtenContentReadsBackAndAReplacementWins() throws IOException {
        Path file = dir.resolve("metadata.snapshot");
        AtomicFile.write(file, "first".getBytes(StandardCharsets.UTF_8));
        AtomicFile.write(file, "second".getBytes(StandardCharsets.UTF_8));
        assertThat(AtomicFile.read(file)).hasValueSatisfying(c -> assertThat(c).asString().isEqualTo("second"));
        assertThat(dir.resolve("metadata.snapshot.tmp")).doesNotExist();
        AtomicFile.write(file, new byte[0]);
        assertThat(AtomicFile.read(file)).hasValueSatisfying(c -> assertThat(c).isEmpty());
    }

    @Test
    void missingFileReadsAsEmpty() throws IOException {
        assertThat(AtomicFile.read(dir.resolve("absent"))).isEmpty();
    }

    @Test
    void leftoverTemporaryFileFromACrashIsIgnoredAndReplaced() throws IOException {
        Path file = dir.resolve("meta");
        AtomicFile.write(file, "kept".getBytes(StandardCharsets.UTF_8));
        Files.write(dir.resolve("meta.tmp"), "half-written garbage".getBytes(StandardCharsets.UTF_8));
        assertThat(AtomicFile.read(file)).hasValueSatisfying(c -> assertThat(c).asString().isEqualTo("kept"));
        AtomicFile.write(file, "next".getBytes(StandardCharsets.UTF_8));
        assertThat(AtomicFile.read(file)).hasValueSatisfying(c -> assertThat(c).asString().isEqualTo("next"));
    }

    @Test
    void everySingleBitFlipIsDetectedWithAClearMessage() throws IOException {
        Path file = dir.resolve("meta");
        AtomicFile.write(file, "vhosts, users, exchanges, queues".getBytes(StandardCharsets.UTF_8));
        byte[] good = Files.readAllBytes(file);
        for (int bit = 0; bit < good.length * 8; bit++) {
            byte[] damaged = good.clone();
            damaged[bit / 8] ^= (byte) (1 << (bit % 8));
            Files.write(file, damaged);
            assertThatThrownBy(() -> AtomicFile.read(file)).as("bit %d", bit)
                    .isInstanceOf(IOException.class).hasMessageContaining("meta is damaged");
        }
    }

    @Test
    void truncatedOrExtendedFileIsDetected() throws IOException {
        Path file = dir.resolve("meta");
        AtomicFile.write(file, "content".getBytes(StandardCharsets.UTF_8));
        byte[] good = Files.readAllBytes(file);
        for (int length = 0; length < good.length; length++) {
            Files.write(file, Arrays.copyOf(good, length));
            assertThatThrownBy(() -> AtomicFile.read(file)).as("length %d", length).isInstanceOf(IOException.class);
        }
        Files.write(file, Arrays.copyOf(good, good.length + 1));
        assertThatThrownBy(() -> AtomicFile.read(file)).isInstanceOf(IOException.class)
                .hasMessageContaining("announces 7 bytes");
    }
}
