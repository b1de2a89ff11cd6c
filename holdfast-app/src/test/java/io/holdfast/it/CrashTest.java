package io.holdfast.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.BuiltinExchangeType;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The crash test (contract rules 1–5 under kill -9): a broker in a child JVM is killed with SIGKILL at
 * seeded random moments while producers publish confirmed persistent messages and consumers ack (and
 * sometimes nack-requeue) them, and restarted on the same data directory, again and again (about one life
 * in ten ends with SIGTERM, a clean shutdown, instead). Clients reconnect explicitly after each restart. After the last kill the broker starts once more, everything
 * left is drained, and {@link CrashChecker} judges what the clients saw; the broker's logs must show no
 * ERROR and no journal damage (a kill -9 loses no written data, so at most a torn tail is normal).
 *
 * <p>Three producers: p0 publishes to {@code crash.q1} through the default exchange, p1 and p2 to the
 * durable fanout {@code crash.fanout}, bound to {@code crash.q1} and {@code crash.q2}. Two consumers on
 * q1, one on q2, prefetch 50; each consumer sits out a third of the lives so backlogs build up.
 * Journal segments are 1 MiB, so segments roll and get deleted across kills.
 *
 * <p>Short by default (part of {@code mvn verify}); the {@code soak} profile runs it long. System
 * properties: {@code holdfast.crash.seed} (replays the kill points), {@code holdfast.crash.kills},
 * {@code holdfast.crash.messages} (published in all, at most). Logs and data stay under
 * {@code target/crash/} for a post-mortem.
 */
class CrashTest {
    private static final String Q1 = "crash.q1";
    private static final String Q2 = "crash.q2";
    private static final String FANOUT = "crash.fanout";
    private static final int PRODUCERS = 3;
    private static final int MAX_IN_FLIGHT = 100;
    private static final int PREFETCH = 50;
    private static final double NACK_SHARE = 0.02;
    private static final long START_SECONDS = 60;
    private static final long LIFE_SECONDS = 120;
    private static final Pattern RECOVERED = Pattern.compile("recovered (\\d+) messages");

    private final List<ChildBroker> brokers = new ArrayList<>();

    @AfterEach
    void killBrokers() {
        brokers.forEach(ChildBroker::close);
    }

    @Test
    void confirmedMessagesSurviveRepeatedKillNine() throws Exception {
        long seed = Long.getLong("holdfast.crash.seed", System.nanoTime());
        int kills = Integer.getInteger("holdfast.crash.kills", 12);
        int messages = Integer.getInteger("holdfast.crash.messages", 12000);
        System.out.printf("CrashTest: seed %d, %d kills, up to %d messages (replay: -Dholdfast.crash.seed=%d)%n",
                seed, kills, messages, seed);
        Random random = new Random(seed);
        Path dir = freshDirectory("crash-seed-" + seed);
        Path dataDir = dir.resolve("data");
        Path config = ChildBroker.testConfig(dir);

        CrashHistory history = new CrashHistory(seed);
        List<CrashPublisher> publishers = new ArrayList<>();
        publishers.add(new CrashPublisher(0, "", Q1, List.of(Q1), MAX_IN_FLIGHT, history));
        for (int p = 1; p < PRODUCERS; p++) {
            publishers.add(new CrashPublisher(p, FANOUT, "", List.of(Q1, Q2), MAX_IN_FLIGHT, history));
        }
        int perLife = Math.max(1, messages / (PRODUCERS * kills));
        long startMillis = 1500;
        long began = System.nanoTime();
        Map<String, Integer> endings = new TreeMap<>(); // how lives ended, for the summary

        for (int life = 1; life <= kills; life++) {
            ChildBroker broker = spawn(dataDir, config, dir, life);
            if (life > 1 && random.nextInt(8) == 0) {
                // Kill while the JVM starts or the journal is being recovered.
                long delay = (long) (random.nextDouble() * startMillis);
                Thread.sleep(delay);
                broker.kill();
                System.out.printf("life %3d: killed %d ms after spawn (%s)%n", life, delay,
                        broker.listening() ? "listening already" : "during start-up");
                endings.merge("killed while starting", 1, Integer::sum);
                continue;
            }
            long t0 = System.nanoTime();
            broker.awaitListening(START_SECONDS);
            startMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            declareTopology(broker, life == 1);
            endings.merge(runLife(broker, history, publishers, life, perLife, random), 1, Integer::sum);
        }

        int finalLife = kills + 1;
        ChildBroker broker = spawn(dataDir, config, dir, finalLife);
        broker.awaitListening(START_SECONDS);
        declareTopology(broker, false);
        drain(broker, history, finalLife);
        int exit = broker.stop();
        assertThat(broker.log()).as("clean stop of the final life (exit %d)", exit).contains("Holdfast stopped cleanly");

        List<String> brokerTrouble = brokerTrouble(dir);
        Map<String, List<String>> violations = CrashChecker.check(history);
        System.out.println(summary(history, endings, began));
        assertThat(CrashChecker.describe(violations)).as("contract violations (seed %d, logs in %s)", seed, dir)
                .isEmpty();
        assertThat(brokerTrouble).as("ERROR or damage in the broker logs (seed %d, logs in %s)", seed, dir).isEmpty();
        assertThat(history.confirmed()).as("the run confirmed something").isNotEmpty();
    }

