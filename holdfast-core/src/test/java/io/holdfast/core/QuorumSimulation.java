package io.holdfast.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.core.QuorumCommand.Disposition;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Seeded random command sequences applied to a {@link QuorumQueue} and, step for step, to a classic queue in a plain
 * {@link Broker} fed the same operations. After every step: the replicated queue made exactly the classic queue's
 * deliveries (same consumer, message, redelivered flag and count); a model that follows every message finds nothing
 * lost or duplicated, first deliveries in publish order, ready messages in position order, redelivered exactly on
 * repeats, no delivery over the delivery limit. A second replica fed the same commands, and a third restored from a
 * snapshot taken at a random step, produce the same effects and end byte-identical.
 */
final class QuorumSimulation {
    static final int DEFAULT_STEPS = 300;
    private static final String[] NODES = {"n1", "n2", "n3"};
    private static final long DELIVERY_LIMIT = 3;

    private final Random random;
    private final Map<String, Object> args;
    private final QuorumQueue replica;
    private final QuorumQueue twin;
    private QuorumQueue restored;
    private final ClassicTwin classic;
    private final Model model = new Model();
    private long now = 10_000;
    private long published;
    private long publishSeq;
    private int tags;

    private QuorumSimulation(long seed) {
        random = new Random(seed);
        Map<String, Object> a = new HashMap<>();
        a.put("x-dead-letter-exchange", "dlx"); // so every message that leaves says why (the model accounts for it)
        if (random.nextBoolean()) {
            a.put("x-delivery-limit", DELIVERY_LIMIT);
        }
        if (random.nextInt(3) == 0) {
            a.put("x-max-length", 4L + random.nextInt(4));
            if (random.nextBoolean()) {
                a.put("x-overflow", "reject-publish");
            }
        }
        if (random.nextInt(3) == 0) {
            a.put("x-message-ttl", 500L + random.nextInt(1_000));
        }
        if (random.nextInt(3) == 0) {
            a.put(RedeliveryBackoff.ARGUMENT, "100ms,300ms");
        }
        if (random.nextInt(4) == 0) {
            a.put("x-single-active-consumer", true);
        }
        args = Map.copyOf(a);
        QuorumQueue.Definition d = new QuorumQueue.Definition("/", "qq", args, -1);
        replica = new QuorumQueue(d, PropertiesRewriter.UNCHANGED);
        twin = new QuorumQueue(d, PropertiesRewriter.UNCHANGED);
        classic = new ClassicTwin(args);
        model.limit = args.containsKey("x-delivery-limit") ? DELIVERY_LIMIT : -1;
    }

    static void run(long seed, int steps) {
        QuorumSimulation s = new QuorumSimulation(seed);
        int restoreAt = s.random.nextInt(steps);
        for (int step = 0; step < steps; step++) {
            if (step == restoreAt) {
                s.restored = restore(snapshot(s.replica));
            }
            QuorumCommand c = s.nextCommand();
            String where = "seed " + seed + " step " + step + " " + c + " args " + s.args;
            s.step(c, where);
        }
        byte[] end = snapshot(s.replica);
        assertThat(snapshot(s.twin)).as("seed %d: the twin replica's snapshot", seed).isEqualTo(end);
        assertThat(snapshot(s.restored)).as("seed %d: the restored replica's snapshot", seed).isEqualTo(end);
        assertThat(snapshot(restore(end))).as("seed %d: a snapshot read and written again", seed).isEqualTo(end);
    }

