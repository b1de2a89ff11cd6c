package io.holdfast.core;

import static io.holdfast.core.BrokerFixture.NO_ARGS;

import io.holdfast.core.BrokerFixture.Delivery;
import io.holdfast.core.BrokerFixture.RecordingOutput;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Supplier;

/**
 * A seeded stateful test of the broker core: a seed gives a random sequence of client commands over a
 * few channels, consumers and queues (publish, consume, cancel, get, ack, nack/reject, recover, qos,
 * channel open/close, backpressure, purge, bad delivery tags), and after every step the broker is
 * checked against a plain model of the contract:
 *
 * <ul>
 *   <li>rule 2: every message routed to a queue is in exactly one place there: ready, unacked on one
 *       channel, or settled; nothing settled is delivered again; the store holds exactly the persistent
 *       messages of durable queues that are not settled;</li>
 *   <li>rule 3: each queue's ready messages are in publish order and every delivery takes the head, so a
 *       consumer sees first deliveries in publish order and a requeued message before every later one;</li>
 *   <li>rule 4: a delivery is flagged redelivered exactly when the message was delivered before;</li>
 *   <li>length limits (with {@code run(seed, steps, true)}): drop-head settles the oldest ready messages
 *       over the limit after each publish and after messages are requeued (as RabbitMQ does), reject-publish refuses a message that would go over it, and
 *       only ready messages count;</li>
 *   <li>prefetch (per consumer and global, which holds back no-ack consumers too), writability and consumer
 *       registration are respected at each delivery, and no consumer that could take a ready message is left
 *       idle;</li>
 *   <li>consumer priorities ({@code x-priority}): a message goes to a consumer only while no consumer of
 *       the queue with a higher priority could take it;</li>
 *   <li>single active consumer (with {@code run(seed, steps, false, true)}): a delivery from such a queue
 *       goes only to its earliest registered live consumer, no other live consumer of it holds unacked
 *       deliveries from it, and only the active one must not be left idle.</li>
 * </ul>
 *
 * The model predicts no consumer choice: it accepts whatever delivery the broker makes and checks it is
 * allowed. A failure names the seed and the step; {@code -Dholdfast.core.seed=N} replays one seed.
 */
final class BrokerSimulation {
    static final int DEFAULT_STEPS = 300;
    private static final int MAX_CHANNELS = 4;
    private static final int MAX_CONSUMERS = 6;
    private static final int HISTORY = 40;
    private static final String FANOUT = "everywhere";

    private final long seed;
    private final Random random;
    private final BrokerFixture f = new BrokerFixture();
    private final Broker broker = f.broker;
    private final ChannelState admin;
    private final List<ModelQueue> queues = new ArrayList<>();
    private final List<ModelChannel> channels = new ArrayList<>();
    private final Map<String, ModelChannel> channelsByName = new HashMap<>();
    private final Set<Long> persistent = new HashSet<>();
    private final Deque<String> history = new ArrayDeque<>();
    private long nextMessage = 1;
    private long nextRegistration = 1;
    private int timelineSeen;

    private BrokerSimulation(long seed, boolean lengthLimits, boolean singleActive) {
        this.seed = seed;
        this.random = new Random(seed);
        admin = f.channel(0);
        f.exchange(admin, FANOUT, "fanout");
        queues.add(new ModelQueue(f.durableQueue(admin, "q0"), true));
        queues.add(new ModelQueue(f.durableQueue(admin, "q1"), true));
        queues.add(new ModelQueue(f.queue(admin, "q2"), false));
        if (lengthLimits) {
            // Small limits, so that both overflow modes act often: bodies are message ids (1 to 3 bytes).
            f.topology.declareQueue(admin, "q3", false, true, false, false,
                    Map.of("x-max-length", 4, "x-max-length-bytes", 8));
            queues.add(new ModelQueue("q3", true, 4, 8, false));
            f.topology.declareQueue(admin, "q4", false, false, false, false,
                    Map.of("x-max-length", 2, "x-overflow", "reject-publish"));
            queues.add(new ModelQueue("q4", false, 2, -1, true));
        }
        if (singleActive) {
            Map<String, Object> sac = Map.of("x-single-active-consumer", true);
            f.topology.declareQueue(admin, "s0", false, true, false, false, sac);
            queues.add(new ModelQueue("s0", true).singleActive());
            f.topology.declareQueue(admin, "s1", false, false, false, false, sac);
            queues.add(new ModelQueue("s1", false).singleActive());
        }
        for (ModelQueue q : queues) {
            f.topology.bindQueue(admin, q.name, FANOUT, "", NO_ARGS);
        }
        openChannel();
        openChannel();
        note("-- setup done --");
    }

