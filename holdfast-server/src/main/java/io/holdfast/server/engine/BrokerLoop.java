package io.holdfast.server.engine;

import io.holdfast.core.Preconditions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one thread that changes broker state. Any thread may {@link #execute} a task; the loop runs
 * tasks in submission order, then flushes every connection that has frames waiting, so the frames a
 * batch of tasks produced leave in one write per connection. A task that throws is logged and the
 * loop goes on: one bad command must not stop the broker. A JVM {@link Error} halts the process (exit
 * code 70), since nothing the broker thread owns can be trusted after it.
 */
public final class BrokerLoop implements AutoCloseable, java.util.concurrent.Executor {
    private static final Logger log = LoggerFactory.getLogger(BrokerLoop.class);
    private static final int MAX_TASKS_PER_BATCH = 4096;
    /** The longest the loop sleeps with nothing to do (timers are checked at least this often). */
    private static final long IDLE_PARK_MILLIS = 100;

    private final ConcurrentLinkedQueue<Runnable> tasks = new ConcurrentLinkedQueue<>();
    private final List<Batched> dirty = new ArrayList<>();
    private final Thread thread;
    private volatile boolean running = true;
    private final CountDownLatch stopped = new CountDownLatch(1);
    /** Periodic housekeeping; added before {@link #start()}, run on the loop between batches. */
    private final List<Timer> timers = new ArrayList<>();
    /** When {@link #deadlineTask} is next due, in wall-clock ms (Long.MAX_VALUE: never); read on the loop. */
    private LongSupplier deadlineMillis = () -> Long.MAX_VALUE;
    private Runnable deadlineTask = () -> { };

    private static final class Timer {
        final long periodNanos;
        final Runnable task;
        long dueNanos;

        Timer(long periodNanos, Runnable task) {
            this.periodNanos = periodNanos;
            this.task = task;
            this.dueNanos = System.nanoTime() + periodNanos;
        }
    }

    public BrokerLoop() {
        thread = new Thread(this::run, "holdfast-broker");
        thread.setDaemon(false);
    }

    /** Runs {@code task} on the loop about every {@code periodMillis}; call before {@link #start()}. */
    public void every(long periodMillis, Runnable task) {
        Preconditions.check(!thread.isAlive(), "timers are added before the loop starts");
        timers.add(new Timer(TimeUnit.MILLISECONDS.toNanos(periodMillis), task));
    }

    /**
     * Runs {@code task} on the loop as soon as the wall clock reaches {@code dueMillis} (asked on the loop after
     * every batch, so it may change with every command; Long.MAX_VALUE for never): the loop sleeps no longer than
     * that, so the task runs within about a millisecond of its time rather than on the next periodic tick. Call
     * before {@link #start()}; one such task per loop.
     */
    public void at(LongSupplier dueMillis, Runnable task) {
        Preconditions.check(!thread.isAlive(), "the deadline task is set before the loop starts");
        this.deadlineMillis = dueMillis;
        this.deadlineTask = task;
    }

    public void start() {
        thread.start();
    }

    @Override
    public void execute(Runnable task) {
        tasks.add(task);
        LockSupport.unpark(thread);
    }

    public boolean inLoop() {
        return Thread.currentThread() == thread;
    }

    /** Output gathered during a batch of tasks (a connection's frames), flushed once the batch has run. */
    public interface Batched {
        void flush();
    }

    /** Called on the loop when {@code output} gets its first item of a batch; it is flushed after the batch. */
    public void markDirty(Batched output) {
        dirty.add(output);
    }

    private void run() {
        try {
            while (running || !tasks.isEmpty()) {
                int n = 0;
                Runnable task;
                while (n < MAX_TASKS_PER_BATCH && (task = tasks.poll()) != null) {
                    n++;
                    try {
                        task.run();
                    } catch (RuntimeException | AssertionError e) {
                        log.error("broker task failed; the broker goes on", e);
                    }
                }
                runDueTimers();
                long waitMillis = runDeadline();
                flush();
                if (n == 0 && running && waitMillis > 0) {
                    LockSupport.parkNanos(this, TimeUnit.MILLISECONDS.toNanos(Math.min(IDLE_PARK_MILLIS, waitMillis)));
                }
            }
            flush();
        } catch (Error e) {
            // Out of memory, a missing class, a stack overflow: the broker's state can no longer be
            // trusted, and a broker whose state thread is gone would keep its port open and hang every
            // client. Crash-only: stop the process now and let recovery (and a supervisor) take over.
            log.error("FATAL: the broker thread died; halting so that recovery can take over", e);
            Runtime.getRuntime().halt(70);
        } finally {
            stopped.countDown();
        }
    }

    /** Runs the deadline task if it is due; returns how many ms until it is due next (0: at once). */
    private long runDeadline() {
        long now = System.currentTimeMillis();
        if (deadlineMillis.getAsLong() <= now) {
            try {
                deadlineTask.run();
            } catch (RuntimeException e) {
                log.error("deadline broker task failed; it will run again", e);
            }
        }
        long due = deadlineMillis.getAsLong();
        return due == Long.MAX_VALUE ? IDLE_PARK_MILLIS : Math.max(0, due - System.currentTimeMillis());
    }

    private void runDueTimers() {
        long now = System.nanoTime();
        for (Timer t : timers) {
            if (now - t.dueNanos >= 0) {
                t.dueNanos = now + t.periodNanos;
                try {
                    t.task.run();
                } catch (RuntimeException e) {
                    log.error("periodic broker task failed; it will run again", e);
                }
            }
        }
    }

    private void flush() {
        for (Batched o : dirty) {
            o.flush();
        }
        dirty.clear();
    }

    /** Runs what is queued, then stops the thread. */
    @Override
    public void close() {
        stop();
    }

    /**
     * Runs what is queued, then stops the thread; true if it stopped, so that the caller may read the
     * broker's state from its own thread. False after 10 s or an interrupt: the state is still owned.
     */
    boolean stop() {
        running = false;
        LockSupport.unpark(thread);
        try {
            if (stopped.await(10, TimeUnit.SECONDS)) {
                return true;
            }
            log.warn("broker loop did not stop within 10 s");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return false;
    }
}
