package io.holdfast.core;

import java.util.List;

/**
 * Where a queue's cold middle goes: the index entries of a long backlog, between the head the queue delivers from
 * and the tail it appends to, are written away a page at a time and read back, in order, as the head comes near
 * them (see {@link ReadyEntries}). This is what bounds a backlog by the disk rather than the heap. A store offers
 * it through {@link MessageStore#indexPages}; the core never touches a file.
 *
 * <p>A page holds entries whose message the store keeps durably and has paged out, so an entry carries nothing
 * that is not in its fields. The pages are a cache of what the store's own records say: a store that survives
 * restarts rebuilds its queues from those records, never from pages. Broker thread only.
 */
public interface IndexPages {
    /**
     * Writes the entries away as one page and returns its handle, or -1 if it will not (an entry is not yet
     * stored durably, is being moved by the store, the disk refused the write): the entries then stay in memory.
     * On success the store has paged out any message of theirs still in memory, and the objects are no longer
     * the queue's: {@link #read} gives equal, new ones.
     */
    long write(Queue queue, List<QueueEntry> entries);

    /**
     * The page's entries, in the order written, as new objects; null if the page no longer reads back intact
     * (the store has logged and counted that; the messages stay in its records, so a restart brings them back).
     * The page stays until {@link #free}.
     */
    List<QueueEntry> read(Queue queue, long page);

    /** The page is no longer needed. */
    void free(long page);
}
