package io.holdfast.cluster;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.apache.ratis.util.MD5FileUtil;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SnapshotFileTest {
    private static final SnapshotFile.Position POSITION = new SnapshotFile.Position(3, 41, 1_700_000_000_000L);

    @TempDir
    Path dir;

    @Test
    void aSnapshotReadsBackWithItsPosition() throws IOException {
        Path file = dir.resolve("snapshot.3_41");
        CommandLog written = logOf("a", "b", "c");
        SnapshotFile.write(file, POSITION, written);

        CommandLog read = new CommandLog();
        assertThat(SnapshotFile.read(file, read)).isEqualTo(POSITION);
        assertThat(read.commands()).containsExactly("a", "b", "c");
        assertThat(dir.resolve("snapshot.3_41.tmp")).doesNotExist();
        // Ratis checks this MD5 when it sends the file to a follower, and keeps only snapshots that have one
        assertThat(MD5FileUtil.readStoredMd5ForFile(file.toFile())).isNotNull();
        MD5FileUtil.verifySavedMD5(file.toFile(), MD5FileUtil.readStoredMd5ForFile(file.toFile()));
    }

    @Test
    void aFlippedByteAnywhereIsDetectedBeforeTheStateSeesAByte() throws IOException {
        Path file = dir.resolve("snapshot.3_41");
        SnapshotFile.write(file, POSITION, logOf("hello", "world"));
        byte[] bytes = Files.readAllBytes(file);
        for (int i = 0; i < bytes.length; i++) {
            byte[] damaged = Arrays.copyOf(bytes, bytes.length);
            damaged[i] ^= 0x10;
            Files.write(file, damaged);
            UntouchableState state = new UntouchableState();
            int at = i;
            assertThatThrownBy(() -> SnapshotFile.read(file, state)).as("byte %d", at)
                    .isInstanceOf(IOException.class).hasMessageContaining("is damaged");
            assertThat(state.touched).as("byte %d", at).isFalse();
        }
    }

    @Test
    void aCutSnapshotIsDetectedAtEveryLength() throws IOException {
        Path file = dir.resolve("snapshot.3_41");
        SnapshotFile.write(file, POSITION, logOf("hello"));
        byte[] bytes = Files.readAllBytes(file);
        for (int length = 0; length < bytes.length; length++) {
            Files.write(file, Arrays.copyOf(bytes, length));
            int at = length;
            assertThatThrownBy(() -> SnapshotFile.read(file, new UntouchableState())).as("length %d", at)
                    .isInstanceOf(IOException.class).hasMessageContaining("is damaged");
        }
    }

    @Test
    void aStateThatLeavesItsBytesUnreadIsRefused() throws IOException {
        Path file = dir.resolve("snapshot.3_41");
        SnapshotFile.write(file, POSITION, logOf("a"));
        assertThatThrownBy(() -> SnapshotFile.read(file, new UntouchableState() {
            @Override
            public void readSnapshot(InputStream in) throws IOException {
                in.read();
            }
        })).hasMessageContaining("unread");
    }

    @Test
    void aNewSnapshotReplacesALeftoverTemporaryFile() throws IOException {
        Path file = dir.resolve("snapshot.3_41");
        Files.write(dir.resolve("snapshot.3_41.tmp"), "half written before a crash".getBytes(UTF_8));
        SnapshotFile.write(file, POSITION, logOf("x"));
        CommandLog read = new CommandLog();
        SnapshotFile.read(file, read);
        assertThat(read.commands()).containsExactly("x");
    }

    private static CommandLog logOf(String... commands) {
        CommandLog log = new CommandLog();
        for (String c : commands) {
            log.apply(c.getBytes(UTF_8), 0);
        }
        return log;
    }

    /** Records whether the reader ever handed it the state's bytes. */
    private static class UntouchableState implements ReplicatedState {
        boolean touched;

        @Override
        public byte[] apply(byte[] command, long timeMillis) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void writeSnapshot(OutputStream out) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void readSnapshot(InputStream in) throws IOException {
            touched = true;
            in.transferTo(OutputStream.nullOutputStream());
        }
    }
}
