package io.holdfast.core;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Dead-lettering as RabbitMQ does it: a message that leaves a queue with {@code x-dead-letter-exchange}
 * because it was rejected without requeue, expired, was dropped (or refused) by a length limit, or went over
 * {@code x-delivery-limit} is republished to that exchange, with {@code x-dead-letter-routing-key} (or its own
 * routing keys, {@code CC} included), as a new message whose {@code x-death} header says what happened; with a
 * dead-letter routing key the copy loses its {@code CC} and {@code BCC} headers, as in RabbitMQ. A queue without a
 * dead-letter exchange just drops it. Deleting or purging a queue never dead-letters.
 *
 * <p>The copy is routed like a publish to every matching queue and takes each target's own TTL and length
 * limits. It is dropped, silently as in RabbitMQ (the counters below tell), when the exchange does not exist
 * or routes it nowhere, and for each target that would close a fully automatic cycle (see {@link #isCycle}).
 *
 * <p>Contract rule 2: the copy is enqueued in its target queues, and so appended to the journal by the store,
 * before the source entry is settled (whose removal record comes after it): a crash in between leaves the
 * message twice, never nowhere.
 *
 * <p>Owned by the broker thread, like the {@link Broker} it belongs to.
 */
final class DeadLetters {
    /** Why a message was dead-lettered, as the {@code reason} of its {@code x-death} entry says. */
    enum Reason {
        REJECTED, EXPIRED, MAXLEN, DELIVERY_LIMIT;

        final String text = name().toLowerCase(Locale.ROOT);
    }

    /**
     * How deep dead-lettering may nest (a copy that makes its target drop its head, which is dead-lettered
     * in turn...). Queues that feed each other full, with messages once rejected, would otherwise loop
     * forever on the broker thread; past this depth the message is dropped.
     */
    static final int MAX_DEPTH = 32;

    private final Broker broker;
    private final PropertiesRewriter rewriter;
    private int depth;
    private long deadLettered;
    private long dropped;
    private Broker.DeadLetterDropListener dropListener = (source, why) -> { };
    /** Set in a broker that hands dead-lettered messages out instead of routing them (see {@link QuorumQueue}). */
    private Broker.DeadLetterHandoff handoff;

    DeadLetters(Broker broker, PropertiesRewriter rewriter) {
        this.broker = broker;
        this.rewriter = rewriter;
    }

    void dropListener(Broker.DeadLetterDropListener listener) {
        this.dropListener = listener;
    }

    void handoff(Broker.DeadLetterHandoff handoff) {
        this.handoff = handoff;
    }

    /** Copies republished to a dead-letter exchange (once per source message, however many targets). */
    long deadLetteredCount() {
        return deadLettered;
    }

    /** Messages that had a dead-letter exchange and were dropped: no such exchange, no route, a cycle. */
    long droppedCount() {
        return dropped;
    }

    /**
     * The entry, already out of {@code q}'s ready and unacked sets, leaves it for {@code reason}: its
     * dead-lettered copy is enqueued first (when {@code q} has a dead-letter exchange), then it is settled.
     */
    void remove(Queue q, QueueEntry e, Reason reason) {
        if (e.removed) {
            return;
        }
        if (q.deadLetterExchange() != null) {
            Message m = broker.messageOf(q, e);
            if (m == null) {
                return; // unreadable: already dropped
            }
            republish(q, m, reason);
        }
        broker.settle(q, e); // after the copy's enqueue record: a crash in between duplicates, never loses
    }

    /** A new message {@code q} refused because it was full ({@code x-overflow} reject-publish-dlx). */
    void refused(Queue q, Message m) {
        republish(q, m, Reason.MAXLEN);
    }

    void republish(Queue q, Message m, Reason reason) {
        if (handoff != null) {
            handoff.deadLettered(q, m, reason.text);
            deadLettered++;
            return;
        }
        VirtualHost v = broker.virtualHost(q.vhost());
        Exchange x = v.exchange(q.deadLetterExchange());
        if (x == null || depth >= MAX_DEPTH) {
            drop(q, x == null ? "no exchange" : "too deep");
            return;
        }
        // The keys it was published with: its own and those of CC (BCC was never stored).
        List<String> publishedKeys = SenderSelected.routingKeys(m.routingKey(), m.headers(), rewriter);
        String key = q.deadLetterRoutingKey() != null ? q.deadLetterRoutingKey() : m.routingKey();
        String expiration = rewriter.expiration(m.properties());
        List<Object> deaths = recordDeath(m, publishedKeys, q.name(), reason, expiration, broker.clockMillis());
        Map<String, Object> headers = new LinkedHashMap<>(m.headers());
        List<String> keys = publishedKeys;
        if (q.deadLetterRoutingKey() != null) {
            // As RabbitMQ: the dead-letter routing key replaces every key, so the headers that add keys go.
            keys = List.of(key);
            headers.remove(SenderSelected.CC);
            headers.remove(SenderSelected.BCC);
        }
        headers.put("x-death", deaths);
        headers.putIfAbsent("x-first-death-queue", q.name());
        headers.putIfAbsent("x-first-death-reason", reason.text);
        headers.putIfAbsent("x-first-death-exchange", m.exchange());
        headers.put("x-last-death-queue", q.name());
        headers.put("x-last-death-reason", reason.text);
        headers.put("x-last-death-exchange", m.exchange());
        Message copy = new Message(x.name(), key, rewriter.deadLettered(m.properties(), headers), headers,
                m.persistent(), Message.NO_EXPIRATION, m.body());
        if (x.type() == ExchangeType.X_DELAYED_MESSAGE && broker.delayedMessages().hold(v, x, copy)) {
            deadLettered++; // its x-delay holds it, as the plugin would; routed when due (see DelayedMessages)
            return;
        }
        Set<Queue> targets = v.route(x, keys, headers);
        if (targets.isEmpty()) {
            drop(q, "no route");
            return;
        }
        targets.removeIf(target -> isCycle(target.name(), reason, deaths));
        if (targets.isEmpty()) {
            drop(q, "cycle");
            return;
        }
        depth++;
        try {
            broker.deliveries().enqueueRouted(targets, copy, false);
        } finally {
            depth--;
        }
        deadLettered++;
    }

    private void drop(Queue source, String why) {
        dropped++;
        dropListener.dropped(source, why);
    }

    /**
     * The {@code x-death} array after this death, newest first: the entry for the same queue and reason has
     * its count raised and moves to the front (keeping its first time), or a new entry is put there. Entries
     * that repeat a queue and reason (older brokers added one per death) are merged first, as RabbitMQ does.
     */
    private static List<Object> recordDeath(Message m, List<String> publishedKeys, String queue, Reason reason,
                                            String expiration, long nowMillis) {
        List<Object> deaths = new ArrayList<>();
        Map<String, Object> same = null;
        if (m.headers().get("x-death") instanceof List<?> old) {
            for (Object d : merged(old)) {
                if (same == null && d instanceof Map<?, ?> t && text(t.get("queue")).equals(queue)
                        && text(t.get("reason")).equals(reason.text)) {
                    same = new LinkedHashMap<>();
                    for (Map.Entry<?, ?> field : t.entrySet()) {
                        same.put(String.valueOf(field.getKey()), field.getValue());
                    }
                } else {
                    deaths.add(d);
                }
            }
        }
        if (same == null) {
            same = new LinkedHashMap<>();
            same.put("count", 0L);
            same.put("reason", reason.text);
            same.put("queue", queue);
            same.put("time", Instant.ofEpochMilli(nowMillis));
            same.put("exchange", m.exchange());
            same.put("routing-keys", publishedKeys);
        }
        long count = same.get("count") instanceof Number n ? n.longValue() : 0;
        same.put("count", count + 1);
        if (expiration != null) {
            same.put("original-expiration", expiration);
        }
        deaths.add(0, same);
        return deaths;
    }

    /**
     * {@code x-death} with one entry per queue and reason, as RabbitMQ groups an array written by brokers that
     * added an entry per death: the first (newest) entry of each pair stays, in its place, and when it has no
     * {@code count} it gets one, the number of entries it stands for. Anything that is not a table stays.
     */
    private static List<Object> merged(List<?> deaths) {
        Map<List<String>, Integer> repeats = new LinkedHashMap<>();
        for (Object d : deaths) {
            if (d instanceof Map<?, ?> t) {
                repeats.merge(List.of(text(t.get("queue")), text(t.get("reason"))), 1, Integer::sum);
            }
        }
        if (repeats.values().stream().allMatch(n -> n == 1)) {
            return new ArrayList<>(deaths);
        }
        List<Object> out = new ArrayList<>();
        for (Object d : deaths) {
            if (!(d instanceof Map<?, ?> t)) {
                out.add(d);
                continue;
            }
            Integer n = repeats.remove(List.of(text(t.get("queue")), text(t.get("reason"))));
            if (n == null) {
                continue; // an older entry for a pair already kept
            }
            Map<String, Object> entry = new LinkedHashMap<>();
            t.forEach((k, v) -> entry.put(String.valueOf(k), v));
            entry.putIfAbsent("count", (long) n);
            out.add(entry);
        }
        return out;
    }

    /**
     * RabbitMQ's cycle rule: unless this death is a rejection, routing to {@code target} is a cycle when,
     * reading {@code x-death} newest first, the target's own entry comes before any rejection: the message
     * went round without a consumer ever refusing it, and would go round forever.
     */
    private static boolean isCycle(String target, Reason reason, List<Object> deaths) {
        if (reason == Reason.REJECTED) {
            return false;
        }
        for (Object d : deaths) {
            if (!(d instanceof Map<?, ?> t)) {
                continue;
            }
            if (text(t.get("queue")).equals(target)) {
                return !text(t.get("reason")).equals(Reason.REJECTED.text);
            }
            if (text(t.get("reason")).equals(Reason.REJECTED.text)) {
                return false;
            }
        }
        return false;
    }

    /** A header value as text: a String, or a decoded long string (whose toString is its UTF-8 text). */
    private static String text(Object v) {
        return QueueArguments.show(v);
    }
}
