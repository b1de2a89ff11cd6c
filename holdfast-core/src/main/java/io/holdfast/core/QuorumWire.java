package io.holdfast.core;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * The building blocks of a replicated queue's bytes (its commands, results and snapshots), big-endian:
 *
 * <pre>
 * str     := u16 length | UTF-8 bytes
 * bytes   := u32 length | bytes                        (at most {@link #BYTES_MAX})
 * channel := str node | u64 channel                    ({@link RemoteChannel})
 * message := str exchange | str routingKey | bytes properties | u8 persistent (0/1) | i64 expirationMillis
 *            | bytes body                              ({@link Message}; headers travel inside properties)
 * </pre>
 *
 * Reading checks every length before it allocates, so damaged bytes fail with an {@link IOException}, never with
 * an out-of-memory. Stateless; any thread.
 */
public final class QuorumWire {
    /** The largest byte string read back: a message body is at most 128 MiB, as the protocol's limit. */
    public static final int BYTES_MAX = 128 << 20;

    private QuorumWire() {}

    public static void writeString(DataOutput out, String s) throws IOException {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        if (b.length > 0xFFFF) {
            throw new IOException("a string of " + b.length + " bytes does not fit in 65535");
        }
        out.writeShort(b.length);
        out.write(b);
    }

    public static String readString(DataInput in) throws IOException {
        byte[] b = new byte[in.readUnsignedShort()];
        in.readFully(b);
        return new String(b, StandardCharsets.UTF_8);
    }

    public static void writeBytes(DataOutput out, byte[] b) throws IOException {
        out.writeInt(b.length);
        out.write(b);
    }

    public static byte[] readBytes(DataInput in) throws IOException {
        int n = in.readInt();
        if (n < 0 || n > BYTES_MAX) {
            throw new IOException("a byte string of " + (n & 0xFFFFFFFFL) + " bytes is over " + BYTES_MAX);
        }
        byte[] b = new byte[n];
        in.readFully(b);
        return b;
    }

    public static void writeChannel(DataOutput out, RemoteChannel c) throws IOException {
        writeString(out, c.node());
        out.writeLong(c.channel());
    }

    public static RemoteChannel readChannel(DataInput in) throws IOException {
        return new RemoteChannel(readString(in), in.readLong());
    }

    public static void writeMessage(DataOutput out, Message m) throws IOException {
        writeString(out, m.exchange());
        writeString(out, m.routingKey());
        writeBytes(out, m.properties());
        out.writeBoolean(m.persistent());
        out.writeLong(m.expirationMillis());
        writeBytes(out, m.body());
    }

    public static Message readMessage(DataInput in) throws IOException {
        String exchange = readString(in);
        String routingKey = readString(in);
        byte[] properties = readBytes(in);
        boolean persistent = in.readBoolean();
        long expiration = in.readLong();
        byte[] body = readBytes(in);
        return new Message(exchange, routingKey, properties, Map.of(), persistent, expiration, body);
    }
}
