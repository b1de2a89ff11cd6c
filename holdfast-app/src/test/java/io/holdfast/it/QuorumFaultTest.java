package io.holdfast.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.DefaultConsumer;
import com.rabbitmq.client.Envelope;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ConcurrentNavigableMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The fault harness, as Jepsen checks a total queue: three broker JVMs, two publishers (confirms) and two consumers
 * (manual ack) on different nodes, each reconnecting to the next node when its node goes, while the test injects
 * faults in turn: kill -9 of the queue's leader, kill -9 of a follower, kill -9 of a follower whose data directory is
 * then wiped (a replaced disk: it must rejoin, not vote with an empty log), and a SIGSTOP of the leader longer than
 * the election timeout. After the last round it drains the queue and checks: no confirmed message lost, nothing delivered
 * that was not published, each consumer's first deliveries of one publisher's confirmed messages in publish order,
 * and every repeat flagged redelivered. The short form (2 rounds: the two kills) runs in CI;
 * {@code -Dholdfast.faults.rounds=N} runs N rounds, the four faults in turn.
 */
class QuorumFaultTest {
    private static final String QUEUE = "ledger";
    private static final int PUBLISHERS = 2;
    private static final int CONSUMERS = 2;

    @TempDir
    Path dir;

    /** What one consumer saw, in order: publisher, sequence number, redelivered flag. */
    private record Seen(int publisher, int seq, boolean redelivered, int node, long deliveryTag, long atNanos) {}

    @Test
    void noConfirmedMessageIsLostThroughLeaderKillsFollowerKillsAndPauses() throws Exception {
        int rounds = Integer.getInteger("holdfast.faults.rounds", 2);
        try (BrokerCluster cluster = new BrokerCluster(dir, Path.of("target", "quorum-fault-test"),
                "raft.commit_timeout = 5000\n")) {
            cluster.startAll();
            try (Connection c = cluster.connect(0); Channel ch = c.createChannel()) {
                ch.queueDeclare(QUEUE, true, false, false, Map.of("x-queue-type", "quorum"));
            }
            AtomicBoolean stop = new AtomicBoolean();
            List<Set<Integer>> confirmed = new ArrayList<>();
            List<AtomicInteger> published = new ArrayList<>();
            List<ConcurrentLinkedQueue<Seen>> seen = new ArrayList<>();
            List<Thread> clients = new ArrayList<>();
            for (int p = 0; p < PUBLISHERS; p++) {
                confirmed.add(ConcurrentHashMap.newKeySet());
                published.add(new AtomicInteger());
                int id = p;
                clients.add(client("publisher-" + p, () -> publish(cluster, id, id, stop, published.get(id),
                        confirmed.get(id))));
            }
            for (int c = 0; c < CONSUMERS; c++) {
                seen.add(new ConcurrentLinkedQueue<>());
                int id = c;
                clients.add(client("consumer-" + c, () -> consume(cluster, id + 1, stop, seen.get(id))));
            }
            clients.forEach(Thread::start);

            List<String> faults = new ArrayList<>();
            for (int round = 0; round < rounds; round++) {
                awaitProgress(confirmed, 100);
                int leader = leaderOf(cluster);
                switch (round % 4) {
                    case 0 -> {
                        faults.add("kill -9 leader holdfast" + (leader + 1));
                        cluster.kill(leader);
                        awaitProgress(confirmed, 100);
                        cluster.start(leader);
                    }
                    case 1 -> {
                        int follower = (leader + 1) % 3;
                        faults.add("kill -9 follower holdfast" + (follower + 1));
                        cluster.kill(follower);
                        awaitProgress(confirmed, 100);
                        cluster.start(follower);
                    }
                    case 2 -> {
                        int follower = (leader + 2) % 3;
                        faults.add("kill -9 follower holdfast" + (follower + 1) + ", its disk replaced");
                        cluster.kill(follower);
                        cluster.wipe(follower);
                        awaitProgress(confirmed, 100);
                        cluster.start(follower);
                    }
                    default -> {
                        faults.add("SIGSTOP leader holdfast" + (leader + 1) + " for 4 s");
                        signal(cluster.node(leader).pid(), "STOP");
                        Thread.sleep(4000); // the fault itself: four election timeouts of silence
                        signal(cluster.node(leader).pid(), "CONT");
                    }
                }
            }
            awaitProgress(confirmed, 100);
            stop.set(true);
            for (Thread t : clients) {
                t.join(TimeUnit.SECONDS.toMillis(60));
            }

            // drain what is left, from node 0, into a third witness
            ConcurrentLinkedQueue<Seen> rest = new ConcurrentLinkedQueue<>();
            seen.add(rest);
            AtomicBoolean drained = new AtomicBoolean();
            Thread drainer = client("drainer", () -> consume(cluster, 0, drained, rest));
            drainer.start();
            try {
                await().atMost(Duration.ofSeconds(90)).until(() -> everyConfirmedSeen(confirmed, seen));
            } catch (org.awaitility.core.ConditionTimeoutException e) {
                throw new AssertionError("confirmed messages not delivered: " + missing(confirmed, seen) + "; faults "
                        + faults + "; the queue on each node: " + queueViews(cluster), e);
            }
            drained.set(true);
            drainer.join(TimeUnit.SECONDS.toMillis(30));

            // Repeats in the order the deliveries arrived (every consumer runs in this JVM): each one after a
            // message's first delivery must be flagged redelivered.
            List<Seen> all = new ArrayList<>();
            seen.forEach(all::addAll);
            all.sort(java.util.Comparator.comparingLong(Seen::atNanos));
            Map<Integer, Set<Integer>> delivered = new HashMap<>();
            Map<String, Seen> firstSeen = new HashMap<>();
            for (Seen s : all) {
                delivered.computeIfAbsent(s.publisher(), x -> new HashSet<>()).add(s.seq());
                Seen earlier = firstSeen.putIfAbsent(s.publisher() + ":" + s.seq(), s);
                if (earlier != null) {
                    assertThat(s.redelivered()).as("a repeat of %s (first %s; faults %s) is flagged redelivered",
                            s, earlier, faults).isTrue();
                }
            }
            int deliveries = all.size();
            // Each consumer's first deliveries of one publisher's confirmed messages come in publish order (a nacked
            // publish has an unknown fate: it may still be committed later, out of order).
            for (ConcurrentLinkedQueue<Seen> one : seen) {
                Map<Integer, Integer> lastFirst = new HashMap<>();
                for (Seen s : one) {
                    if (firstSeen.get(s.publisher() + ":" + s.seq()) == s && !s.redelivered()
                            && confirmed.get(s.publisher()).contains(s.seq())) {
                        int before = lastFirst.getOrDefault(s.publisher(), -1);
                        assertThat(s.seq()).as("first deliveries of publisher %d in order", s.publisher())
                                .isGreaterThan(before);
                        lastFirst.put(s.publisher(), s.seq());
                    }
                }
            }
            int confirmedTotal = 0;
            for (int p = 0; p < PUBLISHERS; p++) {
                Set<Integer> got = delivered.getOrDefault(p, Set.of());
                Set<Integer> lost = new HashSet<>(confirmed.get(p));
                lost.removeAll(got);
                assertThat(lost).as("confirmed by publisher %d but never delivered", p).isEmpty();
                int max = published.get(p).get();
                assertThat(got).as("delivered but never published by %d", p).allMatch(seq -> seq < max);
                confirmedTotal += confirmed.get(p).size();
            }
            System.out.printf("quorum faults: %d rounds (%s); published %d, confirmed %d, deliveries %d, lost 0%n",
                    rounds, String.join(", ", faults), published.stream().mapToInt(AtomicInteger::get).sum(),
                    confirmedTotal, deliveries);
        }
    }