    private ChildBroker spawn(Path dataDir, Path config, Path dir, int life) throws IOException {
        ChildBroker b = ChildBroker.spawn(dataDir, config, dir.resolve(String.format("life-%03d.log", life)));
        brokers.add(b);
        return b;
    }

    /** Life 1 declares the topology; later lives check that it survived (passive declares). */
    private static void declareTopology(ChildBroker broker, boolean declare) throws Exception {
        try (Connection conn = broker.connect("crash-setup")) {
            Channel ch = conn.createChannel();
            if (declare) {
                ch.exchangeDeclare(FANOUT, BuiltinExchangeType.FANOUT, true);
                for (String q : List.of(Q1, Q2)) {
                    ch.queueDeclare(q, true, false, false, null);
                }
                ch.queueBind(Q1, FANOUT, "");
                ch.queueBind(Q2, FANOUT, "");
            } else {
                ch.exchangeDeclarePassive(FANOUT);
                ch.queueDeclarePassive(Q1);
                ch.queueDeclarePassive(Q2);
            }
        }
    }

    /**
     * Consumers and publishers on fresh connections, a kill (or now and then a clean stop) at a seeded point,
     * and the wait for every client to notice.
     */
    private static String runLife(ChildBroker broker, CrashHistory history, List<CrashPublisher> publishers, int life,
                                  int perLife, Random random) throws Exception {
        List<CrashConsumer> consumers = new ArrayList<>();
        List<CrashPublisher.Session> sessions = new ArrayList<>();
        // Drawn up front so that the kill point depends on the seed only.
        // Mostly a kill under load, when a seeded share of this life's publishes is confirmed (killAt <= 1);
        // otherwise after everything is confirmed (killAt > 1), soon, or late: then the broker's periodic
        // journal compaction may start, and the kill comes the moment it logs that it does.
        int mode = random.nextInt(100);
        double killAt = mode < 70 ? 0.05 + random.nextDouble() * 0.95 : 2;
        // -1: SIGKILL from the confirm callback itself, the moment the confirm that reaches the target arrives
        long jitterMillis = mode < 70 ? (random.nextInt(3) == 0 ? -1 : random.nextInt(20))
                : mode < 85 ? random.nextInt(300) : 1500 + random.nextInt(3000);
        // Now and then SIGTERM instead: a clean shutdown between crashes (it records which messages were delivered).
        boolean cleanStop = random.nextInt(10) == 0;
        long consumerSeed = random.nextLong();
        // Each consumer is absent from a third of the lives, so backlogs build up and survive kills.
        List<String> consumed = new ArrayList<>();
        for (String q : List.of(Q1, Q1, Q2)) {
            if (random.nextInt(3) != 0) {
                consumed.add(q);
            }
        }
        long confirmedBefore = history.confirmCount();
        try {
            for (String q : consumed) {
                consumers.add(CrashConsumer.start(broker, history, life, q, PREFETCH, NACK_SHARE, false,
                        consumerSeed++));
            }
            for (CrashPublisher p : publishers) {
                sessions.add(p.publish(broker, life, perLife));
            }
            long target = confirmedBefore + (long) Math.ceil(Math.min(killAt, 1.0) * publishers.size() * perLife);
            CompletableFuture<Void> allPublished = CompletableFuture.allOf(
                    sessions.stream().map(s -> s.done).toArray(CompletableFuture<?>[]::new));
            CompletableFuture<String> compaction = new CompletableFuture<>();
            if (mode >= 85 && !cleanStop) {
                compaction = broker.lineContaining("compacting journal segment");
                compaction.thenRun(broker::signalKill); // runs on the thread reading the broker's output
            }
            if (killAt > 1) {
                allPublished.get(LIFE_SECONDS, TimeUnit.SECONDS);
            } else {
                CompletableFuture<Void> reached = history.confirmsReach(target);
                if (jitterMillis < 0 && !cleanStop) {
                    reached = reached.thenRun(broker::signalKill); // runs on the thread that completes it
                }
                CompletableFuture.anyOf(reached, allPublished).get(LIFE_SECONDS, TimeUnit.SECONDS);
            }
            try {
                // The kill moment itself is the stimulus; a compaction starting cuts the wait short.
                compaction.get(Math.max(0, jitterMillis), TimeUnit.MILLISECONDS);
            } catch (TimeoutException e) {
                // kill now
            }
            long confirmedAtKill = history.confirmCount() - confirmedBefore;
            if (cleanStop) {
                broker.stop();
                assertThat(broker.log()).as("clean stop of life %d", life).contains("Holdfast stopped cleanly");
            } else {
                broker.kill();
            }
            int unconfirmed = sessions.stream().mapToInt(CrashPublisher.Session::unconfirmed).sum();
            CompletableFuture.allOf(Stream.concat(sessions.stream().map(s -> s.done), consumers.stream().map(c -> c.ended))
                    .toArray(CompletableFuture<?>[]::new)).get(30, TimeUnit.SECONDS);
            System.out.printf("life %3d: %s; consumers on %s; %s at %.0f%% of %d publishes %s: %d confirmed,"
                    + " %d in flight%n", life, recoveredLine(broker), consumed, cleanStop ? "STOPPED (SIGTERM)" : "killed",
                    Math.min(killAt, 1.0) * 100,
                    publishers.size() * perLife, compaction.isDone() ? "AT THE START OF A COMPACTION"
                    : jitterMillis < 0 && !cleanStop ? "in the confirm callback"
                    : "+ " + Math.max(0, jitterMillis) + " ms", confirmedAtKill, unconfirmed);
            return cleanStop ? "stopped cleanly" : compaction.isDone() ? "killed as a compaction started"
                    : "killed under traffic";
        } finally {
            sessions.forEach(CrashPublisher.Session::abort);
            consumers.forEach(CrashConsumer::abort);
        }
    }

