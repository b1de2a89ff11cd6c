package io.holdfast.cluster;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.exceptions.GroupMismatchException;
import org.apache.ratis.thirdparty.com.google.protobuf.UnsafeByteOperations;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Batches commands into log entries of one group, the way the journal batches fsyncs: no timer; while an entry is
 * in flight, arriving commands wait, and the next entry carries all of them (up to
 * {@link ClusterConfig#entryBytesMax()}; the rest wait for the entry after). Ratis commits only a few thousand
 * entries a second here, so commands per entry is what makes the throughput.
 *
 * <p>Guarantees: a command's future completes normally only after the entry holding it was committed by a
 * majority and applied on the leader, with the result {@link ReplicatedState#apply} returned; commands of one
 * submitter are applied in the order their {@link #submit} calls returned. It completes exceptionally with
 * {@link CommandRejectedException} if the state refused the committed command, and with
 * {@link ReplicationException} whenever the commit is not known (no leader, no majority, closed, or no answer
 * within {@link ClusterConfig#commitTimeout()}): never as a success it cannot vouch for.
 *
 * <p>Threads: any thread may call {@link #submit}. Futures complete on a Ratis client thread or the JDK's timeout
 * thread: dependent stages must not block (use the {@code ...Async} variants with an executor to do real work).
 */
public final class CommandSubmitter implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(CommandSubmitter.class);
    /** Pause before an entry refused by a node that does not host the group yet goes again. */
    private static final long RESEND_MILLIS = 100;

    private final ReplicaGroup group;
    private final ClusterConfig config;
    /** Replaced after an entry fails: see {@link #replaceClient}. Guarded by this. */
    private RaftClient client;
    private final ArrayDeque<Pending> pending = new ArrayDeque<>();
    private boolean inFlight;
    private boolean closed;
    private long entriesSent;
    private long commandsSent;

    private record Pending(byte[] command, CompletableFuture<byte[]> result) {}

    CommandSubmitter(ReplicaGroup group, ClusterConfig config) {
        this.group = group;
        this.config = config;
        this.client = newClient();
    }

    private RaftClient newClient() {
        return RaftClient.newBuilder()
                .setRaftGroup(group.toRaftGroup())
                .setProperties(RaftSettings.client(config))
                .setRetryPolicy(RaftSettings.retryPolicy(config))
                .build();
    }

    /**
     * Submits one command. The array must not change afterwards (it is sent as it is when its entry goes).
     *
     * @return its result once committed and applied; see the class comment for how it fails
     */
    public CompletableFuture<byte[]> submit(byte[] command) {
        CompletableFuture<byte[]> result = new CompletableFuture<>();
        if (EntryFormat.entryBytes(1, command.length) > config.entryBytesMax()) {
            result.completeExceptionally(new IllegalArgumentException("a command of " + command.length
                    + " bytes does not fit in an entry of at most " + config.entryBytesMax() + " bytes"));
            return result;
        }
        List<Pending> batch;
        synchronized (this) {
            if (closed) {
                result.completeExceptionally(new ReplicationException("the submitter of group " + group.name()
                        + " is closed; not sent", null));
                return result;
            }
            pending.add(new Pending(command, result));
            if (inFlight) {
                return result; // goes with the next entry, when this one is answered
            }
            inFlight = true;
            batch = takeBatch();
        }
        sendFrom(batch);
        return result;
    }

    /** Entries sent so far (each a batch); with {@link #commandsSent()}, the batching's measure. */
    public synchronized long entriesSent() {
        return entriesSent;
    }

    public synchronized long commandsSent() {
        return commandsSent;
    }

    /** Fails waiting commands with {@link ReplicationException}, and in-flight ones as the client closes. */
    @Override
    public void close() {
        List<Pending> waiting;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            waiting = new ArrayList<>(pending);
            pending.clear();
        }
        fail(waiting, new ReplicationException("the submitter of group " + group.name() + " closed; not sent", null));
        RaftClient last;
        synchronized (this) {
            last = client;
        }
        closeQuietly(last);
    }

    private void closeQuietly(RaftClient c) {
        try {
            c.close();
        } catch (IOException e) {
            LOG.warn("cluster: closing the client of group {} failed", group.name(), e);
        }
    }

    /**
     * After an entry failed, the next goes through a new client. Once Ratis 3.3's ordered async client has used up
     * the retries of one request, it closes its sliding window for good: every later send fails at once with
     * {@code AlreadyClosedException} ("SlidingWindow$Client ... is closed"). A cluster node whose leader was killed
     * then refused every write long after the other two had elected a new leader. A new client has a new window and
     * finds the leader afresh. The failed entry's fate stays unknown, as its futures said: it may still be committed
     * (before or after later entries), and at most once, since it is never sent again.
     */
    private void replaceClient() {
        RaftClient old;
        synchronized (this) {
            if (closed) {
                return;
            }
            old = client;
            client = newClient();
        }
        closeQuietly(old);
    }

    /**
     * Sends {@code batch} and, each time an entry is answered at once (a failure that needs no round trip), the
     * next: a loop, not recursion, so a run of instant failures cannot grow the stack.
     */
    private void sendFrom(List<Pending> batch) {
        sendFrom(batch, System.nanoTime() + config.commitTimeout().toNanos());
    }

    private void sendFrom(List<Pending> first, long deadline) {
        List<Pending> batch = first;
        long until = deadline;
        while (batch != null) {
            CompletableFuture<RaftClientReply> reply = send(batch, until);
            if (!reply.isDone()) {
                List<Pending> sent = batch;
                long d = until;
                reply.whenComplete((r, error) -> {
                    List<Pending> next = answered(sent, r, error, d);
                    if (next != null) {
                        sendFrom(next);
                    }
                });
                return;
            }
            Throwable error = failure(reply);
            batch = answered(batch, error == null ? reply.join() : null, error, until);
            until = System.nanoTime() + config.commitTimeout().toNanos();
        }
    }

    /**
     * Completes the futures of an answered entry and returns the next batch to send (null if none), or, when the
     * entry reached a node that does not host the group yet (a queue just declared, whose other nodes are still
     * adding it), sends the same entry again shortly, before any later one, until its deadline: then null.
     */
    private List<Pending> answered(List<Pending> batch, RaftClientReply r, Throwable error, long deadline) {
        Throwable why = error != null ? unwrap(error) : r.isSuccess() ? null : r.getException();
        if (why != null) {
            replaceClient();
        }
        boolean open;
        synchronized (this) {
            open = !closed;
        }
        if (why != null && open && notHosted(why)
                && System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(RESEND_MILLIS) < deadline) {
            CompletableFuture.delayedExecutor(RESEND_MILLIS, TimeUnit.MILLISECONDS)
                    .execute(() -> sendFrom(batch, deadline));
            return null;
        }
        complete(batch, r, error);
        return next();
    }

    /** Whether a group member answered that it does not have the group: the entry was not taken, nowhere. */
    private static boolean notHosted(Throwable error) {
        for (Throwable t = error; t != null; t = t.getCause()) {
            if (t instanceof GroupMismatchException) {
                return true;
            }
        }
        return false;
    }

    private CompletableFuture<RaftClientReply> send(List<Pending> batch, long deadline) {
        List<byte[]> commands = new ArrayList<>(batch.size());
        for (Pending p : batch) {
            commands.add(p.command());
        }
        byte[] entry = EntryFormat.encodeEntry(System.currentTimeMillis(), commands);
        RaftClient c;
        synchronized (this) {
            c = client;
        }
        try {
            // copy(): the timeout completes our copy, never the client's own future, which Ratis still manages
            return c.async().send(Message.valueOf(UnsafeByteOperations.unsafeWrap(entry))).copy()
                    .orTimeout(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())),
                            TimeUnit.MILLISECONDS);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    /** The next batch, or null (and nothing in flight) if none waits. */
    private synchronized List<Pending> next() {
        if (pending.isEmpty() || closed) {
            inFlight = false;
            return null;
        }
        return takeBatch();
    }

    /** Takes the waiting commands that fit in one entry (at least one); the caller holds the monitor. */
    private List<Pending> takeBatch() {
        List<Pending> batch = new ArrayList<>();
        long bytes = 0;
        while (!pending.isEmpty()) {
            long with = bytes + pending.peekFirst().command().length;
            if (!batch.isEmpty() && EntryFormat.entryBytes(batch.size() + 1, with) > config.entryBytesMax()) {
                break;
            }
            bytes = with;
            batch.add(pending.pollFirst());
        }
        entriesSent++;
        commandsSent += batch.size();
        return batch;
    }

    private void complete(List<Pending> batch, RaftClientReply reply, Throwable error) {
        if (error != null) {
            fail(batch, new ReplicationException("group " + group.name() + ": an entry of " + batch.size()
                    + " commands is not known to be committed", unwrap(error)));
            return;
        }
        if (!reply.isSuccess()) {
            fail(batch, new ReplicationException("group " + group.name() + ": an entry of " + batch.size()
                    + " commands is not known to be committed", reply.getException()));
            return;
        }
        List<EntryFormat.Result> results;
        try {
            results = EntryFormat.decodeReply(reply.getMessage().getContent().toByteArray());
        } catch (IllegalArgumentException e) {
            fail(batch, new IllegalStateException("group " + group.name() + ": committed, but the reply is damaged",
                    e));
            return;
        }
        if (results.size() != batch.size()) {
            fail(batch, new IllegalStateException("group " + group.name() + ": committed " + batch.size()
                    + " commands, but the reply has " + results.size() + " results"));
            return;
        }
        for (int i = 0; i < batch.size(); i++) {
            EntryFormat.Result r = results.get(i);
            if (r.status() == EntryFormat.OK) {
                batch.get(i).result().complete(r.bytes());
            } else {
                batch.get(i).result().completeExceptionally(
                        new CommandRejectedException(new String(r.bytes(), StandardCharsets.UTF_8)));
            }
        }
    }

    private static void fail(List<Pending> batch, Throwable error) {
        for (Pending p : batch) {
            p.result().completeExceptionally(error);
        }
    }

    /** The failure of a completed future, or null if it succeeded. */
    private static Throwable failure(CompletableFuture<?> done) {
        try {
            done.join();
            return null;
        } catch (RuntimeException e) {
            return e;
        }
    }

    private static Throwable unwrap(Throwable error) {
        Throwable t = error;
        while ((t instanceof CompletionException
                || t instanceof ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }
}
