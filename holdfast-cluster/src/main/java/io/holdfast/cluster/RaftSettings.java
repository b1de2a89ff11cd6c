package io.holdfast.cluster;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.RaftConfigKeys;
import org.apache.ratis.client.RaftClientConfigKeys;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.grpc.GrpcConfigKeys;
import org.apache.ratis.retry.RetryPolicies;
import org.apache.ratis.retry.RetryPolicy;
import org.apache.ratis.rpc.SupportedRpcType;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.util.SizeInBytes;
import org.apache.ratis.util.TimeDuration;

/**
 * Every Ratis property Holdfast sets, each on purpose (see {@code dependencies.md} for the 3.3.0 defaults and
 * what was measured on this machine). Anything not set here is Ratis's default. Stateless; any thread.
 */
final class RaftSettings {
    /** Pause between a client's attempts: long enough not to spin on a dead peer, short next to an election. */
    private static final Duration RETRY_SLEEP = Duration.ofMillis(200);
    private static final int SNAPSHOTS_KEPT = 2;

    private RaftSettings() {}

    static RaftProperties server(ClusterConfig config) {
        RaftProperties p = new RaftProperties();
        RaftConfigKeys.Rpc.setType(p, SupportedRpcType.GRPC);
        // The default is /tmp/raft-server: the log must live with the node's other data and survive a reboot.
        RaftServerConfigKeys.setStorageDir(p, List.of(config.raftDir().toFile()));
        GrpcConfigKeys.Server.setHost(p, config.host());
        GrpcConfigKeys.Server.setPort(p, config.port());

        // Elections: the 150-300 ms default changed leaders spuriously under load on 2 cores (1 run in 5, and 2 in
        // 3 beside another benchmark); 1 s / 2 s gave none, and a failover of about 2 s.
        TimeDuration min = millis(config.electionTimeout());
        RaftServerConfigKeys.Rpc.setTimeoutMin(p, min);
        RaftServerConfigKeys.Rpc.setTimeoutMax(p, min.multiply(2));

        // Durability: fsync stays on. These are the defaults, set so that nobody turns them off unnoticed: an
        // entry counts as written (and can count towards a majority) only after FileChannel.force.
        RaftServerConfigKeys.Log.setUnsafeFlushEnabled(p, false);
        RaftServerConfigKeys.Log.setAsyncFlushEnabled(p, false);

        // Snapshots: off by default, and then the log grows without bound (441 MB for 145k 1 KB entries x 3).
        RaftServerConfigKeys.Snapshot.setAutoTriggerEnabled(p, true);
        RaftServerConfigKeys.Snapshot.setAutoTriggerThreshold(p, config.snapshotThresholdEntries());
        // The default keeps every snapshot file ever taken.
        RaftServerConfigKeys.Snapshot.setRetentionFileNum(p, SNAPSHOTS_KEPT);
        // A follower too far behind gets the leader's snapshot files (the default, relied upon: a replaced disk).
        RaftServerConfigKeys.Log.Appender.setInstallSnapshotEnabled(p, true);

        // Purge: by default the log is kept until every peer has the entries, so one peer down for a day pins
        // the whole log. Purging up to the snapshot, but keeping one snapshot interval of entries before the
        // newest, bounds the log to about two intervals (plus a segment, below): a peer a little behind still
        // catches up from the log, one further behind from the snapshot. The gap purges once per snapshot.
        RaftServerConfigKeys.Log.setPurgeUptoSnapshotIndex(p, true);
        RaftServerConfigKeys.Log.setPurgePreservationLogNum(p, config.snapshotThresholdEntries());
        RaftServerConfigKeys.Log.setPurgeGap(p, (int) Math.min(Integer.MAX_VALUE, config.snapshotThresholdEntries()));
        // Purging drops whole closed segments, so the segment size is the unit of space that comes back.
        SizeInBytes segment = SizeInBytes.valueOf(config.logSegmentBytesMax());
        RaftServerConfigKeys.Log.setSegmentSizeMax(p, segment);
        RaftServerConfigKeys.Log.setPreallocatedSize(p,
                SizeInBytes.valueOf(Math.min(config.logSegmentBytesMax(), 4L << 20)));
        return p;
    }

    static RaftProperties client(ClusterConfig config) {
        RaftProperties p = new RaftProperties();
        RaftConfigKeys.Rpc.setType(p, SupportedRpcType.GRPC);
        // One attempt waits at most three election timeouts: a leader that lost its majority steps down within
        // about two, so an attempt still waiting then waits on a path that is gone; the next attempt looks for
        // the new leader. Retries reuse the call id, so the servers' retry cache applies an entry once.
        RaftClientConfigKeys.Rpc.setRequestTimeout(p, millis(config.electionTimeout()).multiply(3));
        return p;
    }

    /**
     * Bounded, unlike Ratis's default (retry forever, no sleep): enough attempts to outlast an election and
     * reach {@link ClusterConfig#commitTimeout()}, after which the submitter has failed the commands anyway.
     */
    static RetryPolicy retryPolicy(ClusterConfig config) {
        int attempts = (int) Math.max(3, config.commitTimeout().toMillis() / RETRY_SLEEP.toMillis() + 1);
        return RetryPolicies.retryUpToMaximumCountWithFixedSleep(attempts, millis(RETRY_SLEEP));
    }

    private static TimeDuration millis(Duration duration) {
        return TimeDuration.valueOf(duration.toMillis(), TimeUnit.MILLISECONDS);
    }
}
