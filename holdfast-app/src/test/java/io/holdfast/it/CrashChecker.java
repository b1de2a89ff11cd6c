package io.holdfast.it;

import io.holdfast.it.CrashHistory.Delivery;
import io.holdfast.it.CrashHistory.Key;
import io.holdfast.it.CrashHistory.Settlement;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Judges a {@link CrashHistory} against the contract after the last broker life has been drained.
 * A message is a {@link Key} (queue, producer, seq); "before" between two deliveries means an earlier
 * broker life, or the same life and a lower ticket (see {@link CrashHistory} for what tickets order).
 * Messages whose publish was never confirmed have an unknown fate: they may be missing, or appear.
 *
 * <ol>
 *   <li><b>No confirmed message lost</b> (contract rule 1): for every confirmed message and every queue
 *       its producer routes to, some consumer acked it (basic.ack written without error) at some point,
 *       or it was delivered by the final drain. Also: after the drain the queues are empty (checked by the
 *       test).</li>
 *   <li><b>No corrupt body served</b> (rule 5): every delivered body passes its CRC32 and equals, byte for
 *       byte, the body published under that producer and seq.</li>
 *   <li><b>Order</b> (rule 3): within one broker life, the broker hands out a queue's ready messages
 *       lowest position first, a requeued message goes back ahead of all not-yet-delivered ones, and
 *       after a crash every surviving message is back in position order; a producer's messages get
 *       positions in publish order, also across restarts. So: <i>for every consumer (one per channel and
 *       life), every queue and producer, the seqs of the deliveries that are the message's first in that
 *       broker life are strictly increasing in the order the consumer received them.</i> Deliveries of
 *       a message already delivered earlier in the same life (requeued after a nack) may come in any
 *       place; so may messages that were requeued before a crash, which are simply "first in life" again
 *       after it and must then fit the order.</li>
 *   <li><b>Honest redelivered flag</b> (rule 4): of the deliveries of one message, every one but the
 *       first (over all lives) has redelivered = true.</li>
 *   <li><b>Nothing invented</b>: every delivered message was attempted by its producer and lands only
 *       in queues its producer routes to.</li>
 *   <li><b>Nothing delivered twice without cause</b> (rule 2): within one broker life a message is
 *       delivered at most once more than it was nacked with requeue in that life (only a requeue or a
 *       crash brings it back); in particular the final drain has no duplicates.</li>
 * </ol>
 */
final class CrashChecker {
    private static final int EXAMPLES = 15;

    private final CrashHistory history;
    private final Map<String, List<String>> violations = new LinkedHashMap<>();

    private CrashChecker(CrashHistory history) {
        this.history = history;
    }

    /** The violations found, grouped by property; empty if the history keeps the contract. */
    static Map<String, List<String>> check(CrashHistory history) {
        CrashChecker c = new CrashChecker(history);
        c.run();
        return c.violations;
    }

    /** A readable account of {@link #check}'s result, with at most a few examples per property. */
    static String describe(Map<String, List<String>> violations) {
        StringBuilder s = new StringBuilder();
        violations.forEach((property, list) -> {
            s.append(property).append(": ").append(list.size()).append(" violation(s)\n");
            list.stream().limit(EXAMPLES).forEach(v -> s.append("    ").append(v).append('\n'));
        });
        return s.toString();
    }

    private void violation(String property, String text) {
        violations.computeIfAbsent(property, k -> new ArrayList<>()).add(text);
    }

    private void run() {
        List<Delivery> all = history.deliveries();
        all.sort(Comparator.comparingInt(Delivery::life).thenComparingLong(Delivery::ticket));
        Set<CrashMessage> attempted = history.attempted();

        Map<Key, List<Delivery>> byKey = new HashMap<>();
        for (Delivery d : all) {
            if (d.problem() != null) {
                violation("2 corrupt body served", "life " + d.life() + " " + d.queue() + ": " + d.problem());
                continue;
            }
            CrashMessage m = d.message();
            if (!attempted.contains(m)) {
                violation("5 never published", "life " + d.life() + " " + d.queue() + ": " + m);
            } else if (!history.targets(m.producer()).contains(d.queue())) {
                violation("5 never published", m + " delivered from " + d.queue() + ", its producer routes to "
                        + history.targets(m.producer()));
            }
            byKey.computeIfAbsent(new Key(d.queue(), m), k -> new ArrayList<>()).add(d);
        }

        checkNoConfirmedLost(byKey);
        checkRedeliveredFlags(byKey);
        checkNoCauselessDuplicates(byKey);
        checkOrder(all, byKey);
    }

