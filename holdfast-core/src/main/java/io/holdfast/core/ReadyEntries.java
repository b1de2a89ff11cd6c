package io.holdfast.core;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.function.LongConsumer;

/**
 * The ready entries of a plain queue in position order, as one deque would hold them, with the cold middle of a
 * long backlog paged out through {@link IndexPages}: only a head window (what the queue delivers next) and a tail
 * window (what was just appended) stay in memory, so a backlog costs heap per page, not per message.
 *
 * <p>Layout: {@code head | middle pages | tail}, every entry of a part before every entry of the next. An entry is
 * appended to the head while nothing follows it, else to the tail; once the tail holds two pages' worth, its
 * older page is cut off and written away (the newest page stays, so the store has had time to write its
 * messages). The middle is a deque of pages, each written away or, if the store would not take it yet, kept in
 * memory (tried again when later pages are cut). Whenever the head falls to half a page, the next page is read
 * back into it: reads are sequential and a page at a time. When head and middle are empty the tail becomes the
 * head.
 *
 * <p>Without pages ({@link #ReadyEntries(int)} with no {@link IndexPages}) everything stays in the head and this is
 * an {@link ArrayDeque}. Owned by the queue's (the broker) thread.
 */
final class ReadyEntries {
    /** Entries per page unless a queue is told otherwise: 4096 × 42 bytes on disk, about 290 KiB of heap. */
    static final int PAGE_ENTRIES = 4096;

    /** A cut-off part of the middle: written away ({@link #handle} ≥ 0) or still in memory ({@link #entries}). */
    private static final class Page {
        long handle = -1;
        List<QueueEntry> entries;
        final int count;
        final long bytes;

        Page(List<QueueEntry> entries) {
            this.entries = entries;
            this.count = entries.size();
            long b = 0;
            for (QueueEntry e : entries) {
                b += e.sizeBytes;
            }
            this.bytes = b;
        }
    }

    private final Queue queue;
    private final IndexPages pages;
    private final int pageEntries;
    /** Told the body bytes of a page that did not read back: they left the queue. */
    private final LongConsumer lost;
    private ArrayDeque<QueueEntry> head = new ArrayDeque<>();
    private final ArrayDeque<Page> middle = new ArrayDeque<>();
    private ArrayDeque<QueueEntry> tail = new ArrayDeque<>();
    private int size;
    /** Pages of the middle still in memory (the store would not take them when cut). */
    private int residentPages;
    private long pagesWritten;
    private long pagesRead;

    /** A ready list that never pages. */
    ReadyEntries() {
        this(null, null, PAGE_ENTRIES, b -> { });
    }

    ReadyEntries(Queue queue, IndexPages pages, int pageEntries, LongConsumer lost) {
        Preconditions.check(pageEntries >= 2, "a page holds at least two entries");
        this.queue = queue;
        this.pages = pages;
        this.pageEntries = pageEntries;
        this.lost = lost;
    }

    int size() {
        return size;
    }

    boolean isEmpty() {
        return size == 0;
    }

    /** True if this list writes its middle away. */
    boolean pages() {
        return pages != null;
    }

    /** Entries in pages written away, not in memory. */
    long pagedOutCount() {
        long n = 0;
        for (Page p : middle) {
            if (p.entries == null) {
                n += p.count;
            }
        }
        return n;
    }

    /** Pages written away and read back since the queue was made (for tests and metrics). */
    long pagesWritten() {
        return pagesWritten;
    }

    long pagesRead() {
        return pagesRead;
    }

    void addLast(QueueEntry e) {
        size++;
        if (pages == null || middle.isEmpty() && tail.isEmpty() && head.size() < 2 * pageEntries) {
            head.addLast(e);
            return;
        }
        tail.addLast(e);
        if (tail.size() >= 2 * pageEntries) {
            cut();
        }
    }

    /** Moves the tail's older page into the middle and writes it away if the store takes it. */
    private void cut() {
        List<QueueEntry> part = new ArrayList<>(pageEntries);
        for (int i = 0; i < pageEntries; i++) {
            part.add(tail.pollFirst());
        }
        Page p = new Page(part);
        middle.addLast(p);
        residentPages++;
        write(p);
        if (residentPages > 0) { // pages the store would not take before: the newest few may go now
            Iterator<Page> older = middle.descendingIterator();
            older.next();
            for (int looked = 0; looked < 4 && older.hasNext() && residentPages > 0; looked++) {
                Page o = older.next();
                if (o.entries != null) {
                    write(o);
                }
            }
        }
    }

