package io.holdfast.bench.cluster;

import io.holdfast.cluster.ReplicatedState;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.zip.CRC32C;

/**
 * A state that costs almost nothing to apply, so the benchmark measures replication: it counts commands and
 * folds each into a running CRC (equal on every replica if they applied the same commands in the same order).
 * Snapshot, version 1: u16 version, i64 count, i32 crc. Apply thread only, except {@link #count()}.
 */
final class CountingState implements ReplicatedState {
    private static final byte[] EMPTY = new byte[0];
    private volatile long count;
    private int crc;

    @Override
    public byte[] apply(byte[] command, long timeMillis) {
        CRC32C c = new CRC32C();
        c.update(crc);
        c.update(command);
        crc = (int) c.getValue();
        count++;
        return EMPTY;
    }

    @Override
    public void writeSnapshot(OutputStream out) throws IOException {
        DataOutputStream data = new DataOutputStream(out);
        data.writeShort(1);
        data.writeLong(count);
        data.writeInt(crc);
        data.flush();
    }

    @Override
    public void readSnapshot(InputStream in) throws IOException {
        DataInputStream data = new DataInputStream(in);
        if (data.readShort() != 1) {
            throw new IOException("not a version-1 counting state");
        }
        count = data.readLong();
        crc = data.readInt();
    }

    long count() {
        return count;
    }
}
