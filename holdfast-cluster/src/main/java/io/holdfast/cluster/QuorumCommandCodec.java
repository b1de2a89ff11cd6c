package io.holdfast.cluster;

import io.holdfast.core.BrokerException;
import io.holdfast.core.ErrorCode;
import io.holdfast.core.QuorumCommand;
import io.holdfast.core.QuorumEffect;
import io.holdfast.core.QuorumQueue;
import io.holdfast.core.QuorumWire;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * The bytes of a replicated queue's commands (what {@link CommandSubmitter#submit} carries into the log) and of
 * their results (what its future completes with). Big-endian; {@code str}, {@code channel} and {@code message} are
 * {@link QuorumWire}'s.
 *
 * <pre>
 * command := u8 version (1) | u8 kind | body
 *   1 enqueue    u32 n | n × (channel publisher | i64 publishSeq | message)
 *   2 attach     channel | str tag | i32 prefetch | u8 flags (1 noAck, 2 exclusive) | i32 priority
 *   3 settle     channel | i64 deliveryId | u8 multiple | u8 disposition (0 ack, 1 requeue, 2 discard)
 *   4 cancel     channel | str tag
 *   5 close      channel
 *   6 recover    channel
 *   7 node-down  str node
 *   8 purge      (nothing)
 *   9 get        channel | u8 noAck
 *  10 tick       (nothing)
 *
 * result  := u8 version (1) | u8 status | body
 *   0 ok         u32 count | u32 n | n × effect      (only the effects the submitter carries out, see below)
 *   1 refused    u16 replyCode | str text            (the state refused the command and changed nothing)
 * effect  := u8 kind | body
 *   1 deliver    channel | u8 hasTag | [str consumerTag] | i64 deliveryId | u8 redelivered | i32 deliveryCount
 *                | i64 seq | message
 *   2 confirm    channel | i64 publishSeq
 *   3 nack       channel | i64 publishSeq
 *   4 cancelled  channel | str consumerTag
 * </pre>
 *
 * A result carries the confirms and nacks of an enqueue, a get's delivery (the one without a consumer tag) and
 * server-sent cancels: what the submitting node answers. Deliveries to consumers, dead-letters, quarantines and
 * expiry are not sent back; every replica sees them as it applies (see {@link QuorumQueueReplica.Listener}), so a
 * publish's reply never carries the bodies that consumers get. A version other than 1 is refused, so a newer
 * format is never misread. Stateless; any thread.
 */
public final class QuorumCommandCodec {
    static final int VERSION = 1;
    private static final int ENQUEUE = 1;
    private static final int ATTACH = 2;
    private static final int SETTLE = 3;
    private static final int CANCEL = 4;
    private static final int CLOSE = 5;
    private static final int RECOVER = 6;
    private static final int NODE_DOWN = 7;
    private static final int PURGE = 8;
    private static final int GET = 9;
    private static final int TICK = 10;
    private static final int OK = 0;
    private static final int REFUSED = 1;
    private static final int DELIVER = 1;
    private static final int CONFIRM = 2;
    private static final int NACK = 3;
    private static final int CANCELLED = 4;

    /**
     * A decoded result.
     *
     * @param refusal null when the command was applied; else what it was refused with (code and text)
     * @param count   {@link QuorumQueue.Outcome#count()}
     * @param effects the submitter's effects (see the class comment), in order
     */
    public record Result(BrokerException refusal, int count, List<QuorumEffect> effects) {}

    private QuorumCommandCodec() {}