    private interface Work {
        void run() throws Exception;
    }

    private static Thread client(String name, Work work) {
        Thread t = new Thread(() -> {
            try {
                work.run();
            } catch (Exception e) {
                throw new IllegalStateException(name + " failed", e);
            }
        }, name);
        t.setDaemon(true);
        return t;
    }

    /** Publishes 0, 1, 2... with confirms through node {@code first} (then the next one that answers). */
    private static void publish(BrokerCluster cluster, int id, int first, AtomicBoolean stop, AtomicInteger next,
                                Set<Integer> confirmed) throws InterruptedException {
        int node = first;
        while (!stop.get()) {
            try (Connection c = cluster.connect(node); Channel ch = c.createChannel()) {
                ch.confirmSelect();
                ConcurrentNavigableMap<Long, Integer> outstanding = new ConcurrentSkipListMap<>();
                ch.addConfirmListener((tag, multiple) -> settle(outstanding, tag, multiple, confirmed),
                        (tag, multiple) -> settle(outstanding, tag, multiple, null));
                while (!stop.get()) {
                    if (outstanding.size() >= 50) {
                        if (!ch.isOpen()) {
                            throw new IOException("the connection to node " + node + " is gone");
                        }
                        Thread.sleep(1); // the window is full: wait for confirms
                        continue;
                    }
                    int seq = next.getAndIncrement();
                    outstanding.put(ch.getNextPublishSeqNo(), seq);
                    ch.basicPublish("", QUEUE, new AMQP.BasicProperties.Builder().deliveryMode(2).build(),
                            (id + ":" + seq).getBytes(StandardCharsets.UTF_8));
                }
                ch.waitForConfirms(10_000);
            } catch (Exception e) {
                node = (node + 1) % 3; // that node went: the next one
                Thread.sleep(200);
            }
        }
    }

    private static void settle(ConcurrentNavigableMap<Long, Integer> outstanding, long tag, boolean multiple,
                               Set<Integer> confirmed) {
        Map<Long, Integer> done = multiple ? outstanding.headMap(tag, true) : outstanding.subMap(tag, true, tag, true);
        if (confirmed != null) {
            confirmed.addAll(done.values());
        }
        done.clear();
    }