    /** The last life: consume everything left, acking, until the queues are empty. */
    private static void drain(ChildBroker broker, CrashHistory history, int life) throws Exception {
        long expected1;
        long expected2;
        try (Connection conn = broker.connect("crash-drain-count")) {
            Channel ch = conn.createChannel();
            expected1 = ch.queueDeclarePassive(Q1).getMessageCount();
            expected2 = ch.queueDeclarePassive(Q2).getMessageCount();
        }
        List<CrashConsumer> consumers = new ArrayList<>();
        try {
            consumers.add(CrashConsumer.start(broker, history, life, Q1, 200, 0, true, 0));
            consumers.add(CrashConsumer.start(broker, history, life, Q2, 200, 0, true, 0));
            await().atMost(Duration.ofSeconds(LIFE_SECONDS)).until(() ->
                    history.finalDrainCount(Q1) >= expected1 && history.finalDrainCount(Q2) >= expected2);
            for (CrashConsumer c : consumers) {
                c.close(); // an ack the broker did not take would put its message back
            }
            try (Connection conn = broker.connect("crash-drain-check")) {
                Channel ch = conn.createChannel();
                await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
                    assertThat(ch.queueDeclarePassive(Q1).getMessageCount()).as("left in %s", Q1).isZero();
                    assertThat(ch.queueDeclarePassive(Q2).getMessageCount()).as("left in %s", Q2).isZero();
                });
            }
            System.out.printf("final life: %s; drained %d from %s and %d from %s%n", recoveredLine(broker),
                    expected1, Q1, expected2, Q2);
        } finally {
            consumers.forEach(CrashConsumer::abort);
        }
    }

    private static String recoveredLine(ChildBroker broker) {
        Matcher m = RECOVERED.matcher(broker.log());
        return m.find() ? "recovered " + m.group(1) : "recovered ?";
    }

    /** Lines at ERROR, and journal damage reports, from every life's log. */
    private static List<String> brokerTrouble(Path dir) throws IOException {
        List<String> trouble = new ArrayList<>();
        try (Stream<Path> logs = Files.list(dir)) {
            for (Path log : logs.filter(p -> p.getFileName().toString().endsWith(".log")).sorted().toList()) {
                for (String line : Files.readAllLines(log)) {
                    if (line.contains(" ERROR ") || line.contains("journal damage") || line.contains("DEGRADED")) {
                        trouble.add(log.getFileName() + ": " + line);
                    }
                }
            }
        }
        return trouble;
    }

    private static String summary(CrashHistory history, Map<String, Integer> endings, long began) {
        long attempted = history.attempted().size();
        long confirmed = history.confirmed().size();
        long nacked = history.nacked().size();
        List<CrashHistory.Delivery> ds = history.deliveries();
        long redelivered = ds.stream().filter(CrashHistory.Delivery::redelivered).count();
        long drained = ds.stream().filter(CrashHistory.Delivery::finalDrain).count();
        return String.format("CrashTest: %d lives %s in %d s; %d published, %d confirmed, %d nacked, %d fate unknown; "
                        + "%d deliveries (%d redelivered), %d in the final drain, %d settlements",
                endings.values().stream().mapToInt(Integer::intValue).sum(), endings,
                TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - began), attempted, confirmed, nacked,
                attempted - confirmed - nacked, ds.size(), redelivered, drained, history.settlements().size());
    }

    /** {@code target/crash/<name>}, emptied; kept after the run for a post-mortem. */
    static Path freshDirectory(String name) throws IOException {
        Path dir = Paths.get("target", "crash", name).toAbsolutePath();
        if (Files.exists(dir)) {
            try (Stream<Path> walk = Files.walk(dir)) {
                for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            }
        }
        Files.createDirectories(dir);
        return dir;
    }
}
