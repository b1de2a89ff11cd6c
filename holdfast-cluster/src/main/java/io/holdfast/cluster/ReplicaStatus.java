package io.holdfast.cluster;

/**
 * What one node's replica of a group knows at one moment; a value, safe to pass between threads.
 *
 * @param leader whether this node is the group's leader now
 * @param appliedIndex the index of the last log entry applied here (entries are batches, so this counts entries,
 *     including Ratis's own configuration and leader-change entries)
 * @param appliedCommands commands applied here since the node started the group, not counting those that came
 *     in a snapshot
 * @param snapshotsLoaded snapshots loaded into the state since the node started the group: at start, or
 *     installed by the leader because this replica was too far behind
 */
public record ReplicaStatus(boolean leader, long appliedIndex, long appliedCommands, long snapshotsLoaded) {}