    /** Runs {@code steps} random commands from {@code seed}, checking the contract after each one. */
    static void run(long seed, int steps) {
        run(seed, steps, false);
    }

    /**
     * As {@link #run(long, int)}, with two more queues that have length limits: one drop-head (count and
     * bytes), one reject-publish. A separate setup, so the seeds of {@link #run(long, int)} replay as before.
     */
    static void run(long seed, int steps, boolean lengthLimits) {
        run(seed, steps, lengthLimits, false);
    }

    /** As {@link #run(long, int, boolean)}, with two more queues that have {@code x-single-active-consumer}. */
    static void run(long seed, int steps, boolean lengthLimits, boolean singleActive) {
        BrokerSimulation sim = new BrokerSimulation(seed, lengthLimits, singleActive);
        for (int step = 1; step <= steps; step++) {
            try {
                sim.step();
                sim.checkInvariants();
            } catch (AssertionError | RuntimeException e) {
                String report = "broker simulation failed: seed " + seed + (lengthLimits ? " with length limits" : "")
                        + (singleActive ? " with single active consumers" : "")
                        + ", step " + step + "\n  replay with "
                        + "-Dholdfast.core.seed=" + seed + "\n  commands up to the failing one:\n    "
                        + String.join("\n    ", sim.history);
                System.err.println(report);
                throw new AssertionError(report + "\n  failure: " + e.getMessage(), e);
            }
        }
    }

    // ---- commands ----

    private void step() {
        if (channels.isEmpty()) {
            openChannel();
            return;
        }
        int r = random.nextInt(100);
        if (r < 25) {
            publish();
        } else if (r < 31) {
            get();
        } else if (r < 38) {
            consume();
        } else if (r < 42) {
            cancel();
        } else if (r < 56) {
            ack();
        } else if (r < 65) {
            reject();
        } else if (r < 68) {
            recover();
        } else if (r < 73) {
            qos();
        } else if (r < 76) {
            closeChannel(anyChannel());
        } else if (r < 79) {
            openChannel();
        } else if (r < 87) {
            toggleWritable();
        } else if (r < 89) {
            purge();
        } else if (r < 91) {
            settleUnknownTag();
        } else {
            publish();
        }
    }

    private void publish() {
        long id = nextMessage++;
        boolean durable = random.nextBoolean();
        List<ModelQueue> targets;
        String exchange;
        String key;
        if (random.nextInt(4) == 0) {
            exchange = FANOUT;
            key = "";
            targets = queues;
        } else {
            ModelQueue q = anyQueue();
            exchange = "";
            key = q.name;
            targets = List.of(q);
        }
        note("publish m" + id + (durable ? " persistent" : "") + " to '" + exchange + "' key '" + key + "'");
        List<ModelQueue> took = targets.stream().filter(q -> !q.refuses(id)).toList();
        Broker.PublishResult result = broker.publish(admin, exchange, key,
                BrokerFixture.message(exchange, key, Map.of(), durable, Long.toString(id)), 0);
        check(result.routedQueues() == targets.size(),
                () -> "routed to " + result.routedQueues() + " queues, expected " + targets.size());
        check(result.rejectedQueues() == targets.size() - took.size(),
                () -> "refused by " + result.rejectedQueues() + " queues, expected " + (targets.size() - took.size()));
        if (durable) {
            persistent.add(id);
        }
        for (ModelQueue q : took) {
            q.ready.add(id);
            q.routed.add(id);
        }
        // Consumers with credit take first; then drop-head settles the oldest ready messages over the limit.
        drainDeliveries();
        took.forEach(ModelQueue::dropHead);
    }

