package io.holdfast.store;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** An {@link AppendCallback} a test can wait on. */
final class Completion implements AppendCallback {
    private final CompletableFuture<Long> future = new CompletableFuture<>();
    volatile Thread thread;

    static Completion append(Journal journal, String payload, boolean live) {
        Completion completion = new Completion();
        journal.append(payload.getBytes(StandardCharsets.UTF_8), live, completion);
        return completion;
    }

    @Override
    public void completed(long position, Throwable errorOrNull) {
        thread = Thread.currentThread();
        if (errorOrNull == null) {
            future.complete(position);
        } else {
            future.completeExceptionally(errorOrNull);
        }
    }

    boolean isDone() {
        return future.isDone();
    }

    /** The segment id of the {@link #position()}; fails the test as that does. */
    long segmentId() {
        return Journal.segmentOf(position());
    }

    /** The record's position; fails the test if the append failed or took more than 10 s. */
    long position() {
        try {
            return future.get(10, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw new AssertionError("append failed", e.getCause());
        } catch (InterruptedException | TimeoutException e) {
            throw new AssertionError("append did not complete", e);
        }
    }

    /** The error the append failed with, or null if it succeeded. */
    Throwable error() {
        try {
            future.get(10, TimeUnit.SECONDS);
            return null;
        } catch (ExecutionException e) {
            return e.getCause();
        } catch (InterruptedException | TimeoutException e) {
            throw new AssertionError("append did not complete", e);
        }
    }
}
