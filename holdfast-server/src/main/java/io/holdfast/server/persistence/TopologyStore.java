package io.holdfast.server.persistence;

import io.holdfast.core.Binding;
import io.holdfast.core.Broker;
import io.holdfast.core.Exchange;
import io.holdfast.core.ExchangeType;
import io.holdfast.core.Queue;
import io.holdfast.core.Topology;
import io.holdfast.core.VirtualHost;
import io.holdfast.protocol.FieldTable;
import io.holdfast.protocol.WireFormat;
import io.holdfast.store.AtomicFile;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The durable topology (exchanges, queues and bindings marked durable) as one small file, rewritten
 * whole with write-temp, fsync, rename, fsync-dir ({@link AtomicFile}) each time it changes, before
 * the client hears declare-ok. Layout after AtomicFile's header, strings as AMQP short strings and
 * arguments as AMQP field tables:
 *
 * <pre>
 * version u8 (1)
 * exchanges: count u32, each: vhost | name | type | autoDelete u8 | internal u8 | arguments
 * queues:    count u32, each: vhost | name | autoDelete u8 | arguments
 * bindings:  count u32, each: vhost | source | destination | toQueue u8 | routingKey | arguments
 * </pre>
 */
public final class TopologyStore {
    /** The file's name in the data directory. */
    public static final String FILE_NAME = "topology.meta";
    private static final int VERSION = 1;
    private final Path file;

    public TopologyStore(Path dataDir) {
        this.file = dataDir.resolve(FILE_NAME);
    }

    public void save(Broker broker) {
        ByteBuf b = Unpooled.buffer();
        try {
            b.writeByte(VERSION);
            writeSection(b, () -> {
                int n = 0;
                for (VirtualHost v : broker.virtualHosts()) {
                    for (Exchange x : v.exchanges()) {
                        if (x.durable() && !Topology.predeclared(x)) {
                            WireFormat.writeShortString(b, v.name());
                            WireFormat.writeShortString(b, x.name());
                            WireFormat.writeShortString(b, x.type().wireName());
                            b.writeByte(x.autoDelete() ? 1 : 0);
                            b.writeByte(x.internal() ? 1 : 0);
                            FieldTable.write(b, x.arguments());
                            n++;
                        }
                    }
                }
                return n;
            });
            writeSection(b, () -> {
                int n = 0;
                for (VirtualHost v : broker.virtualHosts()) {
                    for (Queue q : v.queues()) {
                        if (q.durable() && !q.exclusive()) {
                            WireFormat.writeShortString(b, v.name());
                            WireFormat.writeShortString(b, q.name());
                            b.writeByte(q.autoDelete() ? 1 : 0);
                            FieldTable.write(b, q.arguments());
                            n++;
                        }
                    }
                }
                return n;
            });
            writeSection(b, () -> {
                int n = 0;
                for (VirtualHost v : broker.virtualHosts()) {
                    for (Exchange x : v.exchanges()) {
                        for (Binding bd : x.bindings()) {
                            if (x.durable() && durableDestination(v, bd)) {
                                WireFormat.writeShortString(b, v.name());
                                WireFormat.writeShortString(b, bd.source());
                                WireFormat.writeShortString(b, bd.destination());
                                b.writeByte(bd.toQueue() ? 1 : 0);
                                WireFormat.writeShortString(b, bd.routingKey());
                                FieldTable.write(b, bd.arguments());
                                n++;
                            }
                        }
                    }
                }
                return n;
            });
            byte[] bytes = new byte[b.readableBytes()];
            b.readBytes(bytes);
            AtomicFile.write(file, bytes);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot save the durable topology to " + file, e);
        } finally {
            b.release();
        }
    }

    /** A u32 count, then the entries {@code entries} writes; it returns how many it wrote. */
    private static void writeSection(ByteBuf b, java.util.function.IntSupplier entries) {
        int countAt = b.writerIndex();
        b.writeInt(0);
        b.setInt(countAt, entries.getAsInt());
    }

    private static boolean durableDestination(VirtualHost v, Binding b) {
        if (b.toQueue()) {
            Queue q = v.queue(b.destination());
            return q != null && q.durable() && !q.exclusive();
        }
        Exchange x = v.exchange(b.destination());
        return x != null && x.durable();
    }

    /** Restores the saved topology into the broker; returns false if there was none. */
    public boolean load(Broker broker) throws IOException {
        Optional<byte[]> content = AtomicFile.read(file);
        if (content.isEmpty()) {
            return false;
        }
        ByteBuf b = Unpooled.wrappedBuffer(content.get());
        int version = b.readUnsignedByte();
        if (version != VERSION) {
            throw new IOException(file + " has format version " + version + "; this Holdfast reads " + VERSION);
        }
        Topology t = broker.topology();
        for (int i = b.readInt(); i > 0; i--) {
            String vhost = WireFormat.readShortString(b);
            String name = WireFormat.readShortString(b);
            ExchangeType type = ExchangeType.fromWireName(WireFormat.readShortString(b));
            boolean autoDelete = b.readByte() != 0;
            boolean internal = b.readByte() != 0;
            t.restoreExchange(vhost, name, type, autoDelete, internal, FieldTable.read(b));
        }
        for (int i = b.readInt(); i > 0; i--) {
            String vhost = WireFormat.readShortString(b);
            String name = WireFormat.readShortString(b);
            boolean autoDelete = b.readByte() != 0;
            t.restoreQueue(vhost, name, autoDelete, FieldTable.read(b));
        }
        for (int i = b.readInt(); i > 0; i--) {
            String vhost = WireFormat.readShortString(b);
            String source = WireFormat.readShortString(b);
            String destination = WireFormat.readShortString(b);
            boolean toQueue = b.readByte() != 0;
            String key = WireFormat.readShortString(b);
            t.restoreBinding(vhost, new Binding(source, destination, toQueue, key, FieldTable.read(b)));
        }
        return true;
    }
}