    /** Consumes with manual acks through node {@code first} (then the next that answers), recording each delivery. */
    private static void consume(BrokerCluster cluster, int first, AtomicBoolean stop, ConcurrentLinkedQueue<Seen> seen)
            throws InterruptedException {
        int node = first;
        while (!stop.get()) {
            try (Connection c = cluster.connect(node); Channel ch = c.createChannel()) {
                int connectedTo = node;
                CountDownLatch gone = new CountDownLatch(1);
                ch.basicQos(20);
                ch.basicConsume(QUEUE, false, new DefaultConsumer(ch) {
                    @Override
                    public void handleDelivery(String tag, Envelope e, AMQP.BasicProperties p, byte[] body)
                            throws IOException {
                        String[] parts = new String(body, StandardCharsets.UTF_8).split(":");
                        seen.add(new Seen(Integer.parseInt(parts[0]), Integer.parseInt(parts[1]), e.isRedeliver(),
                                connectedTo, e.getDeliveryTag(), System.nanoTime()));
                        ch.basicAck(e.getDeliveryTag(), false);
                    }

                    @Override
                    public void handleCancel(String tag) {
                        gone.countDown(); // this node lost the queue for a while: consume again
                    }
                });
                while (!stop.get() && c.isOpen() && gone.getCount() > 0) {
                    gone.await(100, TimeUnit.MILLISECONDS);
                }
            } catch (Exception e) {
                node = (node + 1) % 3;
                Thread.sleep(200);
            }
        }
    }

    private static String missing(List<Set<Integer>> confirmed, List<ConcurrentLinkedQueue<Seen>> seen) {
        StringBuilder out = new StringBuilder();
        for (int p = 0; p < PUBLISHERS; p++) {
            Set<Integer> lost = new java.util.TreeSet<>(confirmed.get(p));
            for (ConcurrentLinkedQueue<Seen> one : seen) {
                for (Seen s : one) {
                    if (s.publisher() == p) {
                        lost.remove(s.seq());
                    }
                }
            }
            out.append("publisher ").append(p).append(": ").append(lost.size()).append(' ')
                    .append(lost.stream().limit(20).toList()).append("; ");
        }
        return out.toString();
    }

    private static String queueViews(BrokerCluster cluster) {
        StringBuilder out = new StringBuilder();
        for (int n = 0; n < 3; n++) {
            try {
                var q = new ObjectMapper().readTree(cluster.http(n, "GET", "/api/queues/%2F/" + QUEUE, null).body());
                out.append("node ").append(n).append(" ready ").append(q.path("messages_ready"))
                        .append(" unacked ").append(q.path("messages_unacknowledged")).append(" consumers ")
                        .append(q.path("consumers")).append(" leader ").append(q.path("leader")).append("; ");
            } catch (Exception e) {
                out.append("node ").append(n).append(' ').append(e).append("; ");
            }
        }
        return out.toString();
    }

    private static boolean everyConfirmedSeen(List<Set<Integer>> confirmed, List<ConcurrentLinkedQueue<Seen>> seen) {
        List<Set<Integer>> got = new ArrayList<>();
        for (int p = 0; p < PUBLISHERS; p++) {
            got.add(new HashSet<>());
        }
        for (ConcurrentLinkedQueue<Seen> one : seen) {
            one.forEach(s -> got.get(s.publisher()).add(s.seq()));
        }
        for (int p = 0; p < PUBLISHERS; p++) {
            if (!got.get(p).containsAll(confirmed.get(p))) {
                return false;
            }
        }
        return true;
    }

    /** Waits until every publisher has had {@code more} further messages confirmed. */
    private static void awaitProgress(List<Set<Integer>> confirmed, int more) {
        int[] before = confirmed.stream().mapToInt(Set::size).toArray();
        await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(50)).until(() -> {
            for (int p = 0; p < before.length; p++) {
                if (confirmed.get(p).size() < before[p] + more) {
                    return false;
                }
            }
            return true;
        });
    }

    /** The queue's leader, as the first node that answers shows it. */
    private static int leaderOf(BrokerCluster cluster) {
        ObjectMapper json = new ObjectMapper();
        int[] leader = {-1};
        await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> {
            for (int n = 0; n < 3; n++) {
                if (cluster.node(n) == null) {
                    continue;
                }
                String name = json.readTree(cluster.http(n, "GET", "/api/queues/%2F/" + QUEUE, null).body())
                        .path("leader").asText("");
                if (name.startsWith("holdfast")) {
                    leader[0] = Integer.parseInt(name.substring("holdfast".length())) - 1;
                    return true;
                }
            }
            return false;
        });
        return leader[0];
    }

    private static void signal(long pid, String signal) throws Exception {
        Process kill = new ProcessBuilder("kill", "-" + signal, String.valueOf(pid)).inheritIO().start();
        assertThat(kill.waitFor()).as("kill -%s %d", signal, pid).isZero();
    }
}
