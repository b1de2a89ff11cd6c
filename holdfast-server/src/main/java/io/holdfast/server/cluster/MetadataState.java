package io.holdfast.server.cluster;

import io.holdfast.cluster.ReplicatedState;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;

/**
 * The cluster's metadata, the same on every node because every node applies the same commands from the metadata
 * group's log: who may do what (the {@link io.holdfast.server.auth.AccessControl} state, as its bytes) and the
 * durable exchanges. What a command changes is then carried out on this node by {@link Effects}.
 *
 * <p>Commands (integers big-endian, strings as {@link DataOutputStream#writeUTF}): {@code u8 kind, utf origin,
 * i64 seq}, then by kind
 * <pre>
 *   1 BOOTSTRAP_ACCESS  i32 n, n bytes        the first node's users and vhosts; ignored once there are some
 *   2 SET_ACCESS        i32 n, prior, i32 m, next   applied only if the state is still prior (else CONFLICT)
 *   3 DECLARE_EXCHANGE  utf vhost, utf name, utf type, u8 auto_delete, u8 internal, i32 n, arguments (field table)
 *   4 DELETE_EXCHANGE   utf vhost, utf name
 *   5 DECLARE_QUORUM    utf vhost, utf name, i32 n, arguments (field table)   ignored if it exists
 *   6 DELETE_QUORUM     utf vhost, utf name
 *   7 BIND              utf vhost, utf source, utf destination, u8 to_queue, utf key, i32 n, arguments
 *   8 UNBIND            the same
 * </pre>
 * Bindings are those to a quorum queue and those between durable exchanges; classic queues and their bindings stay
 * on their node. {@code origin} and
 * {@code seq} name the command so the node that submitted it learns when its own replica applied it.
 *
 * <p>Snapshot: {@code i32 version 2, u8 has_access, [i32 n, access bytes], i32 exchanges, then each exchange as in
 * DECLARE_EXCHANGE, i32 quorum queues, then each as in DECLARE_QUORUM, i32 bindings, then each as in BIND} (versions 1,
 * without the queues, and 2, without the bindings, are read too).
 *
 * <p>Threads: the group's apply thread only (see {@link ReplicatedState}).
 */
final class MetadataState implements ReplicatedState {
    static final byte BOOTSTRAP_ACCESS = 1;
    static final byte SET_ACCESS = 2;
    static final byte DECLARE_EXCHANGE = 3;
    static final byte DELETE_EXCHANGE = 4;
    static final byte DECLARE_QUORUM = 5;
    static final byte DELETE_QUORUM = 6;
    static final byte BIND = 7;
    static final byte UNBIND = 8;
    static final String NOT_FORMED = "the cluster's users and virtual hosts are not set up yet (no majority has "
            + "formed the cluster); try again";
    static final String CONFLICT = "users, virtual hosts or permissions were changed at the same time on another "
            + "node; try again";
    private static final int SNAPSHOT_VERSION = 3;
    /** No access state or argument table comes near this (a command must fit in one 1 MiB log entry). */
    private static final int BYTES_MAX = 64 << 20;

    /** A durable exchange as the cluster knows it; the arguments stay encoded (a field table). */
    record ExchangeDecl(String vhost, String name, String type, boolean autoDelete, boolean internal,
                        byte[] arguments) {
        String key() {
            return vhost + '\0' + name;
        }

        void write(DataOutputStream out) throws IOException {
            out.writeUTF(vhost);
            out.writeUTF(name);
            out.writeUTF(type);
            out.writeBoolean(autoDelete);
            out.writeBoolean(internal);
            out.writeInt(arguments.length);
            out.write(arguments);
        }

        static ExchangeDecl read(DataInputStream in) throws IOException {
            return new ExchangeDecl(in.readUTF(), in.readUTF(), in.readUTF(), in.readBoolean(), in.readBoolean(),
                    bytes(in));
        }
    }

    /** A quorum queue as the cluster knows it: every node holds a replica; the arguments stay encoded. */
    record QuorumDecl(String vhost, String name, byte[] arguments) {
        String key() {
            return vhost + '\0' + name;
        }

        void write(DataOutputStream out) throws IOException {
            out.writeUTF(vhost);
            out.writeUTF(name);
            out.writeInt(arguments.length);
            out.write(arguments);
        }

        static QuorumDecl read(DataInputStream in) throws IOException {
            return new QuorumDecl(in.readUTF(), in.readUTF(), bytes(in));
        }
    }

    /** A replicated binding; the arguments stay encoded (a field table), and are part of its identity. */
    record BindingDecl(String vhost, String source, String destination, boolean toQueue, String key,
                       byte[] arguments) {
        String id() {
            return vhost + '\0' + source + '\0' + destination + '\0' + toQueue + '\0' + key + '\0'
                    + java.util.HexFormat.of().formatHex(arguments);
        }

        void write(DataOutputStream out) throws IOException {
            out.writeUTF(vhost);
            out.writeUTF(source);
            out.writeUTF(destination);
            out.writeBoolean(toQueue);
            out.writeUTF(key);
            out.writeInt(arguments.length);
            out.write(arguments);
        }

        static BindingDecl read(DataInputStream in) throws IOException {
            return new BindingDecl(in.readUTF(), in.readUTF(), in.readUTF(), in.readBoolean(), in.readUTF(),
                    bytes(in));
        }
    }

