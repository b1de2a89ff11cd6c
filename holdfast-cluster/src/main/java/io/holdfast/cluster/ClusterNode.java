package io.holdfast.cluster;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;
import org.apache.ratis.proto.RaftProtos;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.GroupInfoReply;
import org.apache.ratis.retry.RetryPolicies;
import org.apache.ratis.protocol.GroupManagementRequest;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.DivisionInfo;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.storage.RaftStorage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One Holdfast node's place in the cluster: a single Ratis {@code RaftServer} (one RPC port, one storage
 * directory under the node's data directory) hosting any number of {@link ReplicaGroup}s, each with its own
 * {@link ReplicatedState}, Raft log and snapshots.
 *
 * <p>At {@link #start} the caller names every group this node hosts (the broker knows them from its durable
 * metadata): groups found on disk resume from their latest snapshot plus their log; groups not on disk are created
 * empty, and catch up from the leader (from its log, or its snapshot if the log was purged, as after a replaced
 * disk). A group directory on disk that the caller does not name stops the start: it is data, and dropping it is
 * the operator's decision. Groups can be added later with {@link #host}; a replica this node lost (its storage
 * is gone but the group lives on) comes back with {@link #rejoin}, never by being created again.
 *
 * <p>Threads: any thread may call any method; {@link #host} and {@link #close} are serialised.
 */
public final class ClusterNode implements AutoCloseable {
    /** How long a group's removal may take (Ratis closes its division and deletes its directory). */
    private static final int REMOVE_TIMEOUT_SECONDS = 30;
    private static final Logger LOG = LoggerFactory.getLogger(ClusterNode.class);

    private final ClusterConfig config;
    private final RaftServer server;
    private final ConcurrentMap<RaftGroupId, Hosted> groups;
    private final ClientId adminClientId = ClientId.randomId();
    private long adminCallId;
    private boolean closed;
    /**
     * The node started with no Raft storage at all: a new node, or one whose disk was replaced. A group it is then
     * given that its peers already committed entries of is rejoined (see {@link #rejoin}), never joined afresh: a
     * member that forgot its log and its vote could help elect a leader that lacks committed entries.
     */
    private volatile boolean startedEmpty;
    private final Set<String> rejoined = ConcurrentHashMap.newKeySet();

    /** A group on this node: its definition, its state machine and, once asked for, its submitter. */
    private record Hosted(ReplicaGroup group, ReplicatedStateMachine machine, CommandSubmitter submitter) {}

    private ClusterNode(ClusterConfig config, RaftServer server, ConcurrentMap<RaftGroupId, Hosted> groups) {
        this.config = config;
        this.server = server;
        this.groups = groups;
    }

    /**
     * Starts the node's Raft server with the groups it hosts. Returns once the server listens and every group is
     * running on it; the groups' leaders are elected afterwards (about two election timeouts).
     *
     * @param hosted every group this node is a member of whose storage it has, or that is new (all its members
     *     start empty), each with the (empty, freshly built) state it replicates
     * @throws IOException if the storage holds a group not named here, a group's latest snapshot is damaged (the
     *     node does not start rather than serve a wrong state; the operator can move that group's directory
     *     away and {@link #rejoin} it), or the port is taken
     */
    public static ClusterNode start(ClusterConfig config, Map<ReplicaGroup, ReplicatedState> hosted)
            throws IOException {
        ConcurrentMap<RaftGroupId, Hosted> groups = new ConcurrentHashMap<>();
        for (Map.Entry<ReplicaGroup, ReplicatedState> e : hosted.entrySet()) {
            checkMember(config, e.getKey());
            ReplicatedStateMachine machine = new ReplicatedStateMachine(e.getKey(), e.getValue());
            Hosted previous = groups.put(e.getKey().groupId(), new Hosted(e.getKey(), machine, null));
            if (previous != null) {
                throw new IllegalArgumentException("groups " + e.getKey().name() + " and " + previous.group().name()
                        + " have the same id");
            }
        }
        Files.createDirectories(config.raftDir());
        boolean empty = storedGroups(config.raftDir()).isEmpty();
        refuseUnknownGroups(config.raftDir(), groups.keySet());
        RaftServer server = RaftServer.newBuilder()
                .setServerId(RaftPeerId.valueOf(config.nodeId()))
                .setProperties(RaftSettings.server(config))
                .setStateMachineRegistry(id -> machine(groups, id))
                .setOption(RaftStorage.StartupOption.RECOVER)
                .build();
        ClusterNode node = new ClusterNode(config, server, groups);
        node.startedEmpty = empty;
        Set<RaftGroupId> recovered = new HashSet<>();
        try {
            server.start();
            server.getGroupIds().forEach(recovered::add);
            for (Hosted h : groups.values()) {
                if (!recovered.contains(h.group().groupId())) {
                    node.addOrRejoin(h.group());
                }
            }
        } catch (IOException | RuntimeException e) {
            node.close();
            // Ratis starts each group on its own thread and reports a group's failure wrapped
            if (e instanceof CompletionException && e.getCause() instanceof IOException cause) {
                throw new IOException("node " + config.nodeId() + " could not start: " + cause.getMessage(), cause);
            }
            throw e;
        }
        LOG.info("cluster: node {} listens on {} with {} groups ({} resumed from disk)", config.nodeId(),
                config.address(), groups.size(), recovered.size());
        return node;
    }

    /**
     * Adds a new group to the running node, created empty here as on its other members. For a group that
     * already has committed entries, use {@link #rejoin}.
     */
    public synchronized void host(ReplicaGroup group, ReplicatedState state) throws IOException {
        checkOpen();
        checkMember(config, group);
        ReplicatedStateMachine machine = new ReplicatedStateMachine(group, state);
        if (groups.putIfAbsent(group.groupId(), new Hosted(group, machine, null)) != null) {
            throw new IllegalArgumentException("group " + group.name() + " is already hosted on " + config.nodeId());
        }
        try {
            addOrRejoin(group);
        } catch (IOException | RuntimeException e) {
            groups.remove(group.groupId());
            throw e;
        }
    }

    /**
     * Hosts an empty replica of an existing group whose replica on this node was lost (a replaced disk, a wiped
     * data directory), and has the group take it back. A Raft member must never forget what it stored (its log,
     * its vote), so the group first drops this node's old membership and then adds it as a new member, which the
     * leader brings up to date before it counts: from its snapshot if it purged the log. Returns once the group
     * has committed the new membership; a majority of the other members and their leader must be up.
     *
     * <p>On failure the replica is removed from this node again, but the group may still commit the removal of
     * the old membership later (it was proposed, not known to be committed); calling this again once a majority
     * is up then adds the node back. That retry is not covered by a test yet.
     *
     * @throws IOException if the group cannot be changed (no leader, no majority, a change already running)
     */
    public synchronized void rejoin(ReplicaGroup group, ReplicatedState state) throws IOException {
        checkOpen();
        checkMember(config, group);
        Path groupDir = config.raftDir().resolve(group.groupId().getUuid().toString());
        if (Files.exists(groupDir)) {
            throw new IllegalStateException("node " + config.nodeId() + " still stores group " + group.name() + " in "
                    + groupDir + "; it resumes from there at start and must not rejoin");
        }
        ReplicatedStateMachine machine = new ReplicatedStateMachine(group, state);
        if (groups.putIfAbsent(group.groupId(), new Hosted(group, machine, null)) != null) {
            throw new IllegalArgumentException("group " + group.name() + " is already hosted on " + config.nodeId());
        }
        // No peers: this replica waits for the leader instead of standing for election with an empty log.
        try {
            addToServer(RaftGroup.valueOf(group.groupId()), group.name());
        } catch (IOException | RuntimeException e) {
            groups.remove(group.groupId());
            throw e;
        }
        try {
            Membership.replace(group, config);
        } catch (IOException | RuntimeException e) {
            // Leave nothing behind, so that the operator can simply try again (a half-joined directory
            // would stop the next start as an unknown group).
            removeFromServer(group, e);
            groups.remove(group.groupId());
            throw e;
        }
    }

    /**
     * Stops hosting {@code group} here and deletes its storage (the queue it replicates was deleted): its submitter's
     * waiting commands fail, as on close.
     *
     * @throws IOException if Ratis could not remove it within {@link #REMOVE_TIMEOUT_SECONDS}; it is then no longer
     *     served from this object either
     */
    public void remove(ReplicaGroup group) throws IOException {
        Hosted h;
        GroupManagementRequest request;
        synchronized (this) {
            checkOpen();
            h = groups.remove(group.groupId());
            if (h == null) {
                return;
            }
            request = GroupManagementRequest.newRemove(adminClientId, server.getId(), adminCallId++, group.groupId(),
                    true, false);
        }
        if (h.submitter() != null) {
            h.submitter().close();
        }
        RaftClientReply reply;
        try {
            reply = server.groupManagementAsync(request).get(REMOVE_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted removing group " + group.name(), e);
        } catch (ExecutionException | TimeoutException e) {
            throw new IOException("node " + config.nodeId() + " could not remove group " + group.name() + " within "
                    + REMOVE_TIMEOUT_SECONDS + " s", e);
        }
        if (!reply.isSuccess()) {
            throw new IOException("node " + config.nodeId() + " could not remove group " + group.name(),
                    reply.getException());
        }
    }

    /**
     * The submitter for a hosted group: commands submitted through it are batched into entries and sent to the
     * group's leader, wherever it is. One per group per node, created on first use; closed with the node.
     */
    public synchronized CommandSubmitter submitter(ReplicaGroup group) {
        checkOpen();
        Hosted hosted = hosted(group);
        if (hosted.submitter() == null) {
            hosted = new Hosted(hosted.group(), hosted.machine(), new CommandSubmitter(hosted.group(), config));
            groups.put(group.groupId(), hosted);
        }
        return hosted.submitter();
    }

    /** What this node's replica of {@code group} knows now; a snapshot for tests and monitoring. */
    public ReplicaStatus status(ReplicaGroup group) throws IOException {
        Hosted hosted = hosted(group);
        RaftServer.Division division = server.getDivision(group.groupId());
        return new ReplicaStatus(division.getInfo().isLeader(), hosted.machine().appliedIndex(),
                hosted.machine().appliedCommands(), hosted.machine().snapshotsLoaded());
    }

    /** This node's view of {@code group}'s leader, term, commit index and, on the leader, each follower's lag. */
    public GroupStatus groupStatus(ReplicaGroup group) throws IOException {
        hosted(group);
        RaftServer.Division division = server.getDivision(group.groupId());
        DivisionInfo info = division.getInfo();
        long commit = division.getRaftLog().getLastCommittedIndex();
        Map<String, Long> lag = new TreeMap<>();
        if (info.isLeader()) {
            // Ratis lists the followers in the same (appender) order in the role info and the match indices.
            List<RaftProtos.ServerRpcProto> followers = info.getRoleInfoProto().getLeaderInfo().getFollowerInfoList();
            long[] match = info.getFollowerMatchIndices();
            for (int i = 0; i < followers.size() && i < match.length; i++) {
                lag.put(followers.get(i).getId().getId().toStringUtf8(), Math.max(0, commit - match[i]));
            }
        }
        RaftPeerId leaderId = info.getLeaderId();
        return new GroupStatus(leaderId == null ? null : leaderId.toString(), info.isLeader(), info.getCurrentTerm(),
                commit, info.getLastAppliedIndex(), lag);
    }

    public ClusterConfig config() {
        return config;
    }

    /**
     * Closes the submitters (their pending commands fail with {@link ReplicationException}) and the Raft server
     * (about a second: Ratis waits for its threads). Idempotent.
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (Hosted h : groups.values()) {
            if (h.submitter() != null) {
                h.submitter().close();
            }
        }
        try {
            server.close();
        } catch (IOException e) {
            LOG.warn("cluster: closing node {} failed", config.nodeId(), e);
        }
    }

    private void addToServer(ReplicaGroup group) throws IOException {
        addToServer(group.toRaftGroup(), group.name());
    }

    /** The groups this node took back after starting without storage (for monitoring and tests). */
    public Set<String> rejoined() {
        return Set.copyOf(rejoined);
    }

    /**
     * Adds a group the node has no storage of: afresh, unless the node started without any storage and a peer
     * already committed entries of the group; then as a replaced replica (its old membership dropped, a new one
     * added, brought up to date by the leader).
     */
    private void addOrRejoin(ReplicaGroup group) throws IOException {
        if (!startedEmpty || !peersCommitted(group)) {
            addToServer(group);
            return;
        }
        LOG.warn("cluster: node {} has no storage of group {}, which its peers have committed entries of: a lost or"
                + " replaced disk; it rejoins the group as a new replica", config.nodeId(), group.name());
        addToServer(RaftGroup.valueOf(group.groupId()), group.name());
        try {
            Membership.replace(group, config);
        } catch (IOException | RuntimeException e) {
            removeFromServer(group, e);
            throw new IOException("node " + config.nodeId() + " lost its copy of group " + group.name() + " and could"
                    + " not rejoin it (the other members and their leader must be up): " + e.getMessage(), e);
        }
        rejoined.add(group.name());
    }

    /** Whether some other member answers that it has committed entries of {@code group}; quick when peers are down. */
    private boolean peersCommitted(ReplicaGroup group) {
        try (RaftClient client = RaftClient.newBuilder()
                .setRaftGroup(group.toRaftGroup())
                .setProperties(RaftSettings.client(config))
                .setRetryPolicy(RetryPolicies.noRetry())
                .build()) {
            for (ReplicaGroup.Peer p : group.peers()) {
                if (p.id().equals(config.nodeId())) {
                    continue;
                }
                try {
                    GroupInfoReply info = client.getGroupManagementApi(RaftPeerId.valueOf(p.id())).info(group.groupId());
                    if (info.isSuccess() && info.getLogInfoProto().getCommitted().getIndex() > 0) {
                        return true;
                    }
                } catch (IOException | RuntimeException e) {
                    LOG.debug("cluster: {} did not say whether it has group {}: {}", p.id(), group.name(),
                            e.getMessage());
                }
            }
        } catch (IOException e) {
            LOG.debug("cluster: closing a probe client failed: {}", e.getMessage());
        }
        return false;
    }

    /** Creates the group's storage here (format) and starts its replica on the server. */
    private void addToServer(RaftGroup raftGroup, String name) throws IOException {
        RaftClientReply reply = server.groupManagement(GroupManagementRequest.newAdd(adminClientId,
                server.getId(), adminCallId++, raftGroup, true));
        if (!reply.isSuccess()) {
            throw new IOException("node " + config.nodeId() + " could not add group " + name, reply.getException());
        }
    }

    private void removeFromServer(ReplicaGroup group, Exception failure) {
        try {
            RaftClientReply reply = server.groupManagement(GroupManagementRequest.newRemove(adminClientId,
                    server.getId(), adminCallId++, group.groupId(), true, false));
            if (!reply.isSuccess()) {
                failure.addSuppressed(new IOException("could not remove the half-joined replica of group "
                        + group.name(), reply.getException()));
            }
        } catch (IOException | RuntimeException e) {
            failure.addSuppressed(e);
        }
    }

    private Hosted hosted(ReplicaGroup group) {
        Hosted hosted = groups.get(group.groupId());
        if (hosted == null) {
            throw new IllegalArgumentException("group " + group.name() + " is not hosted on " + config.nodeId());
        }
        return hosted;
    }

    private synchronized void checkOpen() {
        if (closed) {
            throw new IllegalStateException("node " + config.nodeId() + " is closed");
        }
    }

    private static ReplicatedStateMachine machine(Map<RaftGroupId, Hosted> groups, RaftGroupId id) {
        Hosted hosted = groups.get(id);
        if (hosted == null) {
            // refuseUnknownGroups makes this unreachable for groups on disk; a peer cannot add groups here
            throw new IllegalStateException("no state for group " + id);
        }
        return hosted.machine();
    }

    private static void checkMember(ClusterConfig config, ReplicaGroup group) {
        if (!group.hasMember(config.nodeId())) {
            throw new IllegalArgumentException("node " + config.nodeId() + " is not a peer of group " + group.name());
        }
    }

    /** A UUID-named directory is a Raft group's storage (Ratis ignores anything else in the directory). */
    private static void refuseUnknownGroups(Path raftDir, Set<RaftGroupId> known) throws IOException {
        List<Path> unknown = new ArrayList<>();
        for (Path entry : storedGroups(raftDir)) {
            if (!known.contains(RaftGroupId.valueOf(uuidOrNull(entry.getFileName().toString())))) {
                unknown.add(entry);
            }
        }
        if (!unknown.isEmpty()) {
            throw new IOException("the Raft storage holds groups this node was not asked to host: " + unknown
                    + "; host them, or move them away if their queues are gone");
        }
    }

    /** The groups' storage directories under {@code raftDir}. */
    private static List<Path> storedGroups(Path raftDir) throws IOException {
        List<Path> out = new ArrayList<>();
        try (Stream<Path> entries = Files.list(raftDir)) {
            for (Path entry : (Iterable<Path>) entries::iterator) {
                if (uuidOrNull(entry.getFileName().toString()) != null && Files.isDirectory(entry)) {
                    out.add(entry);
                }
            }
        }
        return out;
    }

    private static UUID uuidOrNull(String name) {
        try {
            return UUID.fromString(name);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }
}
