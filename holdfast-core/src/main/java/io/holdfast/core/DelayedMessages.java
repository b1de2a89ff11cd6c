package io.holdfast.core;

import java.nio.charset.StandardCharsets;
import java.util.Comparator;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.BiConsumer;

/**
 * Delayed delivery with the interface of RabbitMQ's delayed-message plugin, kept in the journal. An exchange
 * of type {@code x-delayed-message} routes with the rules of its {@code x-delayed-type} argument (direct,
 * topic, fanout or headers); a message published to it with an integer {@code x-delay} header of 1 ms to
 * 2<sup>32</sup>-1 ms is held, and routed when that time has passed, to the queues bound <em>then</em>, with
 * its {@code x-delay} header set to the negated delay (as the plugin does). Without the header, or with 0, a
 * negative or a larger one, the message is routed at once. A held message is "routed" for the publisher: no
 * basic.return, as the plugin cannot tell either; one that finds no queue when due is dropped.
 *
 * <p><b>Durability.</b> Each delayed exchange has a holding area that the {@link MessageStore} sees as a
 * queue: {@link #HOLDING_PREFIX} + the exchange's name (a name no client may declare, and that is not in
 * its vhost's queues), durable when the exchange is. A persistent message held by a durable exchange is
 * {@link MessageStore#enqueued enqueued} there, with its due time as the entry's {@link
 * QueueEntry#expiresAtMillis()} and its publish time as {@link QueueEntry#enqueuedAtMillis()}, so the
 * store's ordinary records, paging and recovery keep it (a publisher confirm waits for that write); the
 * caller restores them at start with {@link #restore}. When it is due, the routed copies are enqueued in
 * their queues before the held entry is {@link MessageStore#removed removed}: a crash in between delivers
 * it twice, never loses it. Deleting the exchange removes what it holds.
 *
 * <p>Held messages of every exchange wait in one map ordered by (due time, position), so the periodic
 * {@link Broker#tick} looks only at those that are due. Part of the {@link Broker} state machine: broker
 * thread only, time from the broker's clock.
 */
public final class DelayedMessages {
    /** The exchange argument naming the type whose routing rules a delayed exchange follows. */
    public static final String TYPE_ARGUMENT = "x-delayed-type";
    /** The message header that asks for a delay, in milliseconds. */
    public static final String DELAY_HEADER = "x-delay";
    /** The store's name for a delayed exchange's holding area is this followed by the exchange's name. */
    public static final String HOLDING_PREFIX = "amq.delayed/";
    /** The longest delay the plugin honours (its timer's limit); longer ones are routed at once, as there. */
    static final long MAX_DELAY_MILLIS = 0xFFFF_FFFFL;
    /** Names in the store's records are at most this many UTF-8 bytes. */
    private static final int NAME_BYTES_MAX = 255;

    private record Held(Exchange exchange, Queue holding) {}

    private final Broker broker;
    private final PropertiesRewriter rewriter;
    /** Every held message, by due time, then position (unique broker-wide). */
    private final TreeMap<QueueEntry, Held> waiting = new TreeMap<>(
            Comparator.comparingLong(QueueEntry::expiresAtMillis).thenComparingLong(QueueEntry::seq));
    private final Map<Exchange, Queue> holdings = new IdentityHashMap<>();

    DelayedMessages(Broker broker, PropertiesRewriter rewriter) {
        this.broker = broker;
        this.rewriter = rewriter;
    }

    /**
     * The type a delayed exchange with these arguments routes as, or null when {@link #TYPE_ARGUMENT} is
     * missing or names no type it can follow.
     */
    static ExchangeType underlyingType(Map<String, Object> arguments) {
        Object v = arguments == null ? null : arguments.get(TYPE_ARGUMENT);
        if (v == null || !QueueArguments.isText(v)) {
            return null;
        }
        ExchangeType t = ExchangeType.fromWireName(QueueArguments.show(v));
        return t == ExchangeType.X_DELAYED_MESSAGE ? null : t;
    }

    /** Refuses (406) the declaration of a delayed exchange whose arguments or name will not do. */
    static void validate(String exchange, Map<String, Object> arguments) {
        Object v = arguments == null ? null : arguments.get(TYPE_ARGUMENT);
        if (v != null && QueueArguments.isText(v)
                && QueueArguments.show(v).equals(ExchangeType.X_DELAYED_MESSAGE.wireName())) {
            throw BrokerException.precondition("Invalid argument, '" + TYPE_ARGUMENT + "' can't be '"
                    + ExchangeType.X_DELAYED_MESSAGE.wireName() + "'");
        }
        if (underlyingType(arguments) == null) {
            throw BrokerException.precondition("Invalid argument, '" + TYPE_ARGUMENT
                    + "' must be an existing exchange type");
        }
        int bytes = (HOLDING_PREFIX + exchange).getBytes(StandardCharsets.UTF_8).length;
        if (bytes > NAME_BYTES_MAX) {
            throw BrokerException.precondition("exchange name '" + exchange + "' is too long for type '"
                    + ExchangeType.X_DELAYED_MESSAGE.wireName() + "': at most "
                    + (NAME_BYTES_MAX - HOLDING_PREFIX.length()) + " bytes");
        }
    }

    /** The delay {@code headers} ask for, in milliseconds, or 0 for none (route at once). */
    static long delayOf(Map<String, Object> headers) {
        Object v = headers.get(DELAY_HEADER);
        if (v == null || !QueueArguments.isIntegral(v)) {
            return 0;
        }
        long delay = ((Number) v).longValue();
        return delay > 0 && delay <= MAX_DELAY_MILLIS ? delay : 0;
    }