    public static byte[] encode(QuorumCommand command) {
        return write(out -> {
            out.writeByte(VERSION);
            if (command instanceof QuorumCommand.Enqueue e) {
                out.writeByte(ENQUEUE);
                out.writeInt(e.messages().size());
                for (QuorumCommand.Publish p : e.messages()) {
                    QuorumWire.writeChannel(out, p.publisher());
                    out.writeLong(p.publishSeq());
                    QuorumWire.writeMessage(out, p.message());
                }
            } else if (command instanceof QuorumCommand.Attach a) {
                out.writeByte(ATTACH);
                QuorumWire.writeChannel(out, a.channel());
                QuorumWire.writeString(out, a.tag());
                out.writeInt(a.prefetch());
                out.writeByte((a.noAck() ? 1 : 0) | (a.exclusive() ? 2 : 0));
                out.writeInt(a.priority());
            } else if (command instanceof QuorumCommand.Settle s) {
                out.writeByte(SETTLE);
                QuorumWire.writeChannel(out, s.channel());
                out.writeLong(s.deliveryId());
                out.writeBoolean(s.multiple());
                out.writeByte(s.disposition().ordinal());
            } else if (command instanceof QuorumCommand.Cancel c) {
                out.writeByte(CANCEL);
                QuorumWire.writeChannel(out, c.channel());
                QuorumWire.writeString(out, c.tag());
            } else if (command instanceof QuorumCommand.CloseChannel c) {
                out.writeByte(CLOSE);
                QuorumWire.writeChannel(out, c.channel());
            } else if (command instanceof QuorumCommand.Recover r) {
                out.writeByte(RECOVER);
                QuorumWire.writeChannel(out, r.channel());
            } else if (command instanceof QuorumCommand.NodeDown d) {
                out.writeByte(NODE_DOWN);
                QuorumWire.writeString(out, d.node());
            } else if (command instanceof QuorumCommand.Purge) {
                out.writeByte(PURGE);
            } else if (command instanceof QuorumCommand.Get g) {
                out.writeByte(GET);
                QuorumWire.writeChannel(out, g.channel());
                out.writeBoolean(g.noAck());
            } else if (command instanceof QuorumCommand.Tick) {
                out.writeByte(TICK);
            } else {
                throw new IllegalArgumentException("no encoding for " + command);
            }
        });
    }

    /** @throws IllegalArgumentException if the bytes are not a whole command of version 1 */
    public static QuorumCommand decode(byte[] bytes) {
        return read(bytes, in -> {
            int kind = in.readUnsignedByte();
            return switch (kind) {
                case ENQUEUE -> {
                    int n = in.readInt();
                    if (n < 0 || n > bytes.length) {
                        throw new IOException("an enqueue of " + n + " messages in " + bytes.length + " bytes");
                    }
                    List<QuorumCommand.Publish> messages = new ArrayList<>(n);
                    for (int i = 0; i < n; i++) {
                        messages.add(new QuorumCommand.Publish(QuorumWire.readChannel(in), in.readLong(),
                                QuorumWire.readMessage(in)));
                    }
                    yield new QuorumCommand.Enqueue(messages);
                }
                case ATTACH -> {
                    var channel = QuorumWire.readChannel(in);
                    String tag = QuorumWire.readString(in);
                    int prefetch = in.readInt();
                    int flags = in.readUnsignedByte();
                    yield new QuorumCommand.Attach(channel, tag, prefetch, (flags & 1) != 0, (flags & 2) != 0,
                            in.readInt());
                }
                case SETTLE -> {
                    var channel = QuorumWire.readChannel(in);
                    long id = in.readLong();
                    boolean multiple = in.readBoolean();
                    int d = in.readUnsignedByte();
                    if (d >= QuorumCommand.Disposition.values().length) {
                        throw new IOException("unknown disposition " + d);
                    }
                    yield new QuorumCommand.Settle(channel, id, multiple, QuorumCommand.Disposition.values()[d]);
                }
                case CANCEL -> new QuorumCommand.Cancel(QuorumWire.readChannel(in), QuorumWire.readString(in));
                case CLOSE -> new QuorumCommand.CloseChannel(QuorumWire.readChannel(in));
                case RECOVER -> new QuorumCommand.Recover(QuorumWire.readChannel(in));
                case NODE_DOWN -> new QuorumCommand.NodeDown(QuorumWire.readString(in));
                case PURGE -> new QuorumCommand.Purge();
                case GET -> new QuorumCommand.Get(QuorumWire.readChannel(in), in.readBoolean());
                case TICK -> new QuorumCommand.Tick();
                default -> throw new IOException("unknown command kind " + kind);
            };
        });
    }

    /** The result of an applied command: its count and the effects its submitter carries out. */
    public static byte[] encodeResult(QuorumQueue.Outcome outcome) {
        List<QuorumEffect> mine = outcome.effects().stream().filter(QuorumCommandCodec::forSubmitter).toList();
        return write(out -> {
            out.writeByte(VERSION);
            out.writeByte(OK);
            out.writeInt(outcome.count());
            out.writeInt(mine.size());
            for (QuorumEffect e : mine) {
                writeEffect(out, e);
            }
        });
    }

    public static byte[] encodeRefusal(BrokerException refusal) {
        return write(out -> {
            out.writeByte(VERSION);
            out.writeByte(REFUSED);
            out.writeShort(refusal.code().code());
            QuorumWire.writeString(out, String.valueOf(refusal.getMessage()));
        });
    }