    /** What applying a command or a snapshot means on this node. Called on the apply thread; must not block long. */
    interface Effects {
        void accessChanged(byte[] access);

        void exchangeDeclared(ExchangeDecl x);

        void exchangeDeleted(String vhost, String name);

        void quorumQueueDeclared(QuorumDecl q);

        void quorumQueueDeleted(String vhost, String name);

        void bound(BindingDecl b);

        void unbound(BindingDecl b);

        /** The command {@code seq} from {@code origin} was applied here; {@code refusal} is null if it took effect. */
        void applied(String origin, long seq, String refusal);
    }

    private final Effects effects;
    private byte[] access; // null until the first node's bootstrap is applied
    private Map<String, ExchangeDecl> exchanges = new TreeMap<>();
    private Map<String, QuorumDecl> quorumQueues = new TreeMap<>();
    private Map<String, BindingDecl> bindings = new TreeMap<>();

    MetadataState(Effects effects) {
        this.effects = effects;
    }

    @Override
    public byte[] apply(byte[] command, long timeMillis) {
        String origin;
        long seq;
        String refusal;
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(command))) {
            byte kind = in.readByte();
            origin = in.readUTF();
            seq = in.readLong();
            refusal = switch (kind) {
                case BOOTSTRAP_ACCESS -> bootstrap(bytes(in));
                case SET_ACCESS -> setAccess(bytes(in), bytes(in));
                case DECLARE_EXCHANGE -> declare(ExchangeDecl.read(in));
                case DELETE_EXCHANGE -> delete(in.readUTF(), in.readUTF());
                case DECLARE_QUORUM -> declareQuorum(QuorumDecl.read(in));
                case DELETE_QUORUM -> deleteQuorum(in.readUTF(), in.readUTF());
                case BIND -> bind(BindingDecl.read(in));
                case UNBIND -> unbind(BindingDecl.read(in));
                default -> throw new IllegalArgumentException("unknown metadata command kind " + kind);
            };
        } catch (IOException e) {
            throw new IllegalArgumentException("a damaged metadata command: " + e.getMessage(), e);
        }
        effects.applied(origin, seq, refusal);
        return new byte[0];
    }

    private String bootstrap(byte[] first) {
        if (access == null) {
            access = first;
            effects.accessChanged(first);
        }
        return null;
    }

    private String setAccess(byte[] prior, byte[] next) {
        if (access == null) {
            return NOT_FORMED;
        }
        if (!Arrays.equals(access, prior)) {
            return CONFLICT;
        }
        access = next;
        effects.accessChanged(next);
        return null;
    }

    private String declare(ExchangeDecl x) {
        if (exchanges.putIfAbsent(x.key(), x) == null) {
            effects.exchangeDeclared(x);
        }
        return null;
    }

    private String delete(String vhost, String name) {
        if (exchanges.remove(vhost + '\0' + name) != null) {
            bindings.values().removeIf(b -> b.vhost().equals(vhost)
                    && (b.source().equals(name) || !b.toQueue() && b.destination().equals(name)));
            effects.exchangeDeleted(vhost, name);
        }
        return null;
    }

    private String declareQuorum(QuorumDecl q) {
        if (quorumQueues.putIfAbsent(q.key(), q) == null) {
            effects.quorumQueueDeclared(q);
        }
        return null;
    }

    private String deleteQuorum(String vhost, String name) {
        if (quorumQueues.remove(vhost + '\0' + name) != null) {
            bindings.values().removeIf(b -> b.vhost().equals(vhost) && b.toQueue() && b.destination().equals(name));
            effects.quorumQueueDeleted(vhost, name);
        }
        return null;
    }

    private String bind(BindingDecl b) {
        if (bindings.putIfAbsent(b.id(), b) == null) {
            effects.bound(b);
        }
        return null;
    }

    private String unbind(BindingDecl b) {
        if (bindings.remove(b.id()) != null) {
            effects.unbound(b);
        }
        return null;
    }

    @Override
    public void writeSnapshot(OutputStream stream) throws IOException {
        DataOutputStream out = new DataOutputStream(stream);
        out.writeInt(SNAPSHOT_VERSION);
        out.writeBoolean(access != null);
        if (access != null) {
            out.writeInt(access.length);
            out.write(access);
        }
        out.writeInt(exchanges.size());
        for (ExchangeDecl x : exchanges.values()) {
            x.write(out);
        }
        out.writeInt(quorumQueues.size());
        for (QuorumDecl q : quorumQueues.values()) {
            q.write(out);
        }
        out.writeInt(bindings.size());
        for (BindingDecl b : bindings.values()) {
            b.write(out);
        }
        out.flush();
    }

    /** Replaces the state, and brings this node's access state and exchanges to it. */
    @Override
    public void readSnapshot(InputStream stream) throws IOException {
        DataInputStream in = new DataInputStream(stream);
        int version = in.readInt();
        if (version < 1 || version > SNAPSHOT_VERSION) {
            throw new IOException("metadata snapshot version " + version + "; this Holdfast reads " + SNAPSHOT_VERSION);
        }
        byte[] nextAccess = in.readBoolean() ? bytes(in) : null;
        Map<String, ExchangeDecl> next = new TreeMap<>();
        int n = in.readInt();
        for (int i = 0; i < n; i++) {
            ExchangeDecl x = ExchangeDecl.read(in);
            next.put(x.key(), x);
        }
        Map<String, QuorumDecl> nextQueues = new TreeMap<>();
        int queues = version == 1 ? 0 : in.readInt();
        for (int i = 0; i < queues; i++) {
            QuorumDecl q = QuorumDecl.read(in);
            nextQueues.put(q.key(), q);
        }
        Map<String, BindingDecl> nextBindings = new TreeMap<>();
        int bound = version < 3 ? 0 : in.readInt();
        for (int i = 0; i < bound; i++) {
            BindingDecl b = BindingDecl.read(in);
            nextBindings.put(b.id(), b);
        }
        Map<String, ExchangeDecl> before = exchanges;
        Map<String, QuorumDecl> queuesBefore = quorumQueues;
        Map<String, BindingDecl> bindingsBefore = bindings;
        access = nextAccess;
        exchanges = next;
        quorumQueues = nextQueues;
        bindings = nextBindings;
        if (nextAccess != null) {
            effects.accessChanged(nextAccess);
        }
        before.forEach((key, x) -> {
            if (!next.containsKey(key)) {
                effects.exchangeDeleted(x.vhost(), x.name());
            }
        });
        next.values().forEach(effects::exchangeDeclared);
        queuesBefore.forEach((key, q) -> {
            if (!nextQueues.containsKey(key)) {
                effects.quorumQueueDeleted(q.vhost(), q.name());
            }
        });
        nextQueues.values().forEach(effects::quorumQueueDeclared);
        bindingsBefore.forEach((id, b) -> {
            if (!nextBindings.containsKey(id)) {
                effects.unbound(b);
            }
        });
        nextBindings.values().forEach(effects::bound);
    }

    // ---- commands, as the submitting node writes them ----

    static byte[] bootstrapAccess(String origin, long seq, byte[] access) {
        return command(BOOTSTRAP_ACCESS, origin, seq, out -> writeBytes(out, access));
    }

    static byte[] setAccess(String origin, long seq, byte[] prior, byte[] next) {
        return command(SET_ACCESS, origin, seq, out -> {
            writeBytes(out, prior);
            writeBytes(out, next);
        });
    }

    static byte[] declareExchange(String origin, long seq, ExchangeDecl x) {
        return command(DECLARE_EXCHANGE, origin, seq, x::write);
    }

    static byte[] deleteExchange(String origin, long seq, String vhost, String name) {
        return command(DELETE_EXCHANGE, origin, seq, out -> {
            out.writeUTF(vhost);
            out.writeUTF(name);
        });
    }

    static byte[] declareQuorum(String origin, long seq, QuorumDecl q) {
        return command(DECLARE_QUORUM, origin, seq, q::write);
    }

    static byte[] deleteQuorum(String origin, long seq, String vhost, String name) {
        return command(DELETE_QUORUM, origin, seq, out -> {
            out.writeUTF(vhost);
            out.writeUTF(name);
        });
    }

    static byte[] bind(String origin, long seq, BindingDecl b) {
        return command(BIND, origin, seq, b::write);
    }

    static byte[] unbind(String origin, long seq, BindingDecl b) {
        return command(UNBIND, origin, seq, b::write);
    }

    private interface Body {
        void write(DataOutputStream out) throws IOException;
    }

    private static byte[] command(byte kind, String origin, long seq, Body body) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeByte(kind);
            out.writeUTF(origin);
            out.writeLong(seq);
            body.write(out);
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a byte array does not fail
        }
        return bytes.toByteArray();
    }

    private static void writeBytes(DataOutputStream out, byte[] b) throws IOException {
        out.writeInt(b.length);
        out.write(b);
    }

    private static byte[] bytes(DataInputStream in) throws IOException {
        int n = in.readInt();
        if (n < 0 || n > BYTES_MAX) {
            throw new IOException("a length of " + n + " bytes");
        }
        byte[] b = in.readNBytes(n);
        if (b.length != n) {
            throw new IOException("cut short: " + b.length + " of " + n + " bytes");
        }
        return b;
    }
}