    private void step(QuorumCommand c, String where) {
        now += c instanceof QuorumCommand.Tick ? random.nextInt(400) : random.nextInt(20);
        QuorumQueue.Outcome out;
        try {
            out = replica.apply(c, now);
        } catch (BrokerException e) {
            throw new AssertionError(where + ": refused " + e.getMessage(), e);
        }
        String rendered = render(out);
        assertThat(render(twin.apply(c, now))).as(where + ": the twin").isEqualTo(rendered);
        if (restored != null) {
            assertThat(render(restored.apply(c, now))).as(where + ": the restored replica").isEqualTo(rendered);
        }
        List<String> classicDeliveries = classic.apply(c, now);
        List<QuorumEffect.Deliver> delivered = QuorumQueueTest.deliveries(out);
        assertThat(delivered.stream().map(QuorumSimulation::describe).toList()).as(where + ": the classic queue's")
                .isEqualTo(classicDeliveries);
        for (int i = 0; i < delivered.size(); i++) {
            classic.learn(delivered.get(i), i);
        }
        classic.dropIdle();
        model.follow(c, out, where);
        model.check(replica, where);
    }

    private QuorumCommand nextCommand() {
        int pick = random.nextInt(100);
        List<RemoteChannel> holding = model.channelsWithDeliveries();
        if (pick < 25) {
            List<QuorumCommand.Publish> batch = new ArrayList<>();
            for (int i = random.nextInt(3); i >= 0; i--) {
                String body = "m" + ++published;
                batch.add(new QuorumCommand.Publish(new RemoteChannel("n1", 99), ++publishSeq, new Message("x", "rk",
                        new byte[0], Map.of(), true, Message.NO_EXPIRATION, body.getBytes(StandardCharsets.UTF_8))));
            }
            return new QuorumCommand.Enqueue(batch);
        }
        if (pick < 35) {
            return new QuorumCommand.Attach(anyChannel(), "t" + ++tags, random.nextInt(4), random.nextInt(8) == 0, false,
                    random.nextInt(4) == 0 ? 1 : 0);
        }
        if (pick < 70 && !holding.isEmpty()) {
            RemoteChannel ch = holding.get(random.nextInt(holding.size()));
            List<Long> ids = model.deliveryIds(ch);
            Disposition d = Disposition.values()[random.nextInt(10) < 6 ? 0 : 1 + random.nextInt(2)];
            return new QuorumCommand.Settle(ch, ids.get(random.nextInt(ids.size())), random.nextInt(4) == 0, d);
        }
        if (pick < 75 && !model.consumers.isEmpty()) {
            List<String> keys = new ArrayList<>(model.consumers.keySet());
            String[] key = keys.get(random.nextInt(keys.size())).split("/");
            return new QuorumCommand.Cancel(new RemoteChannel(key[0], Long.parseLong(key[1])), key[2]);
        }
        if (pick < 80) {
            return new QuorumCommand.CloseChannel(anyChannel());
        }
        if (pick < 82) {
            return new QuorumCommand.NodeDown(NODES[random.nextInt(NODES.length)]);
        }
        if (pick < 85) {
            return new QuorumCommand.Get(anyChannel(), random.nextBoolean());
        }
        if (pick < 87) {
            return new QuorumCommand.Recover(anyChannel());
        }
        if (pick < 88) {
            return new QuorumCommand.Purge();
        }
        return new QuorumCommand.Tick();
    }

    private RemoteChannel anyChannel() {
        return new RemoteChannel(NODES[random.nextInt(NODES.length)], random.nextInt(2));
    }

    static String describe(QuorumEffect.Deliver d) {
        return d.channel().node() + "/" + d.channel().channel() + " " + d.consumerTag() + " "
                + QuorumQueueTest.body(d.message()) + (d.redelivered() ? " redelivered " : " ") + d.deliveryCount();
    }

    /** The effects as text: messages by their bodies (records compare byte arrays by identity). */
    static String render(QuorumQueue.Outcome out) {
        StringBuilder b = new StringBuilder().append(out.count());
        for (QuorumEffect e : out.effects()) {
            b.append(" | ").append(e.getClass().getSimpleName()).append(' ');
            if (e instanceof QuorumEffect.Deliver d) {
                b.append(describe(d)).append(" id ").append(d.deliveryId()).append(" seq ").append(d.seq());
            } else if (e instanceof QuorumEffect.DeadLetter d) {
                b.append(QuorumQueueTest.body(d.message())).append(' ').append(d.reason());
            } else if (e instanceof QuorumEffect.Quarantine q) {
                b.append(QuorumQueueTest.body(q.message())).append(' ').append(q.deliveryCount());
            } else {
                b.append(e);
            }
        }
        return b.toString();
    }

