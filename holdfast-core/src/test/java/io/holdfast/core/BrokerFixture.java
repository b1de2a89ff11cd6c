package io.holdfast.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;

/**
 * One broker wired to recording doubles of its two effect seams ({@link RecordingOutput} per channel,
 * one {@link RecordingStore}), with shortcuts for the commands the core tests repeat. Server-generated
 * names are deterministic: {@code amq.gen-1}, {@code amq.ctag-2}, ...
 */
final class BrokerFixture {
    static final Map<String, Object> NO_ARGS = Map.of();

    final RecordingStore store = new RecordingStore();
    final Broker broker = new Broker(store, counter(), new TextProperties());
    final Topology topology = broker.topology();
    private final Map<ChannelState, RecordingOutput> outputs = new IdentityHashMap<>();
    private final List<Delivery> timeline = new ArrayList<>();
    private final Map<Long, Integer> channelNumbers = new LinkedHashMap<>();

    static Supplier<String> counter() {
        long[] n = {0};
        return () -> Long.toString(++n[0]);
    }

    /** Opens the next channel on connection {@code connectionId}, with its own recording output. */
    ChannelState channel(long connectionId) {
        int number = channelNumbers.merge(connectionId, 1, Integer::sum);
        RecordingOutput out = new RecordingOutput(connectionId + "/" + number, timeline);
        ChannelState ch = broker.openChannel(connectionId, number, "/", out);
        outputs.put(ch, out);
        return ch;
    }

    RecordingOutput output(ChannelState ch) {
        return outputs.get(ch);
    }

    /** Every delivery to every channel of this fixture, in the order the broker made them. */
    List<Delivery> timeline() {
        return timeline;
    }

    /** A plain queue: not durable, not exclusive, not auto-delete. */
    String queue(ChannelState ch, String name) {
        return topology.declareQueue(ch, name, false, false, false, false, NO_ARGS).queue();
    }

    String durableQueue(ChannelState ch, String name) {
        return topology.declareQueue(ch, name, false, true, false, false, NO_ARGS).queue();
    }

    void exchange(ChannelState ch, String name, String type) {
        topology.declareExchange(ch, name, type, false, false, false, false, NO_ARGS);
    }

    /** Publishes a transient message with this body; returns how many queues it was routed to. */
    int publish(ChannelState ch, String exchange, String routingKey, String body) {
        return broker.publish(ch, exchange, routingKey, message(exchange, routingKey, Map.of(), false, body), 0)
                .routedQueues();
    }

    int publishPersistent(ChannelState ch, String exchange, String routingKey, String body) {
        return broker.publish(ch, exchange, routingKey, message(exchange, routingKey, Map.of(), true, body), 0)
                .routedQueues();
    }

    /** Sends each body to {@code queue} through the default exchange. */
    void publishTo(ChannelState ch, String queue, String... bodies) {
        for (String body : bodies) {
            assertThat(publish(ch, "", queue, body)).isEqualTo(1);
        }
    }

    /** basic.consume with a server-generated tag, followed by the dispatch the session does after consume-ok. */
    String consume(ChannelState ch, String queue, boolean noAck) {
        String tag = broker.consume(ch, queue, "", noAck, false, NO_ARGS);
        broker.dispatch();
        return tag;
    }

    /** Bodies of the ready messages of {@code queue}, in queue order. */
    List<String> ready(String queue) {
        return broker.virtualHost("/").queue(queue).readySnapshot().stream().map(store::body).toList();
    }

    Queue queueState(String queue) {
        return broker.virtualHost("/").queue(queue);
    }

    static Message message(String exchange, String routingKey, Map<String, Object> headers, boolean persistent,
                           String body) {
        return new Message(exchange, routingKey, new byte[0], headers, persistent, Message.NO_EXPIRATION,
                body.getBytes(StandardCharsets.UTF_8));
    }

    static String body(Message m) {
        return new String(m.body(), StandardCharsets.UTF_8);
    }

    /** Runs a command that must be refused, and returns the refusal's reply code. */
    static int replyCode(ThrowingCallable command) {
        BrokerException e = catchThrowableOfType(BrokerException.class, command);
        assertThat(e).as("the command should have been refused").isNotNull();
        return e.code().code();
    }