    /** @throws IllegalArgumentException if the bytes are not a whole result of version 1 */
    public static Result decodeResult(byte[] bytes) {
        return read(bytes, in -> {
            int status = in.readUnsignedByte();
            if (status == REFUSED) {
                int code = in.readUnsignedShort();
                String text = QuorumWire.readString(in);
                for (ErrorCode c : ErrorCode.values()) {
                    if (c.code() == code) {
                        return new Result(new BrokerException(c, text), 0, List.of());
                    }
                }
                throw new IOException("unknown reply code " + code);
            }
            if (status != OK) {
                throw new IOException("unknown result status " + status);
            }
            int count = in.readInt();
            int n = in.readInt();
            if (n < 0 || n > bytes.length) {
                throw new IOException(n + " effects in " + bytes.length + " bytes");
            }
            List<QuorumEffect> effects = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                effects.add(readEffect(in));
            }
            return new Result(null, count, effects);
        });
    }

    private static boolean forSubmitter(QuorumEffect e) {
        return e instanceof QuorumEffect.Confirm || e instanceof QuorumEffect.Nack
                || e instanceof QuorumEffect.ConsumerCancelled
                || e instanceof QuorumEffect.Deliver d && d.consumerTag() == null;
    }

    private static void writeEffect(DataOutputStream out, QuorumEffect e) throws IOException {
        if (e instanceof QuorumEffect.Deliver d) {
            out.writeByte(DELIVER);
            QuorumWire.writeChannel(out, d.channel());
            out.writeBoolean(d.consumerTag() != null);
            if (d.consumerTag() != null) {
                QuorumWire.writeString(out, d.consumerTag());
            }
            out.writeLong(d.deliveryId());
            out.writeBoolean(d.redelivered());
            out.writeInt(d.deliveryCount());
            out.writeLong(d.seq());
            QuorumWire.writeMessage(out, d.message());
        } else if (e instanceof QuorumEffect.Confirm c) {
            out.writeByte(CONFIRM);
            QuorumWire.writeChannel(out, c.publisher());
            out.writeLong(c.publishSeq());
        } else if (e instanceof QuorumEffect.Nack n) {
            out.writeByte(NACK);
            QuorumWire.writeChannel(out, n.publisher());
            out.writeLong(n.publishSeq());
        } else if (e instanceof QuorumEffect.ConsumerCancelled c) {
            out.writeByte(CANCELLED);
            QuorumWire.writeChannel(out, c.channel());
            QuorumWire.writeString(out, c.consumerTag());
        } else {
            throw new IllegalArgumentException("not a submitter's effect: " + e);
        }
    }

    private static QuorumEffect readEffect(DataInputStream in) throws IOException {
        int kind = in.readUnsignedByte();
        return switch (kind) {
            case DELIVER -> {
                var channel = QuorumWire.readChannel(in);
                String tag = in.readBoolean() ? QuorumWire.readString(in) : null;
                yield new QuorumEffect.Deliver(channel, tag, in.readLong(), in.readBoolean(), in.readInt(),
                        in.readLong(), QuorumWire.readMessage(in));
            }
            case CONFIRM -> new QuorumEffect.Confirm(QuorumWire.readChannel(in), in.readLong());
            case NACK -> new QuorumEffect.Nack(QuorumWire.readChannel(in), in.readLong());
            case CANCELLED -> new QuorumEffect.ConsumerCancelled(QuorumWire.readChannel(in), QuorumWire.readString(in));
            default -> throw new IOException("unknown effect kind " + kind);
        };
    }

    private interface Writer {
        void write(DataOutputStream out) throws IOException;
    }

    private interface Reader<T> {
        T read(DataInputStream in) throws IOException;
    }

    private static byte[] write(Writer writer) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(64);
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            writer.write(out);
        } catch (IOException e) {
            throw new UncheckedIOException(e); // only a string over 64 KiB: a caller's mistake, never the log's
        }
        return bytes.toByteArray();
    }

    /** Reads a whole versioned value: every byte must be used. */
    private static <T> T read(byte[] bytes, Reader<T> reader) {
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes))) {
            int version = in.readUnsignedByte();
            if (version != VERSION) {
                throw new IllegalArgumentException("quorum command format version " + version + " is not " + VERSION);
            }
            T value = reader.read(in);
            if (in.available() > 0) {
                throw new IllegalArgumentException(in.available() + " bytes left after " + value);
            }
            return value;
        } catch (IOException e) {
            throw new IllegalArgumentException("not a whole quorum command or result: " + e.getMessage(), e);
        }
    }
}
