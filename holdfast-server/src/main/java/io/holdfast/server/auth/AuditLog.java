package io.holdfast.server.auth;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.holdfast.store.FsyncPolicy;
import io.holdfast.store.Journal;
import io.holdfast.store.JournalConfig;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.LongSupplier;

/**
 * Every change to who may do what, and every failed login: who, from where, when, what. Appended to a
 * journal of its own ({@code <data_dir>/audit/}, the broker's journal format: every record length- and
 * CRC32C-checked, fsynced before {@link #append} returns), never edited in place and never settled, so
 * it survives kill -9 and is only ever added to. A record is a JSON object:
 * {@code {"time": epoch ms, "user", "from", "action", "details": {...}}}. Thread-safe.
 */
public final class AuditLog implements AutoCloseable {
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(AuditLog.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long SEGMENT_BYTES = 8L << 20;
    private static final long APPEND_TIMEOUT_SECONDS = 30;

    /** One entry as read back. */
    public record Entry(long timeMillis, String user, String from, String action, Map<String, String> details) {}

    private final Journal journal;
    private final LongSupplier clock;
    private final List<Long> positions = new ArrayList<>(); // guarded by this

    private AuditLog(Journal journal, LongSupplier clock, List<Long> recovered) {
        this.journal = journal;
        this.clock = clock;
        positions.addAll(recovered);
    }

    public static AuditLog open(Path dataDir, LongSupplier clockMillis) throws IOException {
        List<Long> recovered = new ArrayList<>();
        Path dir = dataDir.resolve("audit");
        JournalConfig config = new JournalConfig(dir, SEGMENT_BYTES, FsyncPolicy.ALWAYS,
                JournalConfig.defaults(dir).fsyncIntervalMillis());
        Journal journal = Journal.open(config, (position, payload) -> recovered.add(position));
        recovered.forEach(journal::retain);
        return new AuditLog(journal, clockMillis, recovered);
    }

    /** Appends an entry and returns once it is on stable storage. */
    public void append(AccessControl.Actor who, String action, Map<String, String> details) throws IOException {
        CompletableFuture<Long> written = new CompletableFuture<>();
        write(who, action, details, (position, error) -> {
            if (error == null) {
                written.complete(position);
            } else {
                written.completeExceptionally(error);
            }
        });
        try {
            written.get(APPEND_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw new IOException("audit log write failed: " + e.getCause(), e.getCause());
        } catch (TimeoutException e) {
            throw new IOException("audit log write did not complete within " + APPEND_TIMEOUT_SECONDS + " s");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while writing the audit log");
        }
    }

    /**
     * Appends an entry without waiting for it (for failed logins, from threads that must not block); a write
     * that fails is logged.
     */
    public void appendLater(AccessControl.Actor who, String action, Map<String, String> details) {
        try {
            write(who, action, details, (position, error) -> {
                if (error != null) {
                    log.error("audit log: could not store '{}' by {} from {}", action, who.user(), who.from(), error);
                }
            });
        } catch (IOException e) {
            log.error("audit log: could not encode '{}'", action, e);
        }
    }

    private void write(AccessControl.Actor who, String action, Map<String, String> details,
                       io.holdfast.store.AppendCallback done) throws IOException {
        Map<String, Object> record = new LinkedHashMap<>();
        record.put("time", clock.getAsLong());
        record.put("user", who.user());
        record.put("from", who.from());
        record.put("action", action);
        record.put("details", new java.util.TreeMap<>(details));
        journal.append(JSON.writeValueAsBytes(record), true, (position, error) -> {
            if (error == null) {
                synchronized (this) {
                    positions.add(position);
                }
            }
            done.completed(position, error);
        });
    }

    /** The newest {@code limit} entries, oldest first. */
    public List<Entry> entries(int limit) throws IOException {
        List<Long> wanted;
        synchronized (this) {
            wanted = new ArrayList<>(positions.subList(Math.max(0, positions.size() - limit), positions.size()));
        }
        List<Entry> out = new ArrayList<>();
        for (long p : wanted) {
            var n = JSON.readTree(journal.read(p));
            Map<String, String> details = new LinkedHashMap<>();
            n.path("details").properties().forEach(e -> details.put(e.getKey(), e.getValue().asText()));
            out.add(new Entry(n.path("time").asLong(), n.path("user").asText(), n.path("from").asText(),
                    n.path("action").asText(), details));
        }
        return out;
    }

    /** Entries kept since the log began. */
    public synchronized int size() {
        return positions.size();
    }

    @Override
    public void close() throws IOException {
        journal.close();
    }
}
