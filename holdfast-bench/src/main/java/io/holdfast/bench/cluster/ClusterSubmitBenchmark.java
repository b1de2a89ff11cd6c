package io.holdfast.bench.cluster;

import io.holdfast.cluster.ClusterConfig;
import io.holdfast.cluster.ClusterNode;
import io.holdfast.cluster.CommandSubmitter;
import io.holdfast.cluster.ReplicaGroup;
import io.holdfast.cluster.ReplicaStatus;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * Commands per second through {@link CommandSubmitter} with three nodes in this JVM on loopback, each with its
 * own data directory (fsync on), and entries per second: how well the batching amortises Ratis's cost per entry.
 * A plain main rather than JMH: the quantity is a steady rate over many seconds with threads of its own, and the
 * warm-up is the cluster's (JIT, first election). Run by {@code bench/cluster.sh}.
 *
 * <pre>
 * ClusterSubmitBenchmark [warmupSeconds=20] [measureSeconds=30] [commandBytes=1024] [inFlight=1024] [dir]
 * </pre>
 */
public final class ClusterSubmitBenchmark {
    private ClusterSubmitBenchmark() {}

    public static void main(String[] args) throws Exception {
        int warmupSeconds = args.length > 0 ? Integer.parseInt(args[0]) : 20;
        int measureSeconds = args.length > 1 ? Integer.parseInt(args[1]) : 30;
        int commandBytes = args.length > 2 ? Integer.parseInt(args[2]) : 1024;
        int inFlight = args.length > 3 ? Integer.parseInt(args[3]) : 1024;
        Path dir = Files.createTempDirectory(args.length > 4 ? Path.of(args[4]) : Path.of(System.getProperty(
                "java.io.tmpdir")), "holdfast-cluster-bench");
        List<ClusterConfig> configs = new ArrayList<>();
        List<ReplicaGroup.Peer> peers = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            ClusterConfig c = ClusterConfig.of("n" + i, "127.0.0.1", freePort(), dir.resolve("n" + i));
            configs.add(c);
            peers.add(new ReplicaGroup.Peer(c.nodeId(), c.address()));
        }
        ReplicaGroup group = new ReplicaGroup("bench/queue", peers);
        List<ClusterNode> nodes = new ArrayList<>();
        List<CountingState> states = new ArrayList<>();
        try {
            for (ClusterConfig c : configs) {
                CountingState state = new CountingState();
                states.add(state);
                nodes.add(ClusterNode.start(c, Map.of(group, state)));
            }
            int leader = awaitLeader(nodes, group);
            // Submit on the leader's node, as the broker would for a queue whose leader it hosts.
            CommandSubmitter submitter = nodes.get(leader).submitter(group);
            Load load = new Load(submitter, commandBytes, inFlight);
            load.start();
            TimeUnit.SECONDS.sleep(warmupSeconds);
            Sample start = Sample.of(load, submitter);
            TimeUnit.SECONDS.sleep(measureSeconds);
            Sample end = Sample.of(load, submitter);
            load.measuring = false;
            load.stop();

            double seconds = (end.nanos - start.nanos) / 1e9;
            long commands = end.committed - start.committed;
            long entries = end.entries - start.entries;
            long[] latencies = load.latenciesMicros();
            System.out.printf("3 peers in one JVM, %d-byte commands, %d in flight, %d s warm-up, %.1f s measured%n",
                    commandBytes, inFlight, warmupSeconds, seconds);
            System.out.printf("commands/s %.0f, entries/s %.0f, commands/entry %.1f, failed %d%n",
                    commands / seconds, entries / seconds, entries == 0 ? 0.0 : (double) commands / entries,
                    end.failed);
            System.out.printf("commit latency (ms) p50 %.1f, p99 %.1f, max %.1f (of %d samples)%n",
                    percentile(latencies, 0.50), percentile(latencies, 0.99), percentile(latencies, 1.0),
                    latencies.length);
            long applied = states.get(leader).count();
            for (int i = 0; i < 3; i++) {
                ReplicaStatus s = nodes.get(i).status(group);
                System.out.printf("n%d: leader=%s applied index %d, commands %d%n", i, s.leader(), s.appliedIndex(),
                        states.get(i).count());
            }
            System.out.printf("leader applied %d commands in all%n", applied);
        } finally {
            for (ClusterNode node : nodes) {
                node.close();
            }
            deleteTree(dir);
        }
    }

    /** Keeps {@code inFlight} commands outstanding from one thread; samples one latency in 64. */
    private static final class Load {
        final CommandSubmitter submitter;
        final byte[] command;
        final Semaphore window;
        final AtomicBoolean stopped = new AtomicBoolean();
        final AtomicLong committed = new AtomicLong();
        final AtomicLong failed = new AtomicLong();
        final ConcurrentLinkedQueue<Long> latencies = new ConcurrentLinkedQueue<>();
        volatile boolean measuring;
        final Thread thread;
        final int inFlight;

        Load(CommandSubmitter submitter, int commandBytes, int inFlight) {
            this.submitter = submitter;
            this.command = new byte[commandBytes];
            Arrays.fill(command, (byte) 'x');
            this.inFlight = inFlight;
            this.window = new Semaphore(inFlight);
            this.thread = new Thread(this::run, "bench-load");
        }

        void start() {
            thread.start();
        }

        void stop() throws InterruptedException {
            stopped.set(true);
            thread.join();
            window.tryAcquire(inFlight, 30, TimeUnit.SECONDS);
        }

        private void run() {
            for (long n = 0; !stopped.get(); n++) {
                window.acquireUninterruptibly();
                boolean sampled = measuring && (n & 63) == 0;
                long t0 = System.nanoTime();
                submitter.submit(command).whenComplete((r, e) -> {
                    if (e == null) {
                        committed.incrementAndGet();
                        if (sampled) {
                            latencies.add((System.nanoTime() - t0) / 1000);
                        }
                    } else {
                        failed.incrementAndGet();
                    }
                    window.release();
                });
            }
        }

        long[] latenciesMicros() {
            return latencies.stream().mapToLong(Long::longValue).sorted().toArray();
        }
    }

    private record Sample(long nanos, long committed, long entries, long failed) {
        static Sample of(Load load, CommandSubmitter submitter) {
            load.measuring = true;
            return new Sample(System.nanoTime(), load.committed.get(), submitter.entriesSent(), load.failed.get());
        }
    }

    private static double percentile(long[] sortedMicros, double q) {
        if (sortedMicros.length == 0) {
            return Double.NaN;
        }
        int i = (int) Math.min(sortedMicros.length - 1, Math.ceil(q * sortedMicros.length) - 1);
        return sortedMicros[Math.max(0, i)] / 1000.0;
    }

    private static int awaitLeader(List<ClusterNode> nodes, ReplicaGroup group) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            for (int i = 0; i < nodes.size(); i++) {
                if (nodes.get(i).status(group).leader()) {
                    return i;
                }
            }
            TimeUnit.MILLISECONDS.sleep(50);
        }
        throw new IllegalStateException("no leader within 60 s");
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) files.sorted(Comparator.reverseOrder())::iterator) {
                Files.delete(p);
            }
        }
    }
}