    private void get() {
        ModelChannel ch = anyChannel();
        ModelQueue q = anyQueue();
        boolean noAck = random.nextInt(3) == 0;
        note("get from " + q.name + " on " + ch.name + (noAck ? " noAck" : ""));
        Broker.GetResult got = broker.get(ch.state, q.name, noAck, 0);
        if (q.ready.isEmpty()) {
            check(got == null, () -> "get from an empty queue returned " + BrokerFixture.body(got.message()));
        } else {
            check(got != null, () -> "get returned nothing but " + q.name + " has ready " + q.ready);
            take(ch, q, null, noAck, idOf(got.message()), got.deliveryTag(), got.redelivered());
            check(got.messageCount() == q.ready.size(),
                    () -> "get-ok message count " + got.messageCount() + ", expected " + q.ready.size());
        }
        drainDeliveries();
    }

    private void consume() {
        if (consumers().size() >= MAX_CONSUMERS) {
            publish();
            return;
        }
        ModelChannel ch = anyChannel();
        ModelQueue q = anyQueue();
        boolean noAck = random.nextInt(4) == 0;
        // x-priority -1, 0 or 1 by registration, not drawn from the seed, so that older seeds replay as before.
        int priority = q.singleActive ? 0 : (int) (nextRegistration % 3) - 1;
        note("consume " + q.name + " on " + ch.name + (noAck ? " noAck" : " prefetch " + ch.prefetch)
                + " priority " + priority);
        String tag = broker.consume(ch.state, q.name, "", noAck, false,
                priority == 0 ? NO_ARGS : Map.of("x-priority", priority));
        check(tag.startsWith("amq.ctag-"), () -> "generated consumer tag " + tag);
        check(!ch.consumers.containsKey(tag), () -> "consumer tag " + tag + " reused");
        ch.consumers.put(tag, new ModelConsumer(tag, ch, q, noAck, ch.prefetch, priority, nextRegistration++));
        broker.dispatch();
        drainDeliveries();
    }

    private void cancel() {
        List<ModelConsumer> all = consumers();
        if (all.isEmpty()) {
            consume();
            return;
        }
        ModelConsumer c = all.get(random.nextInt(all.size()));
        note("cancel " + c.tag + " on " + c.channel.name);
        check(broker.cancel(c.channel.state, c.tag), () -> "cancel of a live consumer returned false");
        c.channel.consumers.remove(c.tag);
        drainDeliveries();
    }

    private void ack() {
        ModelChannel ch = channelWithUnacked();
        if (ch == null) {
            publish();
            return;
        }
        boolean multiple = ch.unacked.isEmpty() || random.nextInt(3) == 0;
        long tag = pickTag(ch, multiple);
        note("ack tag " + tag + (multiple ? " multiple" : "") + " on " + ch.name);
        broker.ack(ch.state, tag, multiple);
        for (Outstanding o : takeUnacked(ch, tag, multiple)) {
            o.queue.settled.add(o.message);
        }
        drainDeliveries();
    }

    private void reject() {
        ModelChannel ch = channelWithUnacked();
        if (ch == null) {
            publish();
            return;
        }
        boolean multiple = ch.unacked.isEmpty() || random.nextInt(3) == 0;
        boolean requeue = random.nextInt(4) != 0;
        long tag = pickTag(ch, multiple);
        note((multiple ? "nack" : "reject") + " tag " + tag + (multiple ? " multiple" : "")
                + (requeue ? " requeue" : " drop") + " on " + ch.name);
        broker.reject(ch.state, tag, multiple, requeue);
        Set<ModelQueue> requeuedInto = new HashSet<>();
        for (Outstanding o : takeUnacked(ch, tag, multiple)) {
            if (requeue) {
                o.queue.ready.add(o.message);
                requeuedInto.add(o.queue);
            } else {
                o.queue.settled.add(o.message);
            }
        }
        requeuedInto.forEach(ModelQueue::dropHead);
        drainDeliveries();
    }

    private void recover() {
        ModelChannel ch = anyChannel();
        note("recover on " + ch.name);
        broker.recover(ch.state);
        requeueAll(ch);
        drainDeliveries();
    }