    /**
     * A stand-in for the wire format of content properties: the text {@code expiration=N}, {@code priority=N} or
     * nothing; a dead-lettered copy's properties read {@code dead-lettered <header names>}, with no expiration.
     */
    static final class TextProperties implements PropertiesRewriter {
        static byte[] withExpiration(String expiration) {
            return ("expiration=" + expiration).getBytes(StandardCharsets.UTF_8);
        }

        @Override
        public String expiration(byte[] properties) {
            String text = new String(properties, StandardCharsets.UTF_8);
            return text.startsWith("expiration=") ? text.substring("expiration=".length()) : null;
        }

        @Override
        public byte[] deadLettered(byte[] properties, Map<String, Object> headers) {
            return ("dead-lettered " + headers.keySet()).getBytes(StandardCharsets.UTF_8);
        }

        static byte[] withPriority(int priority) {
            return ("priority=" + priority).getBytes(StandardCharsets.UTF_8);
        }

        @Override
        public int priority(byte[] properties) {
            String text = new String(properties, StandardCharsets.UTF_8);
            return text.startsWith("priority=") ? Integer.parseInt(text.substring("priority=".length())) : 0;
        }
    }

    /** One basic.deliver as a channel received it; {@code writable} is what the output said at that moment. */
    record Delivery(String channel, String consumerTag, long deliveryTag, boolean redelivered, QueueEntry entry,
                    Message message, boolean writable) {
        String body() {
            return BrokerFixture.body(message);
        }

        @Override
        public String toString() {
            return "deliver(" + channel + ", " + consumerTag + ", tag " + deliveryTag + ", " + body()
                    + (redelivered ? ", redelivered" : "") + ")";
        }
    }

    /** A {@link ChannelOutput} that records what the core sent, with a writable flag the test sets. */
    static final class RecordingOutput implements ChannelOutput {
        final String name;
        final List<Delivery> deliveries = new ArrayList<>();
        final List<String> cancelled = new ArrayList<>();
        /** Direct reply-to replies, as deliveries without a queue entry. */
        final List<Delivery> replies = new ArrayList<>();
        /** The timeout each {@link #timedOut} call reported. */
        final List<Long> timedOut = new ArrayList<>();
        boolean writable = true;
        private final List<Delivery> timeline;
        private int seen;

        RecordingOutput(String name, List<Delivery> timeline) {
            this.name = name;
            this.timeline = timeline;
        }

        @Override
        public void deliver(String consumerTag, long deliveryTag, boolean redelivered, QueueEntry entry,
                            Message message) {
            Delivery d = new Delivery(name, consumerTag, deliveryTag, redelivered, entry, message, writable);
            deliveries.add(d);
            timeline.add(d);
        }

        @Override
        public void deliverReply(String consumerTag, long deliveryTag, Message reply) {
            replies.add(new Delivery(name, consumerTag, deliveryTag, false, null, reply, writable));
        }

        @Override
        public void consumerCancelled(String consumerTag) {
            cancelled.add(consumerTag);
        }

        @Override
        public void timedOut(long timeoutMillis) {
            timedOut.add(timeoutMillis);
        }

        @Override
        public boolean writable() {
            return writable;
        }

        /** Bodies of every delivery so far. */
        List<String> bodies() {
            return deliveries.stream().map(Delivery::body).toList();
        }

        /** Deliveries since the last call. */
        List<Delivery> takeNew() {
            List<Delivery> out = new ArrayList<>(deliveries.subList(seen, deliveries.size()));
            seen = deliveries.size();
            return out;
        }

        Delivery last() {
            return deliveries.get(deliveries.size() - 1);
        }
    }

    /**
     * A {@link MessageStore} that records every call and keeps, per queue, the entries it holds (enqueued
     * and not yet removed). Calls that break the seam's contract (removed before or without enqueued,
     * twice, out of order, for a message the store should never see) are collected in {@link #problems}.
     * Like a store whose memory budget is always spent, it pages out every message it is given, so the
     * core's tests go through {@link #load} on every delivery of a stored message.
     */
    static final class RecordingStore implements MessageStore {
        enum Kind { ENQUEUED, REMOVED }

        record Event(Kind kind, String queue, long seq, String body) {}