    private void checkNoConfirmedLost(Map<Key, List<Delivery>> byKey) {
        Set<Key> acked = new HashSet<>();
        for (Settlement s : history.settlements()) {
            if (s.ack() && s.message() != null) {
                acked.add(new Key(s.queue(), s.message()));
            }
        }
        List<CrashMessage> confirmed = new ArrayList<>(history.confirmed());
        confirmed.sort(Comparator.comparingInt(CrashMessage::producer).thenComparingLong(CrashMessage::seq));
        for (CrashMessage m : confirmed) {
            for (String q : history.targets(m.producer())) {
                Key k = new Key(q, m);
                List<Delivery> ds = byKey.getOrDefault(k, List.of());
                boolean drained = ds.stream().anyMatch(Delivery::finalDrain);
                if (!acked.contains(k) && !drained) {
                    violation("1 confirmed message lost", k + (ds.isEmpty() ? " never delivered"
                            : " delivered " + ds.size() + "x (lives " + ds.stream().map(d -> d.life()).toList()
                            + ") but never acked and not in the final drain"));
                }
            }
        }
    }

    private void checkRedeliveredFlags(Map<Key, List<Delivery>> byKey) {
        byKey.forEach((k, ds) -> {
            for (int i = 1; i < ds.size(); i++) {
                Delivery d = ds.get(i);
                if (!d.redelivered()) {
                    Delivery first = ds.get(0);
                    violation("4 redelivered flag missing", k + " delivered in life " + d.life() + " (ticket "
                            + d.ticket() + ") with redelivered=false, first delivered in life " + first.life()
                            + " (ticket " + first.ticket() + ")");
                }
            }
        });
    }

    private void checkNoCauselessDuplicates(Map<Key, List<Delivery>> byKey) {
        Map<Key, Map<Integer, Integer>> nacks = new HashMap<>();
        for (Settlement s : history.settlements()) {
            if (!s.ack() && s.message() != null) {
                nacks.computeIfAbsent(new Key(s.queue(), s.message()), k -> new HashMap<>()).merge(s.life(), 1, Integer::sum);
            }
        }
        byKey.forEach((k, ds) -> {
            Map<Integer, Integer> perLife = new HashMap<>();
            ds.forEach(d -> perLife.merge(d.life(), 1, Integer::sum));
            perLife.forEach((life, n) -> {
                int requeues = nacks.getOrDefault(k, Map.of()).getOrDefault(life, 0);
                if (n > 1 + requeues) {
                    violation("6 duplicate delivery without requeue", k + " delivered " + n + "x in life " + life
                            + " with " + requeues + " nack(s)");
                }
            });
        });
    }

    private void checkOrder(List<Delivery> all, Map<Key, List<Delivery>> byKey) {
        Set<Long> firstInLife = new HashSet<>();
        byKey.values().forEach(ds -> {
            int life = -1;
            for (Delivery d : ds) { // sorted by (life, ticket)
                if (d.life() != life) {
                    firstInLife.add(d.ticket());
                    life = d.life();
                }
            }
        });
        // consumer stream -> (queue, producer) -> last first-in-life seq it received
        Map<Integer, Map<String, Delivery>> last = new HashMap<>();
        for (Delivery d : all) { // a stream lives in one life, so (life, ticket) order is its arrival order
            if (d.message() == null || !firstInLife.contains(d.ticket())) {
                continue;
            }
            String lane = d.queue() + "/p" + d.message().producer();
            Delivery previous = last.computeIfAbsent(d.stream(), s -> new HashMap<>()).put(lane, d);
            if (previous != null && previous.message().seq() >= d.message().seq()) {
                violation("3 order", "life " + d.life() + " consumer " + d.stream() + " on " + lane + ": "
                        + previous.message() + " then " + d.message() + " (both first deliveries in this life)");
            }
        }
    }
}