    static byte[] snapshot(QuorumQueue q) {
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            QuorumSnapshot.write(q, new DataOutputStream(bytes));
            return bytes.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static QuorumQueue restore(byte[] snapshot) {
        try {
            return QuorumSnapshot.read(new DataInputStream(new ByteArrayInputStream(snapshot)),
                    PropertiesRewriter.UNCHANGED);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Where every message is, from the commands and effects alone. */
    private static final class Model {
        /** Body -> where it is: "in" (ready or held), "node/channel#id" (out for delivery), or absent (gone). */
        final Map<String, String> where = new HashMap<>();
        /** Out for delivery: channel -> delivery id -> body, in delivery order. */
        final Map<RemoteChannel, LinkedHashMap<Long, String>> out = new LinkedHashMap<>();
        /** "node/channel/tag" -> noAck. */
        final Map<String, Boolean> consumers = new LinkedHashMap<>();
        long lastFirstSeq;
        long limit = -1;

        List<RemoteChannel> channelsWithDeliveries() {
            return out.entrySet().stream().filter(e -> !e.getValue().isEmpty()).map(Map.Entry::getKey).toList();
        }

        List<Long> deliveryIds(RemoteChannel ch) {
            return new ArrayList<>(out.get(ch).keySet());
        }

        void follow(QuorumCommand c, QuorumQueue.Outcome o, String at) {
            if (c instanceof QuorumCommand.Enqueue e) {
                for (QuorumCommand.Publish p : e.messages()) {
                    where.put(QuorumQueueTest.body(p.message()), "in");
                }
            } else if (c instanceof QuorumCommand.Attach a) {
                consumers.put(key(a.channel()) + "/" + a.tag(), a.noAck());
            } else if (c instanceof QuorumCommand.Settle s) {
                var mine = out.get(s.channel());
                for (Long id : new ArrayList<>(mine.keySet())) {
                    if (s.multiple() ? id <= s.deliveryId() : id == s.deliveryId()) {
                        String body = mine.remove(id);
                        if (s.disposition() == Disposition.ACK) {
                            where.remove(body);
                        } else {
                            where.put(body, "in"); // a discard's dead-letter effect follows
                        }
                    }
                }
            } else if (c instanceof QuorumCommand.Cancel x) {
                consumers.remove(key(x.channel()) + "/" + x.tag());
            } else if (c instanceof QuorumCommand.CloseChannel x) {
                close(x.channel());
            } else if (c instanceof QuorumCommand.Recover x) {
                returnAll(x.channel());
            } else if (c instanceof QuorumCommand.NodeDown x) {
                for (RemoteChannel ch : new ArrayList<>(out.keySet())) {
                    if (ch.node().equals(x.node())) {
                        close(ch);
                    }
                }
                consumers.keySet().removeIf(k -> k.startsWith(x.node() + "/"));
            } else if (c instanceof QuorumCommand.Purge) {
                where.values().removeIf("in"::equals);
            }
            for (QuorumEffect e : o.effects()) {
                if (e instanceof QuorumEffect.Deliver d) {
                    delivered(d, c instanceof QuorumCommand.Get g && g.noAck(), at);
                } else if (e instanceof QuorumEffect.Nack n) {
                    where.remove("m" + n.publishSeq()); // refused: never in the queue
                } else if (e instanceof QuorumEffect.DeadLetter d) {
                    String body = QuorumQueueTest.body(d.message());
                    assertThat(where.get(body)).as(at + ": dead-lettered %s is in the queue", body).isEqualTo("in");
                    where.remove(body);
                }
            }
        }

        private void delivered(QuorumEffect.Deliver d, boolean noAckGet, String at) {
            String body = QuorumQueueTest.body(d.message());
            assertThat(where.get(body)).as(at + ": %s delivered while it is not in the queue (lost or twice out)", body)
                    .isEqualTo("in");
            assertThat(d.redelivered()).as(at + ": %s flagged redelivered exactly on a repeat", body)
                    .isEqualTo(d.deliveryCount() > 1);
            if (d.deliveryCount() == 1) {
                assertThat(d.seq()).as(at + ": first deliveries in publish order").isGreaterThan(lastFirstSeq);
                lastFirstSeq = d.seq();
            }
            if (limit >= 0) {
                assertThat(d.deliveryCount()).as(at + ": within the delivery limit").isLessThanOrEqualTo((int) limit + 1);
            }
            boolean noAck = d.consumerTag() == null ? noAckGet : consumers.getOrDefault(key(d.channel()) + "/"
                    + d.consumerTag(), false);
            if (noAck) {
                where.remove(body);
            } else {
                where.put(body, key(d.channel()) + "#" + d.deliveryId());
                out.computeIfAbsent(d.channel(), k -> new LinkedHashMap<>()).put(d.deliveryId(), body);
            }
        }

        private void close(RemoteChannel ch) {
            returnAll(ch);
            consumers.keySet().removeIf(k -> k.startsWith(key(ch) + "/"));
        }

        private void returnAll(RemoteChannel ch) {
            var mine = out.remove(ch);
            if (mine != null) {
                mine.values().forEach(body -> where.put(body, "in"));
            }
        }

        void check(QuorumQueue q, String at) {
            long in = where.values().stream().filter("in"::equals).count();
            assertThat(q.messageCount()).as(at + ": messages in the queue (nothing lost, nothing twice)").isEqualTo(in);
            assertThat(q.unackedCount()).as(at + ": deliveries out").isEqualTo(where.size() - in);
            List<Long> seqs = q.readySnapshot().stream().map(QueueEntry::seq).toList();
            assertThat(seqs).as(at + ": ready messages in position order (requeued to their place)").isSorted();
        }

        private static String key(RemoteChannel ch) {
            return ch.node() + "/" + ch.channel();
        }
    }

    /** A classic queue in a plain broker, given the same operations; its channels are dropped when idle, as the replica's. */
    private static final class ClassicTwin {
        final Broker broker = new Broker(MessageStore.NONE, () -> "generated", PropertiesRewriter.UNCHANGED);
        final ChannelState admin;
        final LinkedHashMap<RemoteChannel, ChannelState> channels = new LinkedHashMap<>();
        /** The replica's delivery id -> this broker's delivery tag, per channel. */
        final Map<RemoteChannel, Map<Long, Long>> tagOf = new HashMap<>();
        List<String> recorded = new ArrayList<>();
        List<Long> recordedTags = new ArrayList<>();

        ClassicTwin(Map<String, Object> args) {
            broker.consumerTimeout(-1, ConsumerTimeoutAction.CANCEL_CONSUMER);
            broker.topology().restoreQueue("/", "qq", false, args);
            admin = broker.openChannel(1, 1, "/", output(new RemoteChannel("admin", 0)));
        }

        List<String> apply(QuorumCommand c, long now) {
            recorded = new ArrayList<>();
            recordedTags = new ArrayList<>();
            broker.advanceClock(now);
            if (c instanceof QuorumCommand.Enqueue e) {
                for (QuorumCommand.Publish p : e.messages()) {
                    broker.publish(admin, "", "qq", p.message(), now);
                }
            } else if (c instanceof QuorumCommand.Attach a) {
                ChannelState ch = channel(a.channel());
                ch.prefetchPerConsumer = a.prefetch();
                broker.consume(ch, "qq", a.tag(), a.noAck(), a.exclusive(),
                        a.priority() == 0 ? null : Map.of(Consumer.PRIORITY_ARGUMENT, a.priority()));
                broker.dispatch();
            } else if (c instanceof QuorumCommand.Settle s) {
                ChannelState ch = channels.get(s.channel());
                long tag = tagOf.get(s.channel()).get(s.deliveryId());
                switch (s.disposition()) {
                    case ACK -> broker.ack(ch, tag, s.multiple());
                    case REQUEUE -> broker.reject(ch, tag, s.multiple(), true);
                    case DISCARD -> broker.reject(ch, tag, s.multiple(), false);
                }
            } else if (c instanceof QuorumCommand.Cancel x && channels.containsKey(x.channel())) {
                broker.cancel(channels.get(x.channel()), x.tag());
            } else if (c instanceof QuorumCommand.CloseChannel x && channels.containsKey(x.channel())) {
                broker.closeChannel(channels.get(x.channel()));
            } else if (c instanceof QuorumCommand.Recover x && channels.containsKey(x.channel())) {
                broker.recover(channels.get(x.channel()));
            } else if (c instanceof QuorumCommand.NodeDown x) {
                List<ChannelState> gone = new ArrayList<>();
                channels.forEach((ref, ch) -> {
                    if (ref.node().equals(x.node())) {
                        gone.add(ch);
                    }
                });
                for (ChannelState ch : gone) {
                    new ArrayList<>(ch.consumers.values()).forEach(broker::removeConsumer);
                }
                gone.forEach(broker::closeChannel);
            } else if (c instanceof QuorumCommand.Purge) {
                broker.topology().purgeQueue(admin, "qq");
            } else if (c instanceof QuorumCommand.Get g) {
                Broker.GetResult r = broker.get(channel(g.channel()), "qq", g.noAck(), now);
                if (r != null) {
                    record(g.channel(), null, r.deliveryTag(), r.redelivered(), r.entry(), r.message());
                }
            } else if (c instanceof QuorumCommand.Tick) {
                broker.tick(now);
            }
            return recorded;
        }

        /** The replica's i-th delivery of the step was this broker's i-th (checked): their ids now map. */
        void learn(QuorumEffect.Deliver d, int i) {
            tagOf.computeIfAbsent(d.channel(), k -> new HashMap<>()).put(d.deliveryId(), recordedTags.get(i));
        }

        void dropIdle() {
            var it = channels.entrySet().iterator();
            while (it.hasNext()) {
                var e = it.next();
                ChannelState ch = e.getValue();
                if (ch.closed || ch.consumers.isEmpty() && ch.unacked.isEmpty()) {
                    broker.closeChannel(ch);
                    tagOf.remove(e.getKey());
                    it.remove();
                }
            }
        }

        private ChannelState channel(RemoteChannel ref) {
            return channels.computeIfAbsent(ref, r -> broker.openChannel(2, 2, "/", output(r)));
        }

        private void record(RemoteChannel ref, String consumerTag, long tag, boolean redelivered, QueueEntry e,
                            Message m) {
            recorded.add(ref.node() + "/" + ref.channel() + " " + consumerTag + " " + QuorumQueueTest.body(m)
                    + (redelivered ? " redelivered " : " ") + e.deliveryCount());
            recordedTags.add(tag);
        }

        private ChannelOutput output(RemoteChannel ref) {
            return new ChannelOutput() {
                @Override public void deliver(String consumerTag, long deliveryTag, boolean redelivered, QueueEntry entry,
                                              Message message) {
                    record(ref, consumerTag, deliveryTag, redelivered, entry, message);
                }

                @Override public void deliverReply(String consumerTag, long deliveryTag, Message reply) {}

                @Override public void consumerCancelled(String consumerTag) {}

                @Override public void timedOut(long timeoutMillis) {}

                @Override public boolean writable() {
                    return true;
                }
            };
        }
    }
}
