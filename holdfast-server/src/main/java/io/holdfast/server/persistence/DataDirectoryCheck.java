package io.holdfast.server.persistence;

import io.holdfast.core.Broker;
import io.holdfast.core.Exchange;
import io.holdfast.core.MessageStore;
import io.holdfast.core.Queue;
import io.holdfast.core.Topology;
import io.holdfast.core.VirtualHost;
import io.holdfast.store.Journal;
import io.holdfast.store.RecoveryReport;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * An offline check of a data directory ({@code holdfast verify}): reads the durable topology and every
 * journal segment as a start would, with the same CRC checks and decisions, and reports what that start
 * would find, per queue, without changing a byte (see {@link Journal#inspect}). Works on a stopped broker's
 * directory or a copy of a live one. One thread (plus the journal's read-ahead while it runs).
 */
public final class DataDirectoryCheck {
    /** A durable queue, or messages the journal holds for a queue that is no longer declared. */
    public record QueueFinding(String vhost, String name, boolean declared, String heldBy, long messages,
            long bodyBytes) {}

    /**
     * @param metadataError why {@code topology.meta} could not be read, or null
     * @param repairs what a start would change on disk (cut a torn tail, seal, remove): not damage
     */
    public record Result(Path dataDir, int exchanges, int queues, int bindings, String metadataError,
            long journalBytes, RecoveryReport journal, List<String> repairs, List<QueueFinding> queueFindings) {
        /** True when a start would come up degraded, or could not read the topology. */
        public boolean damaged() {
            return metadataError != null || journal.degraded();
        }
    }

    private DataDirectoryCheck() {}

    /** Bytes of journal segment files under {@code dataDir}: the total a progress report counts toward. */
    public static long journalBytes(Path dataDir) throws IOException {
        Path journal = dataDir.resolve("journal");
        if (!Files.isDirectory(journal)) {
            return 0;
        }
        long total = 0;
        try (Stream<Path> files = Files.list(journal)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                total += Files.size(f);
            }
        }
        return total;
    }

    /**
     * Checks {@code dataDir}; {@code progress} hears of each segment as it is scanned.
     *
     * @throws NoSuchFileException if {@code dataDir} is not a Holdfast data directory (no journal, no topology)
     * @throws IOException if a directory cannot be listed
     */
    public static Result check(Path dataDir, Journal.ScanProgress progress) throws IOException {
        Path journalDir = dataDir.resolve("journal");
        boolean hasTopology = Files.exists(dataDir.resolve(TopologyStore.FILE_NAME));
        if (!Files.isDirectory(journalDir) && !hasTopology) {
            throw new NoSuchFileException(dataDir.toString(), null,
                    "not a Holdfast data directory (no journal/ and no " + TopologyStore.FILE_NAME + ")");
        }
        Broker topology = new Broker(MessageStore.NONE, () -> "unused");
        String metadataError = null;
        try {
            new TopologyStore(dataDir).load(topology);
        } catch (IOException | RuntimeException e) {
            metadataError = e.getMessage();
        }
        JournalReplay replay = new JournalReplay(false);
        long bytes = journalBytes(dataDir);
        Journal.Inspection inspection = Files.isDirectory(journalDir)
                ? Journal.inspect(journalDir, replay, progress)
                : new Journal.Inspection(new RecoveryReport(0, 0, 0, 0, List.of()), List.of());
        int[] counts = count(topology);
        return new Result(dataDir, counts[0], counts[1], counts[2], metadataError, bytes, inspection.report(),
                inspection.repairs(), findings(topology, replay));
    }

    /** Durable exchanges (not the predeclared ones), queues and bindings the topology file holds. */
    private static int[] count(Broker broker) {
        int exchanges = 0;
        int queues = 0;
        int bindings = 0;
        for (VirtualHost v : broker.virtualHosts()) {
            for (Exchange x : v.exchanges()) {
                exchanges += Topology.predeclared(x) ? 0 : 1;
                bindings += x.bindings().size();
            }
            for (Queue ignored : v.queues()) {
                queues++;
            }
        }
        return new int[] {exchanges, queues, bindings};
    }

    /**
     * Every declared durable queue (empty ones too) with what the journal holds for it, then what it holds
     * for delayed exchanges and for queues no longer declared (a start drops those records).
     */
    private static List<QueueFinding> findings(Broker broker, JournalReplay replay) {
        Map<String, JournalReplay.QueueContents> stored = new LinkedHashMap<>();
        for (JournalReplay.QueueContents c : replay.contents()) {
            stored.put(c.vhost() + "\u0000" + c.queue(), c);
        }
        List<QueueFinding> out = new ArrayList<>();
        for (VirtualHost v : broker.virtualHosts()) {
            for (Queue q : v.queues()) {
                JournalReplay.QueueContents c = stored.remove(v.name() + "\u0000" + q.name());
                out.add(new QueueFinding(v.name(), q.name(), true, null, c == null ? 0 : c.messages(),
                        c == null ? 0 : c.bodyBytes()));
            }
            for (Exchange x : v.exchanges()) {
                String holding = broker.delayedMessages().holdingName(v.name(), x.name());
                JournalReplay.QueueContents c = holding == null ? null : stored.remove(v.name() + "\u0000" + holding);
                if (c != null) {
                    out.add(new QueueFinding(v.name(), holding, true, x.name(), c.messages(), c.bodyBytes()));
                }
            }
        }
        for (JournalReplay.QueueContents c : stored.values()) {
            out.add(new QueueFinding(c.vhost(), c.queue(), false, null, c.messages(), c.bodyBytes()));
        }
        return out;
    }
}
