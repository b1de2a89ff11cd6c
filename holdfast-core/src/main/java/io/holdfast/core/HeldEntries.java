package io.holdfast.core;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * One queue's messages held back by its {@code x-redelivery-backoff}: returned unsettled, still in the queue,
 * but not ready until their time comes. Ordered by the time each must be looked at again, so finding what
 * is due costs only what is due. Only the waiting entries are here (the queue's index carries no extra
 * field for them), so a queue without backoff pays nothing. Owned by the queue's (the broker) thread.
 */
final class HeldEntries {
    /**
     * @param readyAtMillis when the backoff lets the entry go (what the store records)
     * @param wakeAtMillis  when to look at it again: its ready time, or earlier if its TTL runs out first
     */
    record Held(QueueEntry entry, long readyAtMillis, long wakeAtMillis) {}

    private static final Comparator<Held> BY_WAKE = Comparator.comparingLong(Held::wakeAtMillis)
            .thenComparingLong(h -> h.entry().seq);

    private final TreeSet<Held> byWake = new TreeSet<>(BY_WAKE);
    private final Map<Long, Held> bySeq = new HashMap<>();

    /** Holds {@code e} until {@code readyAtMillis}, or until just after its expiry if that comes first. */
    void add(QueueEntry e, long readyAtMillis) {
        long wake = readyAtMillis;
        if (e.expiresAtMillis != QueueEntry.NEVER && e.expiresAtMillis < readyAtMillis) {
            wake = e.expiresAtMillis + 1;
        }
        Held h = new Held(e, readyAtMillis, wake);
        Held old = bySeq.put(e.seq, h);
        if (old != null) {
            byWake.remove(old);
        }
        byWake.add(h);
    }

    int size() {
        return bySeq.size();
    }

    /** When the earliest held entry is due, or Long.MAX_VALUE when none is held. */
    long nextWakeMillis() {
        return byWake.isEmpty() ? Long.MAX_VALUE : byWake.first().wakeAtMillis();
    }

    /** The time {@code e} is held until, or -1 if it is not held. */
    long readyAtMillis(QueueEntry e) {
        Held h = bySeq.get(e.seq);
        return h != null && h.entry() == e ? h.readyAtMillis() : -1;
    }

    /** Takes the entries due by {@code nowMillis}, earliest first. */
    List<QueueEntry> takeDue(long nowMillis) {
        List<QueueEntry> out = List.of();
        while (!byWake.isEmpty() && byWake.first().wakeAtMillis() <= nowMillis) {
            if (out.isEmpty()) {
                out = new ArrayList<>();
            }
            Held h = byWake.pollFirst();
            bySeq.remove(h.entry().seq);
            out.add(h.entry());
        }
        return out;
    }

    /** Takes every held entry, in queue order (for purge and delete). */
    List<QueueEntry> takeAll() {
        List<QueueEntry> out = new ArrayList<>(bySeq.size());
        for (Held h : byWake) {
            out.add(h.entry());
        }
        out.sort(Comparator.comparingLong(e -> e.seq));
        byWake.clear();
        bySeq.clear();
        return out;
    }

    void forEach(java.util.function.Consumer<QueueEntry> action) {
        for (Held h : byWake) {
            action.accept(h.entry());
        }
    }
}
