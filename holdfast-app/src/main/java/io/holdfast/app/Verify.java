package io.holdfast.app;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.holdfast.server.persistence.DataDirectoryCheck;
import io.holdfast.store.Journal;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code holdfast verify DATA_DIR}: what the next start would find in a data directory, changing nothing.
 * Exit 0 when a start would find no damage (a torn tail, normal after a crash, is not damage), 1 when it
 * would come up degraded or could not read the topology, 2 when the directory is not a data directory.
 */
@Command(name = "verify", description = {"Check a data directory offline: read every journal segment, seal and the",
        "metadata as a start would, and report what it would find, without changing anything.",
        "Safe on a copy of a running broker's directory. Exit 0 clean, 1 damaged, 2 not a data directory."})
final class Verify implements Callable<Integer> {
    /** Journals smaller than this finish before a progress line would help. */
    private static final long PROGRESS_BYTES_MIN = 64L << 20;

    /** Journals of at least this many bytes show progress ({@link #PROGRESS_BYTES_MIN}; lower in tests). */
    private final long progressBytesMin;

    @Parameters(index = "0", paramLabel = "DATA_DIR", description = "the broker's data directory (data_dir)")
    Path dataDir;

    @Option(names = "--json", description = "print the findings as one JSON object")
    boolean json;

    private final PrintStream out;
    private final PrintStream err;

    Verify() {
        this(System.out, System.err);
    }

    Verify(PrintStream out, PrintStream err) {
        this(out, err, PROGRESS_BYTES_MIN);
    }

    Verify(PrintStream out, PrintStream err, long progressBytesMin) {
        this.out = out;
        this.err = err;
        this.progressBytesMin = progressBytesMin;
    }

    @Override
    public Integer call() throws IOException {
        DataDirectoryCheck.Result r;
        try {
            r = DataDirectoryCheck.check(dataDir, progress(DataDirectoryCheck.journalBytes(dataDir)));
        } catch (NoSuchFileException e) {
            err.println("holdfast verify: " + dataDir + ": " + (e.getReason() != null ? e.getReason() : "does not exist")
                    + "; give the broker's data_dir (the one with journal/ and topology.meta in it)");
            return 2;
        }
        if (json) {
            out.println(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(asJson(r)));
        } else {
            printText(r);
        }
        return r.damaged() ? 1 : 0;
    }

    /** Progress on stderr for a large journal: one line that updates on a terminal, else a line per 10%. */
    private Journal.ScanProgress progress(long total) {
        if (total < progressBytesMin) {
            return (name, bytes) -> { };
        }
        boolean terminal = System.console() != null;
        long[] done = {0, -1};
        return (name, bytes) -> {
            done[0] += bytes;
            long percent = Math.min(100, done[0] * 100 / total);
            if (terminal) {
                err.printf("\rverify: %s of %s (%d%%) %s", size(done[0]), size(total), percent, name);
                if (done[0] >= total) {
                    err.println();
                }
            } else if (percent / 10 > done[1]) {
                done[1] = percent / 10;
                err.printf("verify: %s of %s (%d%%)%n", size(done[0]), size(total), percent);
            }
        };
    }

    private void printText(DataDirectoryCheck.Result r) {
        var j = r.journal();
        out.println("data directory: " + r.dataDir().toAbsolutePath());
        out.println("metadata: " + (r.metadataError() != null ? "UNREADABLE: " + r.metadataError()
                : r.exchanges() + " durable exchanges, " + r.queues() + " durable queues, " + r.bindings()
                        + " bindings"));
        out.println("journal: " + j.segmentsScanned() + " segments, " + size(r.journalBytes()) + ", "
                + j.recordsRecovered() + " intact records");
        out.println("torn tail: " + (j.tornTailBytesTruncated() == 0 ? "none"
                : j.tornTailBytesTruncated() + " bytes (an interrupted write, normal after a crash; not damage)"));
        if (!r.repairs().isEmpty()) {
            out.println("a start would:");
            r.repairs().forEach(line -> out.println("  " + line));
        }
        out.println("damage: " + (j.damage().isEmpty() ? "none" : j.corruptRecordsSkipped() + " corrupt regions"));
        j.damage().forEach(line -> out.println("  " + line));
        out.println();
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"vhost", "queue", "messages", "bytes", "note"});
        for (DataDirectoryCheck.QueueFinding q : r.queueFindings()) {
            String note = q.heldBy() != null ? "held by delayed exchange '" + q.heldBy() + "'"
                    : q.declared() ? "" : "not declared: a start drops these records";
            rows.add(new String[] {q.vhost(), q.name(), String.valueOf(q.messages()), String.valueOf(q.bodyBytes()),
                    note});
        }
        printTable(rows);
        out.println();
        out.println(r.damaged()
                ? "result: DAMAGED: a start would come up degraded (/api/health 503) until the damage is acknowledged;"
                        + " the messages in the damaged regions are lost, everything else is served"
                : "result: clean");
    }

    private void printTable(List<String[]> rows) {
        int[] width = new int[rows.get(0).length];
        for (String[] row : rows) {
            for (int i = 0; i < row.length; i++) {
                width[i] = Math.max(width[i], row[i].length());
            }
        }
        for (String[] row : rows) {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < row.length; i++) {
                line.append(i == 0 ? "" : "  ").append(String.format("%-" + width[i] + "s", row[i]));
            }
            out.println(line.toString().stripTrailing());
        }
    }

    private static Map<String, Object> asJson(DataDirectoryCheck.Result r) {
        var j = r.journal();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("data_dir", r.dataDir().toAbsolutePath().toString());
        m.put("status", r.damaged() ? "damaged" : "clean");
        m.put("metadata_error", r.metadataError());
        m.put("exchanges", r.exchanges());
        m.put("queues_declared", r.queues());
        m.put("bindings", r.bindings());
        m.put("segments", j.segmentsScanned());
        m.put("journal_bytes", r.journalBytes());
        m.put("records", j.recordsRecovered());
        m.put("torn_tail_bytes", j.tornTailBytesTruncated());
        m.put("corrupt_regions", j.corruptRecordsSkipped());
        m.put("damage", j.damage());
        m.put("repairs", r.repairs());
        List<Map<String, Object>> queues = new ArrayList<>();
        for (DataDirectoryCheck.QueueFinding q : r.queueFindings()) {
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("vhost", q.vhost());
            e.put("name", q.name());
            e.put("declared", q.declared());
            e.put("delayed_exchange", q.heldBy());
            e.put("messages", q.messages());
            e.put("bytes", q.bodyBytes());
            queues.add(e);
        }
        m.put("queues", queues);
        return m;
    }

    private static String size(long bytes) {
        if (bytes < 1 << 20) {
            return bytes + " B";
        }
        return bytes < 1L << 30 ? String.format("%.1f MiB", bytes / 1048576.0)
                : String.format("%.2f GiB", bytes / 1073741824.0);
    }
}
