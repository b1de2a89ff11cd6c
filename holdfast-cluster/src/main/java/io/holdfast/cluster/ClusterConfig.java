package io.holdfast.cluster;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * How one Holdfast node takes part in the cluster. Immutable (any thread may share it); the {@code with…}
 * methods return changed copies.
 *
 * @param nodeId this node's id, as named in every {@link ReplicaGroup.Peer}
 * @param host the address the Raft RPC server binds and other nodes reach it at
 * @param port its port
 * @param dataDir the node's data directory; Raft storage lives in {@code <dataDir>/raft}, never in /tmp
 * @param electionTimeout the shortest time a follower waits for its leader before it calls an election; the
 *     longest is twice this. Below 1 s a loaded 2-core machine sees spurious elections
 * @param snapshotThresholdEntries log entries applied since the last snapshot that trigger the next one (and,
 *     after it, the purge of the log up to it)
 * @param commitTimeout how long a submitted command may wait to be committed and applied before its future fails
 *     with {@link ReplicationException}: the bound on the time a minority takes to answer
 * @param entryBytesMax the largest log entry the submitter builds; a batch is cut there
 * @param logSegmentBytesMax size at which a Raft log segment file is closed and the next begun; the log is purged
 *     a whole closed segment at a time, so this is also the unit in which log space comes back after a snapshot
 */
public record ClusterConfig(String nodeId, String host, int port, Path dataDir, Duration electionTimeout,
                            long snapshotThresholdEntries, Duration commitTimeout, int entryBytesMax,
                            long logSegmentBytesMax) {
    public static final Duration DEFAULT_ELECTION_TIMEOUT = Duration.ofSeconds(1);
    public static final long DEFAULT_SNAPSHOT_THRESHOLD_ENTRIES = 4096;
    public static final Duration DEFAULT_COMMIT_TIMEOUT = Duration.ofSeconds(10);
    public static final int DEFAULT_ENTRY_BYTES_MAX = 1 << 20;
    public static final long DEFAULT_LOG_SEGMENT_BYTES_MAX = 32L << 20;

    public ClusterConfig {
        Objects.requireNonNull(nodeId, "nodeId");
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(dataDir, "dataDir");
        if (port <= 0 || port > 65535) {
            throw new IllegalArgumentException("port " + port + " is not a TCP port");
        }
        if (electionTimeout.toMillis() < 1) {
            throw new IllegalArgumentException("electionTimeout " + electionTimeout + " is below 1 ms");
        }
        if (snapshotThresholdEntries < 1) {
            throw new IllegalArgumentException("snapshotThresholdEntries must be at least 1");
        }
        if (commitTimeout.toMillis() < 1) {
            throw new IllegalArgumentException("commitTimeout " + commitTimeout + " is below 1 ms");
        }
        // Ratis's default write buffer (8 MiB) and gRPC message limit (64 MiB) must hold an entry.
        if (entryBytesMax < 1024 || entryBytesMax > 4 << 20) {
            throw new IllegalArgumentException("entryBytesMax " + entryBytesMax + " is outside 1 KiB..4 MiB");
        }
        if (logSegmentBytesMax < 2L * entryBytesMax) {
            throw new IllegalArgumentException("logSegmentBytesMax " + logSegmentBytesMax
                    + " must hold at least two entries of entryBytesMax " + entryBytesMax);
        }
    }

    /**
     * A node with the defaults: 1 s election timeout, snapshots every 4096 entries, 10 s commit timeout, entries
     * of at most 1 MiB, 32 MiB log segments.
     */
    public static ClusterConfig of(String nodeId, String host, int port, Path dataDir) {
        return new ClusterConfig(nodeId, host, port, dataDir, DEFAULT_ELECTION_TIMEOUT,
                DEFAULT_SNAPSHOT_THRESHOLD_ENTRIES, DEFAULT_COMMIT_TIMEOUT, DEFAULT_ENTRY_BYTES_MAX,
                DEFAULT_LOG_SEGMENT_BYTES_MAX);
    }

    public String address() {
        return host + ":" + port;
    }

    public Path raftDir() {
        return dataDir.resolve("raft");
    }

    public ClusterConfig withSnapshotThresholdEntries(long entries) {
        return new ClusterConfig(nodeId, host, port, dataDir, electionTimeout, entries, commitTimeout, entryBytesMax,
                logSegmentBytesMax);
    }

    public ClusterConfig withCommitTimeout(Duration timeout) {
        return new ClusterConfig(nodeId, host, port, dataDir, electionTimeout, snapshotThresholdEntries, timeout,
                entryBytesMax, logSegmentBytesMax);
    }

    public ClusterConfig withElectionTimeout(Duration timeout) {
        return new ClusterConfig(nodeId, host, port, dataDir, timeout, snapshotThresholdEntries, commitTimeout,
                entryBytesMax, logSegmentBytesMax);
    }

    /** The entry cap and the segment size together, since a segment must hold at least two entries. */
    public ClusterConfig withLogSizes(int entryBytes, long segmentBytes) {
        return new ClusterConfig(nodeId, host, port, dataDir, electionTimeout, snapshotThresholdEntries, commitTimeout,
                entryBytes, segmentBytes);
    }
}
