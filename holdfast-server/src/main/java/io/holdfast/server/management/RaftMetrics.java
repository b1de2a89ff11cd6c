package io.holdfast.server.management;

import io.holdfast.cluster.GroupStatus;
import io.holdfast.server.cluster.MetadataGroup;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The {@code holdfast_raft_*} series of a cluster node, one row per Raft group ({@code group} label: {@code metadata},
 * and {@code quorum/<vhost>/<queue>} for each quorum queue) and, for the
 * lag, per follower ({@code peer}): term, commit index and, on the leader, how many entries each follower is
 * behind. Refreshed by each scrape ({@link BrokerMetrics#scrape}), on its thread.
 */
final class RaftMetrics {
    private final MetadataGroup cluster;
    private final MultiGauge term;
    private final MultiGauge commitIndex;
    private final MultiGauge followerLag;

    RaftMetrics(MetadataGroup cluster, PrometheusMeterRegistry registry) {
        this.cluster = cluster;
        term = MultiGauge.builder("holdfast_raft_term").description("This node's current Raft term, per group")
                .register(registry);
        commitIndex = MultiGauge.builder("holdfast_raft_commit_index").description("The highest log index this node"
                + " knows to be committed, per group").register(registry);
        followerLag = MultiGauge.builder("holdfast_raft_follower_lag").description("On a group's leader: log entries"
                + " a follower is behind the commit index (0 = up to date)").register(registry);
    }

    void update() {
        Map<String, GroupStatus> groups;
        try {
            groups = cluster.groupStatuses();
        } catch (IOException e) {
            return; // the node is not running (closing): no rows rather than stale ones
        }
        List<MultiGauge.Row<?>> terms = new ArrayList<>();
        List<MultiGauge.Row<?>> commits = new ArrayList<>();
        List<MultiGauge.Row<?>> lag = new ArrayList<>();
        groups.forEach((name, g) -> {
            Tags group = Tags.of("group", name);
            terms.add(MultiGauge.Row.of(group, g.term()));
            commits.add(MultiGauge.Row.of(group, g.commitIndex()));
            for (Map.Entry<String, Long> e : g.followerLag().entrySet()) {
                lag.add(MultiGauge.Row.of(group.and("peer", e.getKey()), e.getValue()));
            }
        });
        term.register(terms, true);
        commitIndex.register(commits, true);
        followerLag.register(lag, true);
    }
}