    /**
     * Holds {@code m}, published to the delayed exchange {@code x}, if its {@code x-delay} asks for it;
     * false when it is to be routed at once.
     */
    boolean hold(VirtualHost v, Exchange x, Message m) {
        long delay = delayOf(m.headers());
        if (delay == 0) {
            return false;
        }
        Queue holding = holding(v.name(), x);
        long now = broker.clockMillis();
        QueueEntry e = new QueueEntry(broker.nextSeq(), m, false, 0, now, now + delay);
        waiting.put(e, new Held(x, holding));
        if (holding.stores(m)) {
            broker.store().enqueued(holding, e);
        }
        return true;
    }

    /** Routes every held message whose time has come, earliest first. */
    void releaseDue() {
        long now = broker.clockMillis();
        while (!waiting.isEmpty() && waiting.firstKey().expiresAtMillis() <= now) {
            Map.Entry<QueueEntry, Held> first = waiting.pollFirstEntry();
            release(first.getValue(), first.getKey());
        }
    }

    private void release(Held h, QueueEntry e) {
        Message m = e.residentMessage() != null ? e.residentMessage() : broker.store().load(h.holding(), e);
        if (m != null) {
            VirtualHost v = broker.virtualHost(h.holding().vhost());
            long delay = e.expiresAtMillis() - e.enqueuedAtMillis();
            Map<String, Object> headers = new LinkedHashMap<>(m.headers());
            headers.put(DELAY_HEADER, negated(delay));
            Message copy = new Message(m.exchange(), m.routingKey(), rewriter.withHeaders(m.properties(), headers),
                    headers, m.persistent(), expiration(e, m), m.body());
            Set<Queue> targets = v.route(h.exchange(), SenderSelected.routingKeys(m.routingKey(), headers, rewriter),
                    headers);
            broker.deliveries().enqueueRouted(targets, copy, true);
        }
        settle(h.holding(), e); // after the copies' enqueue records: a crash in between duplicates, never loses
    }

    /** The plugin's {@code x-delay} on a routed message: a signed 32-bit int when it fits, as there. */
    private static Object negated(long delay) {
        if (-delay >= Integer.MIN_VALUE) {
            return Integer.valueOf((int) -delay);
        }
        return Long.valueOf(-delay);
    }

    /**
     * The message's {@code expiration}: counted, as in the plugin, from when it reaches its queues. A message
     * read back from the store lost the parsed value, so it is read from its properties again.
     */
    private long expiration(QueueEntry e, Message m) {
        if (e.residentMessage() != null) {
            return m.expirationMillis();
        }
        try {
            return Message.parseExpiration(rewriter.expiration(m.properties()));
        } catch (BrokerException invalid) {
            return Message.NO_EXPIRATION; // accepted at publish, so not expected
        }
    }

    private void settle(Queue holding, QueueEntry e) {
        if (e.removed) {
            return;
        }
        e.removed = true;
        if (holding.stores(e)) {
            broker.store().removed(holding, e);
        }
    }

    /** The exchange is gone: what it held goes with it. */
    void drop(Exchange x) {
        Queue holding = holdings.remove(x);
        if (holding == null) {
            return;
        }
        waiting.entrySet().removeIf(w -> {
            if (w.getValue().exchange() != x) {
                return false;
            }
            settle(holding, w.getKey());
            return true;
        });
    }

    private Queue holding(String vhost, Exchange x) {
        return holdings.computeIfAbsent(x, k -> new Queue(vhost, HOLDING_PREFIX + k.name(), k.durable(), false,
                false, Map.of(), -1));
    }

    // ---- recovery and inspection, for the store's owner ----

    /**
     * The store's name for the holding area of {@code exchange} in {@code vhost}, or null if it is not a
     * durable delayed exchange (only those have stored messages).
     */
    public String holdingName(String vhost, String exchange) {
        VirtualHost v = broker.virtualHost(vhost);
        Exchange x = v == null ? null : v.exchange(exchange);
        return x != null && x.durable() && x.type() == ExchangeType.X_DELAYED_MESSAGE ? HOLDING_PREFIX + x.name()
                : null;
    }

    /** When the earliest held message is due, or Long.MAX_VALUE when none is held. */
    long nextDueMillis() {
        return waiting.isEmpty() ? Long.MAX_VALUE : waiting.firstKey().expiresAtMillis();
    }

    /**
     * Puts back a held message recovered from the store (its {@link QueueEntry#expiresAtMillis()} is its due
     * time). One already due is routed on the next {@link Broker#tick}.
     */
    public void restore(String vhost, String exchange, QueueEntry e) {
        VirtualHost v = broker.requireVhost(vhost);
        Exchange x = v.requireExchange(exchange);
        Preconditions.check(x.type() == ExchangeType.X_DELAYED_MESSAGE, "not a delayed exchange: " + exchange);
        waiting.put(e, new Held(x, holding(vhost, x)));
    }

    /** Calls {@code action} with each held message and its holding area, in due order (for compaction). */
    public void forEach(BiConsumer<Queue, QueueEntry> action) {
        waiting.forEach((e, h) -> action.accept(h.holding(), e));
    }

    /** Messages held now, across every delayed exchange. */
    public int heldCount() {
        return waiting.size();
    }
}