        final List<Event> events = new ArrayList<>();
        final List<String> problems = new ArrayList<>();
        private final Map<String, LinkedHashMap<Long, QueueEntry>> live = new LinkedHashMap<>();
        private final Map<String, Long> lastEnqueuedSeq = new LinkedHashMap<>();
        private final Set<QueueEntry> everRemoved = java.util.Collections.newSetFromMap(new IdentityHashMap<>());
        /** What the store "wrote" for each entry it was given. */
        private final Map<QueueEntry, Message> held = new IdentityHashMap<>();
        /** Positions whose stored copy reads back as damaged. */
        final Set<Long> unreadable = new java.util.HashSet<>();
        /** Positions being read elsewhere: {@link #readable} says no until the test removes them. */
        final Set<Long> reading = new java.util.HashSet<>();
        /** Heads {@link #readable} was asked about, by position. */
        final List<Long> askedReadable = new ArrayList<>();
        int loads;
        int returns;

        @Override
        public void enqueued(Queue queue, QueueEntry entry) {
            Message m = entry.residentMessage();
            if (m == null) {
                problems.add("enqueued without its message in memory: " + entry.seq());
                return;
            }
            held.put(entry, m);
            entry.storeRef = entry.seq();
            entry.pageOut();
            events.add(new Event(Kind.ENQUEUED, queue.name(), entry.seq(), body(entry)));
            if (!queue.durable() || !m.persistent()) {
                problems.add("enqueued a message that is not persistent on a durable queue: " + describe(queue, entry));
            }
            Long last = lastEnqueuedSeq.put(queue.name(), entry.seq());
            if (last != null && last >= entry.seq()) {
                problems.add("enqueued out of order: " + describe(queue, entry) + " after seq " + last);
            }
            if (live.computeIfAbsent(queue.name(), q -> new LinkedHashMap<>()).put(entry.seq(), entry) != null) {
                problems.add("enqueued twice: " + describe(queue, entry));
            }
        }

        @Override
        public void removed(Queue queue, QueueEntry entry) {
            events.add(new Event(Kind.REMOVED, queue.name(), entry.seq(), body(entry)));
            if (!everRemoved.add(entry)) {
                problems.add("removed twice: " + describe(queue, entry));
            }
            LinkedHashMap<Long, QueueEntry> entries = live.get(queue.name());
            if (entries == null || entries.get(entry.seq()) != entry) {
                problems.add("removed without being enqueued: " + describe(queue, entry));
            } else {
                entries.remove(entry.seq());
            }
        }

        @Override
        public void returned(Queue queue, QueueEntry entry) {
            returns++;
            LinkedHashMap<Long, QueueEntry> entries = live.get(queue.name());
            if (entries == null || entries.get(entry.seq()) != entry || entry.removed) {
                problems.add("returned an entry it does not hold: " + describe(queue, entry));
            }
        }

        @Override
        public Message load(Queue queue, QueueEntry entry) {
            loads++;
            if (entry.residentMessage() != null) {
                problems.add("asked to load a message that is in memory: " + describe(queue, entry));
            }
            if (entry.removed) {
                problems.add("asked to load a removed entry: " + describe(queue, entry));
            }
            return unreadable.contains(entry.seq()) ? null : held.get(entry);
        }

        @Override
        public boolean readable(Queue queue, QueueEntry head) {
            askedReadable.add(head.storeRef);
            return !reading.contains(head.storeRef);
        }

        /** The body of an entry, whether in memory or paged out by this store. */
        String body(QueueEntry e) {
            Message m = e.residentMessage() != null ? e.residentMessage() : held.get(e);
            return m == null ? "<not held: seq " + e.seq() + ">" : BrokerFixture.body(m);
        }

        /** Bodies the store holds for {@code queue}, in enqueue order. */
        List<String> live(String queue) {
            return live.getOrDefault(queue, new LinkedHashMap<>()).values().stream().map(this::body).toList();
        }

        /** Every queue the store holds entries for. */
        Set<String> queuesWithLiveEntries() {
            Set<String> out = new java.util.LinkedHashSet<>();
            live.forEach((q, entries) -> {
                if (!entries.isEmpty()) {
                    out.add(q);
                }
            });
            return out;
        }

        List<Event> events(Kind kind) {
            return events.stream().filter(e -> e.kind() == kind).toList();
        }

        private String describe(Queue queue, QueueEntry entry) {
            return "queue '" + queue.name() + "' seq " + entry.seq() + " body '" + body(entry) + "'";
        }
    }
}