    private void qos() {
        ModelChannel ch = anyChannel();
        int count = random.nextInt(4);
        boolean global = random.nextBoolean();
        note("qos " + count + (global ? " global" : " per-consumer") + " on " + ch.name);
        broker.qos(ch.state, count, global);
        if (global) {
            ch.prefetchGlobal = count;
        } else {
            ch.prefetch = count;
        }
        drainDeliveries();
    }

    private void closeChannel(ModelChannel ch) {
        note("close " + ch.name);
        broker.closeChannel(ch.state);
        channels.remove(ch);
        channelsByName.remove(ch.name);
        ch.consumers.clear();
        requeueAll(ch);
        drainDeliveries();
    }

    private void openChannel() {
        if (channels.size() >= MAX_CHANNELS) {
            publish();
            return;
        }
        ChannelState state = f.channel(1 + random.nextInt(2));
        RecordingOutput out = f.output(state);
        note("open " + out.name);
        ModelChannel ch = new ModelChannel(out.name, state, out);
        channels.add(ch);
        channelsByName.put(ch.name, ch);
    }

    private void toggleWritable() {
        ModelChannel ch = anyChannel();
        if (ch.out.writable) {
            note("block " + ch.name);
            ch.out.writable = false;
        } else {
            note("unblock " + ch.name);
            ch.out.writable = true;
            broker.channelWritable(ch.state);
        }
        drainDeliveries();
    }

    private void purge() {
        ModelQueue q = anyQueue();
        note("purge " + q.name);
        int purged = f.topology.purgeQueue(admin, q.name);
        check(purged == q.ready.size(), () -> "purge-ok count " + purged + ", expected " + q.ready.size());
        q.settled.addAll(q.ready);
        q.ready.clear();
    }

    /** An ack or reject naming a tag that is not unacked: 406, nothing changes, the session closes the channel. */
    private void settleUnknownTag() {
        ModelChannel ch = anyChannel();
        boolean multiple = random.nextBoolean();
        List<Long> settledTags = new ArrayList<>();
        for (long t = 1; t < ch.nextTag; t++) {
            if (!ch.unacked.containsKey(t)) {
                settledTags.add(t);
            }
        }
        long tag = settledTags.isEmpty() || random.nextBoolean()
                ? ch.nextTag + random.nextInt(3)
                : settledTags.get(random.nextInt(settledTags.size()));
        boolean asAck = random.nextBoolean();
        note((asAck ? "ack" : "reject") + " unknown tag " + tag + (multiple ? " multiple" : "") + " on " + ch.name);
        BrokerException refused = null;
        try {
            if (asAck) {
                broker.ack(ch.state, tag, multiple);
            } else {
                broker.reject(ch.state, tag, multiple, random.nextBoolean());
            }
        } catch (BrokerException e) {
            refused = e;
        }
        BrokerException e = refused;
        check(e != null && e.code() == ErrorCode.PRECONDITION_FAILED,
                () -> "expected 406 PRECONDITION_FAILED, got " + (e == null ? "success" : e.code()));
        drainDeliveries();
        checkInvariants();
        closeChannel(ch);
    }

    // ---- the model ----

    private void drainDeliveries() {
        List<Delivery> timeline = f.timeline();
        while (timelineSeen < timeline.size()) {
            Delivery d = timeline.get(timelineSeen++);
            ModelChannel ch = channelsByName.get(d.channel());
            check(ch != null, () -> d + " went to a closed or unknown channel");
            ModelConsumer c = ch.consumers.get(d.consumerTag());
            check(c != null, () -> d + " went to a cancelled or unknown consumer");
            check(d.writable(), () -> d + " went to a channel that was not writable");
            take(ch, c.queue, c, c.noAck, idOf(d.message()), d.deliveryTag(), d.redelivered());
        }
    }

