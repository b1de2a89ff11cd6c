package io.holdfast.core;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A queue: its declaration and its state machine. Messages are offered in enqueue order; a requeued
 * message goes back to its original position, ahead of every message enqueued after it (contract
 * rule 3). Owned by the broker thread; nothing here blocks, reads a clock or does I/O.
 *
 * <p>Why two structures: delivery always takes the lowest sequence, so every message out for delivery
 * has a lower sequence than the head of {@link #ready}. A requeued message therefore belongs before
 * all of {@code ready}, and among the other requeued ones by sequence: a small sorted map in front of
 * a plain deque keeps the common path O(1).
 *
 * <p>Length limits ({@code x-max-length}, {@code x-max-length-bytes}) count ready messages only, as
 * RabbitMQ does, and are enforced when a message is published to the queue: with {@code x-overflow}
 * {@code drop-head} (the default) the oldest ready messages go until the queue is within its limits,
 * with {@code reject-publish} and {@code reject-publish-dlx} the new message is refused (the latter
 * dead-letters it). As in RabbitMQ, drop-head also applies after messages are requeued: they go back to
 * their positions first, then the queue drops (or dead-letters) from its head, requeued ones included, until
 * it is within its limits.
 *
 * <p>Message TTL ({@code x-message-ttl} on the queue, {@code expiration} on the message; the smaller
 * wins) fixes each entry's expiry when it is enqueued. As in RabbitMQ, expired messages leave from the
 * head only: the broker drops them before every delivery and basic.get and once their time comes (see
 * {@link Broker#nextExpiryMillis}), so an expired message is never delivered, while one behind a
 * longer-lived head waits for it to go.
 *
 * <p>With {@code x-expires} the queue is deleted once unused for that long: no consumer, no basic.get
 * and no declaration (a passive one included). The lease starts when the queue is declared or recovered.
 *
 * <p>With {@code x-single-active-consumer} the queue's consumers stay in registration order and only
 * the first is given messages; when it goes, the next takes over from the queue's head, so the
 * deliveries its predecessor did not ack (requeued at their positions) come to it first.
 *
 * <p>With {@code x-delivery-limit} N, a message returned to the queue after its (N+1)th delivery is not
 * requeued but dead-lettered, or without a dead-letter exchange moved to the vhost's
 * {@value Broker#QUARANTINE_QUEUE} queue (see {@link Broker}).
 *
 * <p>With {@code x-dead-letter-exchange} (and optionally {@code x-dead-letter-routing-key}) the messages
 * rejected without requeue, expired, dropped or refused by a length limit, or over the delivery limit are
 * republished there instead of dropped (see {@link DeadLetters}).
 *
 * <p>With {@code x-redelivery-backoff} a message that comes back unsettled is <em>held</em> (see
 * {@link RedeliveryHolds}): still in the queue, counted in its {@link #messageCount}, but neither ready nor
 * counted by {@link #readyCount} (so not against a length limit) until its delay is over; it then goes back
 * to its original position.
 *
 * <p>With {@code x-max-priority} the ready messages are kept by priority (see {@link PriorityLevels}): higher
 * priority first, each priority in the order above. A plain queue has no levels and takes none of their cost.
 * As RabbitMQ documents for priority queues, drop-head drops from the head, i.e. the highest priority first;
 * expired messages leave from the head of each priority level.
 */
public final class Queue {
    private final String vhost;
    private final String name;
    private final boolean durable;
    private final boolean exclusive;
    private final boolean autoDelete;
    private final Map<String, Object> arguments;
    /** The connection that owns an exclusive queue, or -1. */
    private final long ownerConnection;
    /** {@code x-max-length} and {@code x-max-length-bytes}, or -1 for no limit. */
    private final long maxLength;
    private final long maxLengthBytes;
    /** {@code x-overflow} is reject-publish or reject-publish-dlx (else drop-head). */
    private final boolean rejectsOverflow;
    /** {@code x-single-active-consumer}: only the first registered consumer is given messages. */
    private final boolean singleActiveConsumer;
    /** {@code x-message-ttl} in milliseconds, or -1 for none. */
    private final long messageTtlMillis;
    /** {@code x-expires} in milliseconds, or -1 for none. */
    private final long expiresMillis;
    /** {@code x-consumer-timeout} in milliseconds, or -1 for the broker's. */
    private final long consumerTimeoutMillis;
    /** {@code x-delivery-limit}, or -1 for none (see {@link Broker#QUARANTINE_QUEUE}). */
    private final long deliveryLimit;
    /** {@code x-redelivery-backoff}, or null when absent. */
    private final RedeliveryBackoff redeliveryBackoff;
    /** Entries held back by the backoff; null until the first. */
    private HeldEntries held;
    /** {@code x-dead-letter-exchange} and {@code x-dead-letter-routing-key}, or null when absent. */
    private final String deadLetterExchange;
    private final String deadLetterRoutingKey;
    /** {@code x-overflow} is reject-publish-dlx: a refused message is dead-lettered. */
    private final boolean deadLettersRefused;
    /** When the queue was last used (see {@link #unusedAt}); {@code Long.MIN_VALUE} until it is known. */
    private long lastUsedMillis = Long.MIN_VALUE;

    private long lastSeq;
    /** The ready entries of a plain queue, its cold middle paged out once {@link #pageIndex} is called. */
    private ReadyEntries ready = new ReadyEntries();
    private final TreeMap<Long, QueueEntry> requeued = new TreeMap<>();
    /** Counts for the management API's message rates (plain fields: the broker thread writes and reads them). */
    private long publishedTotal;
    private long deliveredTotal;
    private long redeliveredTotal;
    private long ackedTotal;
    private long readyBytes;
    /** The ready messages by priority, or null for a queue without {@code x-max-priority} (which uses the above). */
    private final PriorityLevels levels;
    /** Entries delivered and not yet settled or returned, by sequence: deleting the queue settles them. */
    private final Map<Long, QueueEntry> unacked = new LinkedHashMap<>();
    /** In registration order, and by priority for delivery (see {@link QueueConsumers}). */
    final QueueConsumers consumers = new QueueConsumers();
    boolean hadConsumers;
    boolean deleted;
    /** Declared with {@code x-queue-type = quorum}: on a cluster node its messages live in the cluster. */
    private final boolean quorumType;

    Queue(String vhost, String name, boolean durable, boolean exclusive, boolean autoDelete,
          Map<String, Object> arguments, long ownerConnection) {
        this.vhost = vhost;
        this.name = name;
        this.durable = durable;
        this.exclusive = exclusive;
        this.autoDelete = autoDelete;
        this.arguments = arguments == null ? Map.of() : arguments;
        this.quorumType = QuorumQueueRules.isQuorum(this.arguments);
        this.ownerConnection = ownerConnection;
        this.maxLength = limit(this.arguments.get("x-max-length"));
        this.maxLengthBytes = limit(this.arguments.get("x-max-length-bytes"));
        Object overflow = this.arguments.get("x-overflow");
        this.rejectsOverflow = overflow != null && QueueArguments.show(overflow).startsWith("reject-publish");
        this.deadLettersRefused = overflow != null && QueueArguments.show(overflow).equals("reject-publish-dlx");
        this.deadLetterExchange = text(this.arguments.get("x-dead-letter-exchange"));
        this.deadLetterRoutingKey = text(this.arguments.get("x-dead-letter-routing-key"));
        this.singleActiveConsumer = Boolean.TRUE.equals(this.arguments.get("x-single-active-consumer"));
        this.messageTtlMillis = limit(this.arguments.get("x-message-ttl"));
        this.expiresMillis = limit(this.arguments.get("x-expires"));
        this.consumerTimeoutMillis = limit(this.arguments.get("x-consumer-timeout"));
        this.deliveryLimit = limit(this.arguments.get("x-delivery-limit"));
        this.redeliveryBackoff = backoff(this.arguments.get(RedeliveryBackoff.ARGUMENT));
        this.levels = PriorityLevels.of(this.arguments);
    }

    /**
     * From now on the middle of a long backlog goes to {@code pages}, {@code pageEntries} index entries a page (see
     * {@link ReadyEntries}); for a plain queue (not a priority queue), before it holds anything.
     */
    void pageIndex(IndexPages pages, int pageEntries) {
        Preconditions.check(levels == null && ready.isEmpty(), "pages the index of an empty plain queue");
        ready = new ReadyEntries(this, pages, pageEntries, lostBytes -> readyBytes -= lostBytes);
    }

    /** Ready entries whose index is paged out to disk, not in memory (0 for a queue that does not page). */
    public long pagedOutCount() {
        return ready.pagedOutCount();
    }

    /** A validated backoff argument, or null when absent (or, from an old metadata file, not valid). */
    private static RedeliveryBackoff backoff(Object value) {
        if (value == null || !QueueArguments.isText(value)) {
            return null;
        }
        try {
            return RedeliveryBackoff.parse(QueueArguments.show(value));
        } catch (BrokerException e) {
            return null;
        }
    }

    /** A validated limit argument, or -1 when absent (or, from an old metadata file, not an integer). */
    private static long limit(Object value) {
        return QueueArguments.isIntegral(value) ? ((Number) value).longValue() : -1;
    }

    /** A validated text argument, or null when absent (or, from an old metadata file, not text). */
    private static String text(Object value) {
        return value != null && QueueArguments.isText(value) ? QueueArguments.show(value) : null;
    }

    public String vhost() { return vhost; }

    public String name() { return name; }

    public boolean durable() { return durable; }

    public boolean exclusive() { return exclusive; }

    public boolean autoDelete() { return autoDelete; }

    public Map<String, Object> arguments() { return arguments; }

    /**
     * True if declared with {@code x-queue-type = quorum}. In a broker given {@link Broker.ReplicatedQueues} such a
     * queue holds nothing here: what is routed to it goes to the cluster, and it only names it (bindings, routing).
     */
    public boolean quorumType() { return quorumType; }

    long ownerConnection() { return ownerConnection; }

    /** Messages waiting to be delivered (not counting those delivered and not yet acked). */
    public int readyCount() { return levels != null ? levels.size() : ready.size() + requeued.size(); }

    /** {@code x-max-priority}, or 0 when the queue is not a priority queue. */
    public int maxPriority() { return levels == null ? 0 : levels.maxPriority(); }

    public long readyBytes() { return readyBytes; }

    public int unackedCount() { return unacked.size(); }

    /** Messages held back by {@code x-redelivery-backoff}: in the queue, not yet ready. */
    public int heldCount() { return held == null ? 0 : held.size(); }

    /** Messages in the queue and not out for delivery: ready ones and held-back ones (declare-ok's count). */
    public int messageCount() { return readyCount() + heldCount(); }

    /** {@code x-redelivery-backoff}, or null when the queue has none. */
    RedeliveryBackoff redeliveryBackoff() { return redeliveryBackoff; }

    /**
     * The wall-clock time until which {@code e} is held back by {@code x-redelivery-backoff}, or -1 if it is
     * not held (for a store that rewrites the entry's record: the time must survive).
     */
    public long heldUntilMillis(QueueEntry e) {
        return held == null ? -1 : held.readyAtMillis(e);
    }

    public int consumerCount() { return consumers.size(); }

    /** Messages enqueued since the queue was declared or recovered (RabbitMQ's queue {@code publish} count). */
    public long publishedTotal() { return publishedTotal; }

    /** Deliveries to consumers and basic.gets since then ({@code deliver_get}). */
    public long deliveredTotal() { return deliveredTotal; }

    /** Of those, deliveries flagged redelivered ({@code redeliver}). */
    public long redeliveredTotal() { return redeliveredTotal; }

    /** Deliveries acked since then ({@code ack}). */
    public long ackedTotal() { return ackedTotal; }

    /** A delivery (or get) of one of its messages; for the counts above. */
    void countDelivery(boolean redelivered) {
        deliveredTotal++;
        if (redelivered) {
            redeliveredTotal++;
        }
    }

    void countAck() {
        ackedTotal++;
    }

    public boolean singleActiveConsumer() { return singleActiveConsumer; }

    /** {@code x-dead-letter-exchange} ("" is the default exchange), or null when the queue has none. */
    public String deadLetterExchange() { return deadLetterExchange; }

    /** {@code x-dead-letter-routing-key}, or null to keep each message's own routing key. */
    public String deadLetterRoutingKey() { return deadLetterRoutingKey; }

    /** True if a message refused for the length limit is dead-lettered ({@code x-overflow} reject-publish-dlx). */
    boolean deadLettersRefused() { return deadLettersRefused && deadLetterExchange != null; }

    /** {@code x-delivery-limit}, or -1 when the queue has none. */
    public long deliveryLimit() { return deliveryLimit; }

    /**
     * The consumer messages go to with {@code x-single-active-consumer}: the earliest registered one still
     * consuming (the others wait, in registration order). Null when the queue has no consumer or is not
     * a single-active-consumer queue.
     */
    public Consumer activeConsumer() {
        return singleActiveConsumer ? consumers.first() : null;
    }

    /**
     * How long a delivery from this queue may stay unacked: its {@code x-consumer-timeout}, else
     * {@code brokerMillis}; negative for no limit.
     */
    long consumerTimeoutMillis(long brokerMillis) {
        return consumerTimeoutMillis >= 0 ? consumerTimeoutMillis : brokerMillis;
    }

    /** A declaration, basic.get or consumer renews the {@code x-expires} lease. */
    void used(long nowMillis) {
        lastUsedMillis = nowMillis;
    }

    /**
     * True if the queue has an {@code x-expires} lease that ran out by {@code nowMillis} with no consumer. A
     * queue whose last use is not known (just recovered) starts its lease now.
     */
    boolean unusedAt(long nowMillis) {
        if (expiresMillis < 0 || !consumers.isEmpty()) {
            return false;
        }
        if (lastUsedMillis == Long.MIN_VALUE) {
            lastUsedMillis = nowMillis;
        }
        return nowMillis - lastUsedMillis > expiresMillis;
    }

    /** True if a message this queue holds should go to the store. */
    boolean stores(Message m) {
        return durable && m.persistent();
    }

    /** True if this queue's entry {@code e} is (or is being) kept by the store. */
    boolean stores(QueueEntry e) {
        return durable && e.persistent;
    }

    /** True if this queue refuses {@code m} because taking it would put the queue over a limit. */
    boolean rejects(Message m) {
        return rejectsOverflow && overLimit(readyCount() + 1L, readyBytes + m.sizeBytes());
    }

    /**
     * With drop-head, takes ready messages from the head (requeued ones first) until the queue is
     * within its limits; returns them, oldest first, for the caller to settle.
     */
    List<QueueEntry> dropOverLimit() {
        if (rejectsOverflow) {
            return List.of();
        }
        List<QueueEntry> out = new ArrayList<>();
        while (hasReady() && overLimit(readyCount(), readyBytes)) {
            out.add(poll());
        }
        return out;
    }

    private boolean overLimit(long count, long bytes) {
        return maxLength >= 0 && count > maxLength || maxLengthBytes >= 0 && bytes > maxLengthBytes;
    }

    /**
     * Appends a message; {@code seq} comes from the broker's counter and only ever grows. Its expiry is
     * {@code nowMillis} plus the smaller of the queue's and the message's TTL. On a priority queue its priority
     * is read through {@code properties} (only there: a plain queue never decodes properties).
     */
    QueueEntry enqueue(Message m, long seq, long nowMillis, PropertiesRewriter properties) {
        Preconditions.check(seq > lastSeq, "sequence numbers must grow");
        lastSeq = seq;
        long ttl = messageTtlMillis;
        if (m.expirationMillis() >= 0 && (ttl < 0 || m.expirationMillis() < ttl)) {
            ttl = m.expirationMillis();
        }
        long expiresAt = ttl < 0 || nowMillis > QueueEntry.NEVER - ttl ? QueueEntry.NEVER : nowMillis + ttl;
        QueueEntry e = new QueueEntry(seq, m, false, 0, nowMillis, expiresAt);
        publishedTotal++;
        if (levels != null) {
            e.priority = (byte) Math.min(properties.priority(m.properties()), levels.maxPriority());
            levels.addLast(e);
        } else {
            ready.addLast(e);
        }
        readyBytes += m.sizeBytes();
        return e;
    }

    /** Puts back a recovered entry; recovery calls this in sequence order. */
    void restore(QueueEntry e) {
        Preconditions.check(e.seq > lastSeq, "recovered entries must come in sequence order");
        lastSeq = e.seq;
        if (levels != null) {
            levels.addLast(e);
        } else {
            ready.addLast(e);
        }
        readyBytes += e.sizeBytes;
    }

    /** Holds {@code e}, returned or recovered, until {@code readyAtMillis}; it is neither ready nor unacked. */
    void hold(QueueEntry e, long readyAtMillis) {
        if (held == null) {
            held = new HeldEntries();
        }
        held.add(e, readyAtMillis);
    }

    /** Puts back a recovered entry that was held back; recovery calls this in sequence order with {@link #restore}. */
    void restoreHeld(QueueEntry e, long readyAtMillis) {
        Preconditions.check(e.seq > lastSeq, "recovered entries must come in sequence order");
        lastSeq = e.seq;
        hold(e, readyAtMillis);
    }

    /** When the earliest held entry is due, or Long.MAX_VALUE. */
    long nextHeldWakeMillis() {
        return held == null ? Long.MAX_VALUE : held.nextWakeMillis();
    }

    /** Takes the held entries due by {@code nowMillis}; the caller {@link #release releases} or settles each. */
    List<QueueEntry> takeDueHeld(long nowMillis) {
        return held == null ? List.of() : held.takeDue(nowMillis);
    }

    /**
     * A held entry becomes ready at its original position, flagged redelivered. After a restart, entries
     * behind it in the ready deque may precede it (they were out for delivery when it was held, and came
     * back with the recovery): they move in front of it, into the sorted part, keeping the order.
     */
    void release(QueueEntry e) {
        if (levels != null) {
            e.redelivered = true;
            levels.release(e);
            readyBytes += e.sizeBytes;
            return;
        }
        while (!ready.isEmpty() && ready.peekFirst().seq < e.seq) {
            QueueEntry first = ready.pollFirst();
            requeued.put(first.seq, first);
        }
        requeue(e);
    }

    boolean hasReady() {
        if (levels != null) {
            return !levels.isEmpty();
        }
        return !requeued.isEmpty() || !ready.isEmpty();
    }

    /** Takes expired messages from the head until the head is live; returns them for the caller to settle. */
    List<QueueEntry> dropExpired(long nowMillis) {
        if (levels != null) {
            List<QueueEntry> out = levels.dropExpired(nowMillis);
            for (QueueEntry e : out) {
                readyBytes -= e.sizeBytes;
            }
            return out;
        }
        List<QueueEntry> out = List.of();
        QueueEntry head;
        while ((head = peek()) != null && head.expired(nowMillis)) {
            if (out.isEmpty()) {
                out = new ArrayList<>();
            }
            out.add(poll());
        }
        return out;
    }

    /**
     * Takes {@code e} back if it is still the newest ready entry (nobody took it); false otherwise. For a
     * message with TTL 0, which lives only as long as it takes to offer it to the consumers.
     */
    boolean withdrawNewest(QueueEntry e) {
        if (levels != null) {
            if (!levels.withdrawNewest(e)) {
                return false;
            }
            readyBytes -= e.sizeBytes;
            return true;
        }
        if (ready.peekLast() != e) {
            return false;
        }
        ready.pollLast();
        readyBytes -= e.sizeBytes;
        return true;
    }

    /**
     * When the head expires (the earliest of the heads of every priority, on a priority queue, since each one
     * expires at its head), or {@link QueueEntry#NEVER}; for the broker to know when to look again.
     */
    long headExpiresAtMillis() {
        if (levels != null) {
            return levels.earliestHeadExpiry();
        }
        QueueEntry head = peek();
        return head == null ? QueueEntry.NEVER : head.expiresAtMillis;
    }

    QueueEntry peek() {
        if (levels != null) {
            return levels.peek();
        }
        return requeued.isEmpty() ? ready.peekFirst() : requeued.firstEntry().getValue();
    }

    /** Takes the next message in queue order, or null. The caller accounts it as unacked or gone. */
    QueueEntry poll() {
        QueueEntry e;
        if (levels != null) {
            e = levels.poll();
        } else {
            e = requeued.isEmpty() ? ready.pollFirst() : requeued.pollFirstEntry().getValue();
        }
        if (e != null) {
            readyBytes -= e.sizeBytes;
        }
        return e;
    }

    /** A polled entry is out for delivery, awaiting its ack. */
    void markUnacked(QueueEntry e) {
        unacked.put(e.seq, e);
    }

    /** An unacked entry was acked, rejected or returned (a no-op once the queue is deleted). */
    void unmarkUnacked(QueueEntry e) {
        unacked.remove(e.seq);
    }

    /** Forgets the unacked entries and returns them, in delivery order; for deleting the queue. */
    List<QueueEntry> dropUnacked() {
        List<QueueEntry> out = new ArrayList<>(unacked.values());
        unacked.clear();
        return out;
    }

    /** A delivered message comes back, at its original position, flagged redelivered. */
    void requeue(QueueEntry e) {
        if (levels != null) {
            e.redelivered = true;
            levels.requeue(e);
            readyBytes += e.sizeBytes;
            return;
        }
        Preconditions.check(ready.isEmpty() || e.seq < ready.peekFirst().seq,
                "a requeued entry must precede every ready entry");
        e.redelivered = true;
        requeued.put(e.seq, e);
        readyBytes += e.sizeBytes;
    }

    /**
     * Removes every ready and held message, giving each to {@code gone} (for the caller to settle with the store),
     * a page of a paged backlog at a time; returns how many.
     */
    int purge(java.util.function.Consumer<QueueEntry> gone) {
        int n = 0;
        if (levels != null) {
            List<QueueEntry> all = levels.clear();
            all.forEach(gone);
            n += all.size();
        } else {
            requeued.values().forEach(gone);
            n += requeued.size();
            requeued.clear();
        }
        n += ready.drain(gone);
        if (held != null) {
            List<QueueEntry> all = held.takeAll();
            all.forEach(gone);
            n += all.size();
        }
        readyBytes = 0;
        return n;
    }

    // ---- a replicated queue's snapshot (see QuorumSnapshot): the live state, exactly as it is ----

    long lastSeq() { return lastSeq; }

    long lastUsedMillis() { return lastUsedMillis; }

    /** Returned entries ahead of {@link #readyEntries}, by sequence (a plain queue's; not a priority queue's). */
    java.util.Collection<QueueEntry> requeuedEntries() { return requeued.values(); }

    List<QueueEntry> readyEntries() {
        Preconditions.check(!ready.pages(), "a paged queue's ready entries are not all in memory");
        List<QueueEntry> out = new ArrayList<>(ready.size());
        ready.forEachInMemory(out::add);
        return out;
    }

    /** Delivered and unsettled, in delivery order. */
    java.util.Collection<QueueEntry> unackedEntries() { return unacked.values(); }

    /** Held back by the backoff, in the order they are due. */
    void forEachHeld(java.util.function.Consumer<QueueEntry> action) {
        if (held != null) {
            held.forEach(action);
        }
    }

    /**
     * Puts back the state {@link #requeuedEntries}, {@link #readyEntries} and {@link #unackedEntries} described, into
     * a queue just created without a priority; held entries go back through {@link RedeliveryHolds#rehold}.
     */
    void restoreLive(List<QueueEntry> requeuedEntries, List<QueueEntry> readyEntries, List<QueueEntry> unackedEntries,
                     long lastSeq, long lastUsedMillis) {
        Preconditions.check(levels == null && ready.isEmpty() && requeued.isEmpty(), "restores into an empty plain queue");
        for (QueueEntry e : requeuedEntries) {
            requeued.put(e.seq, e);
            readyBytes += e.sizeBytes;
        }
        for (QueueEntry e : readyEntries) {
            ready.addLast(e);
            readyBytes += e.sizeBytes;
        }
        for (QueueEntry e : unackedEntries) {
            unacked.put(e.seq, e);
        }
        this.lastSeq = lastSeq;
        this.lastUsedMillis = lastUsedMillis;
    }

    /**
     * The first {@code max} ready entries after position {@code afterSeq}, in queue order, left where they are
     * (for the quarantine's list and republish). Not for a priority queue, whose order is not by position.
     */
    List<QueueEntry> readyAfter(long afterSeq, int max) {
        Preconditions.check(levels == null && !ready.pages(), "a priority or paged queue is not all in position order");
        List<QueueEntry> out = new ArrayList<>();
        for (QueueEntry e : requeued.tailMap(afterSeq, false).values()) {
            if (out.size() >= max) {
                return out;
            }
            out.add(e);
        }
        for (Iterator<QueueEntry> it = ready.inMemoryPrefix(); it.hasNext(); ) {
            QueueEntry e = it.next();
            if (out.size() >= max) {
                break;
            }
            if (e.seq > afterSeq) {
                out.add(e);
            }
        }
        return out;
    }

    /** How many ready entries come after position {@code afterSeq}. */
    int readyCountAfter(long afterSeq) {
        Preconditions.check(levels == null && !ready.pages(), "a priority or paged queue is not all in position order");
        int passed = 0;
        for (Iterator<QueueEntry> it = ready.inMemoryPrefix(); it.hasNext(); ) { // in order: stop after afterSeq
            QueueEntry e = it.next();
            if (e.seq > afterSeq) {
                break;
            }
            passed++;
        }
        return requeued.tailMap(afterSeq, false).size() + ready.size() - passed;
    }

    /** Takes the ready entry {@code e} out of the queue (the caller settles it); false if it is not ready here. */
    boolean removeReady(QueueEntry e) {
        Preconditions.check(levels == null, "a priority queue is not in position order");
        boolean removed = requeued.remove(e.seq, e) || ready.remove(e);
        if (removed) {
            readyBytes -= e.sizeBytes;
        }
        return removed;
    }

    /** Ready entries in queue order, for inspection and tests. */
    public List<QueueEntry> readySnapshot() {
        if (levels != null) {
            return levels.snapshot();
        }
        List<QueueEntry> out = new ArrayList<>(requeued.values());
        ready.forEach(out::add);
        return out;
    }

    /**
     * Visits every ready entry in queue order without copying the list, reading a paged-out middle a page at a
     * time (its entries are copies, for looking at only): for a clean shutdown's records of a long backlog.
     */
    public void forEachReady(java.util.function.Consumer<QueueEntry> action) {
        if (levels != null) {
            levels.forEach(action);
            return;
        }
        requeued.values().forEach(action);
        ready.forEach(action);
    }

    /**
     * The ready entries in the order the queue delivers them, without copying (for a store reading ahead), as far
     * as they are in memory (a paged queue's run up to its paged-out middle); valid until the queue next changes.
     */
    public Iterator<QueueEntry> readyInOrder() {
        if (levels != null) {
            return levels.inOrder();
        }
        return chain(List.of(requeued.values().iterator(), ready.inMemoryPrefix()));
    }

    /** The elements of {@code parts}, one part after the other. */
    static <T> Iterator<T> chain(List<Iterator<T>> parts) {
        return new Iterator<>() {
            private int part;

            @Override
            public boolean hasNext() {
                while (part < parts.size() && !parts.get(part).hasNext()) {
                    part++;
                }
                return part < parts.size();
            }

            @Override
            public T next() {
                if (!hasNext()) {
                    throw new java.util.NoSuchElementException();
                }
                return parts.get(part).next();
            }
        };
    }

    /**
     * Visits every entry the queue holds in memory, ready, held back or out for delivery (for the store's
     * compaction): not those of a paged-out middle, which the store cannot move while they are on disk.
     */
    public void forEachEntry(java.util.function.Consumer<QueueEntry> action) {
        if (levels != null) {
            levels.forEach(action);
        }
        requeued.values().forEach(action);
        ready.forEachInMemory(action);
        if (held != null) {
            held.forEach(action);
        }
        unacked.values().forEach(action);
    }
}