    private void write(Page p) {
        if (p.entries == null) {
            return;
        }
        long handle = pages.write(queue, p.entries);
        if (handle >= 0) {
            p.handle = handle;
            p.entries = null;
            residentPages--;
            pagesWritten++;
        }
    }

    /** The page's entries, read back if written away (and the written copy freed); null if it did not read back. */
    private List<QueueEntry> takeBack(Page p) {
        if (p.entries != null) {
            residentPages--;
            return p.entries;
        }
        List<QueueEntry> read = pages.read(queue, p.handle);
        pages.free(p.handle);
        pagesRead++;
        if (read == null || read.size() != p.count) {
            size -= p.count;
            lost.accept(p.bytes);
            return null;
        }
        return read;
    }

    /** Keeps at least half a page in the head while anything follows it. */
    private void refill() {
        while (head.size() <= pageEntries / 2 && !middle.isEmpty()) {
            List<QueueEntry> back = takeBack(middle.pollFirst());
            if (back != null) {
                head.addAll(back);
            }
        }
        if (head.isEmpty() && middle.isEmpty() && !tail.isEmpty()) {
            ArrayDeque<QueueEntry> t = head;
            head = tail;
            tail = t;
        }
    }

    QueueEntry peekFirst() {
        if (pages != null) {
            refill();
        }
        return head.peekFirst();
    }

    QueueEntry pollFirst() {
        QueueEntry e = peekFirst();
        if (e != null) {
            head.pollFirst();
            size--;
        }
        return e;
    }

    /** The newest entry if it is in memory (it always is: a page is cut only behind a page's worth of tail). */
    QueueEntry peekLast() {
        if (!tail.isEmpty()) {
            return tail.peekLast();
        }
        return middle.isEmpty() ? head.peekLast() : null;
    }

    QueueEntry pollLast() {
        QueueEntry e = peekLast();
        if (e != null) {
            (tail.isEmpty() ? head : tail).pollLast();
            size--;
        }
        return e;
    }

    /** Takes {@code e} out; only for a list that never pages (the quarantine's), where it is a deque's remove. */
    boolean remove(QueueEntry e) {
        Preconditions.check(pages == null, "entries are taken out of the middle of a paged queue");
        boolean removed = head.remove(e);
        if (removed) {
            size--;
        }
        return removed;
    }

    /**
     * The entries in memory from the head on, in order, as far as they run without a gap (all of them for a list
     * that never pages); without copying, valid until the list next changes.
     */
    Iterator<QueueEntry> inMemoryPrefix() {
        List<Iterator<QueueEntry>> parts = new ArrayList<>();
        parts.add(head.iterator());
        for (Page p : middle) {
            if (p.entries == null) {
                return Queue.chain(parts);
            }
            parts.add(p.entries.iterator());
        }
        parts.add(tail.iterator());
        return Queue.chain(parts);
    }

    /** Visits the entries in memory (not those in pages written away), in order. */
    void forEachInMemory(java.util.function.Consumer<QueueEntry> action) {
        head.forEach(action);
        for (Page p : middle) {
            if (p.entries != null) {
                p.entries.forEach(action);
            }
        }
        tail.forEach(action);
    }

    /**
     * Visits every entry in order, reading pages written away one at a time without taking them back (a page
     * that does not read back is skipped); the objects of such pages are copies, for looking at only.
     */
    void forEach(java.util.function.Consumer<QueueEntry> action) {
        head.forEach(action);
        for (Page p : middle) {
            List<QueueEntry> es = p.entries != null ? p.entries : pages.read(queue, p.handle);
            if (es != null) {
                es.forEach(action);
            }
        }
        tail.forEach(action);
    }

    /**
     * Removes every entry, giving each to {@code action} in order, a page at a time (so a purge of a long backlog
     * never holds it all); returns how many were given. A page that does not read back is lost to the queue.
     */
    int drain(java.util.function.Consumer<QueueEntry> action) {
        int given = head.size() + tail.size();
        head.forEach(action);
        head.clear();
        while (!middle.isEmpty()) {
            List<QueueEntry> back = takeBack(middle.pollFirst());
            if (back != null) {
                given += back.size();
                back.forEach(action);
            }
        }
        tail.forEach(action);
        tail.clear();
        size = 0;
        residentPages = 0;
        return given;
    }
}