    /** One message leaves {@code q}'s ready list by delivery (to {@code c}) or basic.get ({@code c} null). */
    private void take(ModelChannel ch, ModelQueue q, ModelConsumer c, boolean noAck, long id, long tag,
                      boolean redelivered) {
        String what = "m" + id + " from " + q.name + " to " + (c == null ? "get" : c.tag) + " on " + ch.name;
        check(!q.settled.contains(id), () -> what + ": the message was already settled");
        check(!q.ready.isEmpty() && q.ready.first() == id,
                () -> what + ": not the head of the queue, which is " + q.ready);
        check(redelivered == q.deliveredBefore.contains(id),
                () -> what + ": redelivered=" + redelivered + " but delivered before: " + q.deliveredBefore.contains(id));
        check(tag == ch.nextTag, () -> what + ": delivery tag " + tag + ", expected " + ch.nextTag);
        if (c != null && !q.singleActive) {
            for (ModelConsumer higher : consumers()) {
                check(higher.queue != q || higher.priority <= c.priority || !higher.canTake(),
                        () -> what + " (x-priority " + c.priority + "), while " + higher.tag + " (x-priority "
                                + higher.priority + ") could take it");
            }
        }
        if (c != null && q.singleActive) {
            ModelConsumer active = activeConsumer(q);
            check(c == active,
                    () -> what + ": the queue's active consumer is " + (active == null ? "none" : active.tag));
        }
        if (c != null && !noAck) {
            check(c.prefetch == 0 || c.unacked < c.prefetch,
                    () -> what + ": consumer prefetch " + c.prefetch + " exceeded");
        }
        if (c != null) {
            check(ch.prefetchGlobal == 0 || ch.consumerUnacked() < ch.prefetchGlobal,
                    () -> what + ": global prefetch " + ch.prefetchGlobal + " exceeded"
                            + (noAck ? " by a no-ack consumer" : ""));
        }
        if (c != null && !redelivered) {
            check(id > c.lastFirstDelivery,
                    () -> what + ": first delivery after m" + c.lastFirstDelivery + " out of publish order");
            c.lastFirstDelivery = id;
        }
        ch.nextTag++;
        q.ready.remove(id);
        q.deliveredBefore.add(id);
        if (noAck) {
            q.settled.add(id);
        } else {
            ch.unacked.put(tag, new Outstanding(q, id, c));
            if (c != null) {
                c.unacked++;
            }
        }
    }

    private List<Outstanding> takeUnacked(ModelChannel ch, long tag, boolean multiple) {
        List<Long> tags = new ArrayList<>();
        if (!multiple) {
            tags.add(tag);
        } else if (tag == 0) {
            tags.addAll(ch.unacked.keySet());
        } else {
            tags.addAll(ch.unacked.headMap(tag, true).keySet());
        }
        List<Outstanding> out = new ArrayList<>();
        for (long t : tags) {
            Outstanding o = ch.unacked.remove(t);
            if (o.consumer != null) {
                o.consumer.unacked--;
            }
            out.add(o);
        }
        return out;
    }

    /** Every unacked delivery of {@code ch} goes back; then, as after a publish, drop-head applies to each queue. */
    private void requeueAll(ModelChannel ch) {
        Set<ModelQueue> requeuedInto = new HashSet<>();
        for (long tag : new ArrayList<>(ch.unacked.keySet())) {
            takeUnacked(ch, tag, false).forEach(o -> {
                o.queue.ready.add(o.message);
                requeuedInto.add(o.queue);
            });
        }
        requeuedInto.forEach(ModelQueue::dropHead);
    }

