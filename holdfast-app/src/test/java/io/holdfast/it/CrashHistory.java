package io.holdfast.it;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Everything the clients of a crash test saw, recorded as it happens from any client thread: which
 * messages each producer tried to publish, which the broker confirmed or nacked, every delivery (with
 * the broker life it came from) and every ack and nack a consumer sent. {@link CrashChecker} judges it
 * afterwards.
 *
 * <p>Every delivery and settlement takes a ticket from one counter at the moment the client handles it.
 * Tickets of one consumer follow its arrival order; across consumers they only order events that are
 * causally linked (a consumer records a delivery before it nacks it, so the requeued copy delivered to
 * someone else gets a higher ticket).
 */
final class CrashHistory {
    /** A delivery as a consumer saw it; {@code message} is null and {@code problem} says why if the body was damaged. */
    record Delivery(long ticket, int life, int stream, String queue, CrashMessage message, boolean redelivered,
                    boolean finalDrain, String problem) {}

    /** A consumer's ack ({@code ack}) or nack-with-requeue of a delivery. */
    record Settlement(long ticket, int life, int stream, String queue, CrashMessage message, boolean ack) {}

    /** A message in one queue. */
    record Key(String queue, CrashMessage message) {
        @Override
        public String toString() {
            return message + "@" + queue;
        }
    }

    private final long runSeed;
    private final Map<Integer, List<String>> targets = new ConcurrentHashMap<>();
    private final Set<CrashMessage> attempted = ConcurrentHashMap.newKeySet();
    private final Set<CrashMessage> confirmed = ConcurrentHashMap.newKeySet();
    private final Set<CrashMessage> nacked = ConcurrentHashMap.newKeySet();
    private final ConcurrentLinkedQueue<Delivery> deliveries = new ConcurrentLinkedQueue<>();
    private final ConcurrentLinkedQueue<Settlement> settlements = new ConcurrentLinkedQueue<>();
    private final AtomicLong tickets = new AtomicLong();
    private final AtomicLong confirmCount = new AtomicLong();
    private volatile long confirmTarget = Long.MAX_VALUE;
    private volatile CompletableFuture<Void> confirmTargetReached = new CompletableFuture<>();

    CrashHistory(long runSeed) {
        this.runSeed = runSeed;
    }

    long runSeed() {
        return runSeed;
    }

    /** Producer {@code producer} routes every message to exactly these queues. */
    void producer(int producer, List<String> queues) {
        targets.put(producer, List.copyOf(queues));
    }

    List<String> targets(int producer) {
        return targets.getOrDefault(producer, List.of());
    }

    Set<Integer> producers() {
        return targets.keySet();
    }

    /** Called just before basic.publish: from now on the message may exist. */
    void attempted(CrashMessage m) {
        attempted.add(m);
    }

    void confirmed(CrashMessage m) {
        confirmed.add(m);
        if (confirmCount.incrementAndGet() >= confirmTarget) {
            confirmTargetReached.complete(null);
        }
    }

    void nacked(CrashMessage m) {
        nacked.add(m);
    }

    /** Completes once {@code count} confirms in total have arrived (one pending target at a time). */
    CompletableFuture<Void> confirmsReach(long count) {
        CompletableFuture<Void> f = new CompletableFuture<>();
        confirmTargetReached = f;
        confirmTarget = count;
        if (confirmCount.get() >= count) {
            f.complete(null);
        }
        return f;
    }

    long confirmCount() {
        return confirmCount.get();
    }

    /** Records a delivery (decoding and checking its body) and returns the record. */
    Delivery delivered(int life, int stream, String queue, byte[] body, boolean redelivered, boolean finalDrain) {
        long ticket = tickets.incrementAndGet();
        CrashMessage m;
        String problem = null;
        try {
            m = CrashMessage.decode(body);
            if (!Arrays.equals(body, m.body(runSeed))) {
                problem = "body of " + m + " passes its CRC but differs from the bytes published";
                m = null;
            }
        } catch (IllegalArgumentException e) {
            m = null;
            problem = "corrupt body of " + body.length + " bytes: " + e.getMessage();
        }
        Delivery d = new Delivery(ticket, life, stream, queue, m, redelivered, finalDrain, problem);
        deliveries.add(d);
        return d;
    }

    void settled(Delivery d, boolean ack) {
        settlements.add(new Settlement(tickets.incrementAndGet(), d.life(), d.stream(), d.queue(), d.message(), ack));
    }

    Set<CrashMessage> attempted() {
        return Set.copyOf(attempted);
    }

    Set<CrashMessage> confirmed() {
        return Set.copyOf(confirmed);
    }

    Set<CrashMessage> nacked() {
        return Set.copyOf(nacked);
    }

    List<Delivery> deliveries() {
        return new ArrayList<>(deliveries);
    }

    List<Settlement> settlements() {
        return new ArrayList<>(settlements);
    }

    long finalDrainCount(String queue) {
        return deliveries.stream().filter(d -> d.finalDrain() && d.queue().equals(queue)).count();
    }
}
