package io.holdfast.cluster;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The simplest replicated state: the commands in the order they were applied. A command is answered with its
 * position (u64). A command "reject" is refused (throws, changing nothing). Snapshot format, version 1: u32 magic
 * "TCLG", u16 version, u32 count, then count × (u32 length, UTF-8 bytes); {@link SnapshotFile} adds the CRC.
 * Reads from test threads are synchronised with the apply thread.
 */
final class CommandLog implements ReplicatedState {
    static final String REJECT = "reject";
    private static final int MAGIC = 0x54434C47;

    private final List<String> commands = new ArrayList<>();
    private int snapshotsRead;

    @Override
    public synchronized byte[] apply(byte[] command, long timeMillis) {
        String text = new String(command, StandardCharsets.UTF_8);
        if (text.equals(REJECT)) {
            throw new IllegalArgumentException("refused: " + text);
        }
        commands.add(text);
        return ByteBuffer.allocate(8).putLong(commands.size() - 1).array();
    }

    @Override
    public synchronized void writeSnapshot(OutputStream out) throws IOException {
        DataOutputStream data = new DataOutputStream(out);
        data.writeInt(MAGIC);
        data.writeShort(1);
        data.writeInt(commands.size());
        for (String command : commands) {
            byte[] bytes = command.getBytes(StandardCharsets.UTF_8);
            data.writeInt(bytes.length);
            data.write(bytes);
        }
        data.flush();
    }

    @Override
    public synchronized void readSnapshot(InputStream in) throws IOException {
        DataInputStream data = new DataInputStream(in);
        if (data.readInt() != MAGIC || data.readShort() != 1) {
            throw new IOException("not a version-1 command log snapshot");
        }
        int count = data.readInt();
        List<String> read = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            byte[] bytes = new byte[data.readInt()];
            data.readFully(bytes);
            read.add(new String(bytes, StandardCharsets.UTF_8));
        }
        commands.clear();
        commands.addAll(read);
        snapshotsRead++;
    }

    synchronized List<String> commands() {
        return List.copyOf(commands);
    }

    synchronized int size() {
        return commands.size();
    }

    synchronized int snapshotsRead() {
        return snapshotsRead;
    }

    static long position(byte[] result) {
        return ByteBuffer.wrap(result).getLong();
    }
}