    private void checkInvariants() {
        VirtualHost vhost = broker.virtualHost("/");
        Map<ModelQueue, Map<Long, Integer>> unackedByQueue = new HashMap<>();
        for (ModelChannel ch : channels) {
            check(ch.state.unackedCount() == ch.unacked.size(),
                    () -> ch.name + " has " + ch.state.unackedCount() + " unacked, model " + ch.unacked.size());
            check(ch.state.consumerCount() == ch.consumers.size(),
                    () -> ch.name + " has " + ch.state.consumerCount() + " consumers, model " + ch.consumers.size());
            check(ch.out.cancelled.isEmpty(), () -> ch.name + " got a server-sent cancel " + ch.out.cancelled);
            for (Outstanding o : ch.unacked.values()) {
                boolean live = o.consumer != null && o.consumer.channel.consumers.get(o.consumer.tag) == o.consumer;
                check(!live || !o.queue.singleActive || o.consumer == activeConsumer(o.queue),
                        () -> "m" + o.message + " is unacked on " + o.consumer.tag + ", a waiting consumer of "
                                + o.queue.name);
                unackedByQueue.computeIfAbsent(o.queue, q -> new HashMap<>()).merge(o.message, 1, Integer::sum);
            }
        }
        for (ModelQueue q : queues) {
            Queue real = vhost.queue(q.name);
            Map<Long, Integer> unacked = unackedByQueue.getOrDefault(q, Map.of());
            List<Long> realReady = real.readySnapshot().stream().map(e -> Long.parseLong(f.store.body(e))).toList();
            check(realReady.equals(new ArrayList<>(q.ready)),
                    () -> q.name + " ready " + realReady + ", model " + q.ready);
            int unackedCount = unacked.values().stream().mapToInt(Integer::intValue).sum();
            check(real.unackedCount() == unackedCount,
                    () -> q.name + " has " + real.unackedCount() + " unacked, model " + unackedCount);
            long consumerCount = consumers().stream().filter(c -> c.queue == q).count();
            check(real.consumerCount() == consumerCount,
                    () -> q.name + " has " + real.consumerCount() + " consumers, model " + consumerCount);
            for (long id : q.routed) {
                int places = (q.ready.contains(id) ? 1 : 0) + (q.settled.contains(id) ? 1 : 0)
                        + unacked.getOrDefault(id, 0);
                check(places == 1, () -> "m" + id + " is in " + places + " places in " + q.name);
            }
            if (!q.ready.isEmpty()) {
                for (ModelConsumer c : consumers()) {
                    boolean waiting = q.singleActive && c != activeConsumer(q);
                    check(c.queue != q || waiting || !c.canTake(), () -> c.tag + " on " + c.channel.name
                            + " could take from " + q.name + ", which has ready " + q.ready + ", but was left idle");
                }
            }
            TreeSet<Long> expectedInStore = new TreeSet<>();
            if (q.durable) {
                q.ready.stream().filter(persistent::contains).forEach(expectedInStore::add);
                unacked.keySet().stream().filter(persistent::contains).forEach(expectedInStore::add);
            }
            TreeSet<Long> inStore = new TreeSet<>();
            f.store.live(q.name).forEach(b -> inStore.add(Long.parseLong(b)));
            check(inStore.equals(expectedInStore),
                    () -> "the store holds " + inStore + " for " + q.name + ", expected " + expectedInStore);
        }
        check(f.store.problems.isEmpty(), () -> "store contract broken: " + f.store.problems);
    }

    // ---- picking ----

    private ModelChannel anyChannel() {
        return channels.get(random.nextInt(channels.size()));
    }

    private ModelQueue anyQueue() {
        return queues.get(random.nextInt(queues.size()));
    }

    /** A channel with unacked deliveries; when none has any, now and then one without (ack 0 multiple), else null. */
    private ModelChannel channelWithUnacked() {
        List<ModelChannel> busy = channels.stream().filter(c -> !c.unacked.isEmpty()).toList();
        if (busy.isEmpty()) {
            return random.nextInt(5) == 0 ? anyChannel() : null;
        }
        return busy.get(random.nextInt(busy.size()));
    }

    /** A tag that is unacked on {@code ch}; for multiple, sometimes 0 (everything, also when nothing is). */
    private long pickTag(ModelChannel ch, boolean multiple) {
        if (ch.unacked.isEmpty() || multiple && random.nextInt(8) == 0) {
            return 0;
        }
        List<Long> tags = new ArrayList<>(ch.unacked.keySet());
        return tags.get(random.nextInt(tags.size()));
    }

    /** The live consumer of a single-active-consumer queue registered first, or null. */
    private ModelConsumer activeConsumer(ModelQueue q) {
        ModelConsumer active = null;
        for (ModelConsumer c : consumers()) {
            if (c.queue == q && (active == null || c.registration < active.registration)) {
                active = c;
            }
        }
        return active;
    }

    private List<ModelConsumer> consumers() {
        List<ModelConsumer> out = new ArrayList<>();
        channels.forEach(ch -> out.addAll(ch.consumers.values()));
        return out;
    }

    private void note(String command) {
        history.addLast(command);
        if (history.size() > HISTORY) {
            history.removeFirst();
        }
    }

    private static long idOf(Message m) {
        return Long.parseLong(BrokerFixture.body(m));
    }

    private static void check(boolean condition, Supplier<String> what) {
        if (!condition) {
            throw new AssertionError(what.get());
        }
    }

    @Override
    public String toString() {
        return "BrokerSimulation(seed " + seed + ")";
    }

    private static final class ModelQueue {
        final String name;
        final boolean durable;
        /** Ready messages; their order is publish order, requeued ones included (rule 3). */
        final TreeSet<Long> ready = new TreeSet<>();
        final Set<Long> deliveredBefore = new HashSet<>();
        final Set<Long> settled = new HashSet<>();
        final List<Long> routed = new ArrayList<>();
        /** x-max-length and x-max-length-bytes, -1 for none; x-overflow reject-publish or drop-head. */
        final long maxLength;
        final long maxBytes;
        final boolean rejectsOverflow;
        /** x-single-active-consumer. */
        boolean singleActive;

        ModelQueue(String name, boolean durable) {
            this(name, durable, -1, -1, false);
        }

        ModelQueue(String name, boolean durable, long maxLength, long maxBytes, boolean rejectsOverflow) {
            this.name = name;
            this.durable = durable;
            this.maxLength = maxLength;
            this.maxBytes = maxBytes;
            this.rejectsOverflow = rejectsOverflow;
        }

        ModelQueue singleActive() {
            singleActive = true;
            return this;
        }

        /** Body bytes of the ready messages (a body is the message id in decimal). */
        long readyBytes() {
            return ready.stream().mapToLong(id -> Long.toString(id).length()).sum();
        }

        /** drop-head: the oldest ready messages are settled until the queue is within its limits. */
        void dropHead() {
            while (!rejectsOverflow && overLimit(ready.size(), readyBytes())) {
                settled.add(ready.pollFirst());
            }
        }

        boolean overLimit(long count, long bytes) {
            return maxLength >= 0 && count > maxLength || maxBytes >= 0 && bytes > maxBytes;
        }

        /** reject-publish: the message would take the queue over a limit. */
        boolean refuses(long id) {
            return rejectsOverflow && overLimit(ready.size() + 1L, readyBytes() + Long.toString(id).length());
        }
    }

    private static final class ModelChannel {
        final String name;
        final ChannelState state;
        final RecordingOutput out;
        final TreeMap<Long, Outstanding> unacked = new TreeMap<>();
        final Map<String, ModelConsumer> consumers = new LinkedHashMap<>();
        long nextTag = 1;
        int prefetch;
        int prefetchGlobal;

        ModelChannel(String name, ChannelState state, RecordingOutput out) {
            this.name = name;
            this.state = state;
            this.out = out;
        }

        /** Unacked deliveries made to consumers (live or cancelled); basic.get ones do not count. */
        int consumerUnacked() {
            int n = 0;
            for (Outstanding o : unacked.values()) {
                if (o.consumer != null) {
                    n++;
                }
            }
            return n;
        }
    }

    private static final class ModelConsumer {
        final String tag;
        final ModelChannel channel;
        final ModelQueue queue;
        final boolean noAck;
        final int prefetch;
        /** {@code x-priority}: no consumer of lower priority may take a message this one could. */
        final int priority;
        /** Registration order across all queues: a single-active-consumer queue hands over by it. */
        final long registration;
        int unacked;
        long lastFirstDelivery;

        ModelConsumer(String tag, ModelChannel channel, ModelQueue queue, boolean noAck, int prefetch, int priority,
                      long registration) {
            this.priority = priority;
            this.tag = tag;
            this.channel = channel;
            this.queue = queue;
            this.noAck = noAck;
            this.prefetch = prefetch;
            this.registration = registration;
        }

        /** What the contract allows: writable channel, and credit unless the consumer is noAck. */
        boolean canTake() {
            if (!channel.out.writable) {
                return false;
            }
            // As RabbitMQ's limiter: a no-ack consumer skips its own prefetch but not the channel's shared one.
            boolean channelRoom = channel.prefetchGlobal == 0 || channel.consumerUnacked() < channel.prefetchGlobal;
            return channelRoom && (noAck || prefetch == 0 || unacked < prefetch);
        }
    }

    /** A delivery not yet settled: which queue, which message, which consumer (null for basic.get). */
    private record Outstanding(ModelQueue queue, long message, ModelConsumer consumer) {}
}
