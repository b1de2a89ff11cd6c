package io.holdfast.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import io.holdfast.it.JournalFiles.Record;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Storage damage at restart (contract rule 5): a child-JVM broker takes confirmed persistent messages
 * and is killed with SIGKILL; then, for each kind of {@link Damage}, a copy of its data directory has its
 * journal segments truncated or bit-flipped at seeded random offsets, and a broker starts on the copy. It
 * must start, log each damaged region with file and offset (a torn tail as truncated, anything else as
 * journal damage), never hand out a corrupt body, and deliver exactly the messages whose records were
 * not touched.
 *
 * <p>{@code -Dholdfast.corruption.seed=N} replays the damage; logs and data stay under {@code target/crash/}.
 */
class CorruptionTest {
    private static final String QUEUE = "corruption.q";
    private static final int MESSAGES = 1200;

    private static long seed;
    private static Path dir;
    private static Path pristine;
    private final List<ChildBroker> brokers = new ArrayList<>();

    /** What is done to the journal before the restart. */
    enum Damage {
        /** The last segment cut at a random offset after its header (a crash in the middle of a write). */
        TORN_TAIL,
        /** The last segment cut inside its header (a crash while a new segment was being created). */
        TORN_SEGMENT_HEADER,
        /** One bit flipped in each of 1–3 random records of a segment other than the last. */
        FLIPPED_RECORDS,
        /** One bit flipped in the very last record of the journal. */
        FLIPPED_LAST_RECORD,
        /** One bit flipped in the header of a segment other than the last. */
        FLIPPED_SEGMENT_HEADER,
        /** 1–6 bits flipped anywhere in random segments, and maybe a torn tail too. */
        RANDOM_1,
        RANDOM_2,
        RANDOM_3
    }

    @BeforeAll
    static void publishConfirmedMessagesThenKill() throws Exception {
        seed = Long.getLong("holdfast.corruption.seed", System.nanoTime());
        System.out.printf("CorruptionTest: seed %d (replay: -Dholdfast.corruption.seed=%d)%n", seed, seed);
        dir = CrashTest.freshDirectory("corruption-seed-" + seed);
        pristine = dir.resolve("pristine");
        Path config = config();
        try (ChildBroker broker = ChildBroker.spawn(pristine, config, dir.resolve("pristine.log"))) {
            broker.awaitListening(60);
            try (Connection conn = broker.connect("corruption-setup")) {
                conn.createChannel().queueDeclare(QUEUE, true, false, false, null);
            }
            CrashHistory history = new CrashHistory(seed);
            CrashPublisher publisher = new CrashPublisher(0, "", QUEUE, List.of(QUEUE), 200, history);
            CrashPublisher.Session session = publisher.publish(broker, 1, MESSAGES);
            try {
                session.done.get(120, TimeUnit.SECONDS);
            } finally {
                session.abort();
            }
            assertThat(history.confirmed()).as("confirmed before the kill").hasSize(MESSAGES);
            broker.kill();
        }
        assertThat(JournalFiles.segments(pristine.resolve("journal"))).as("segments to damage").hasSizeGreaterThan(2);
    }

    private static Path config() throws IOException {
        return ChildBroker.testConfig(dir);
    }

    @AfterEach
    void killBrokers() {
        brokers.forEach(ChildBroker::close);
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Damage.class)
    void damagedJournalStartsAndServesOnlyIntactMessages(Damage damage) throws Exception {
        Path data = dir.resolve(damage.name().toLowerCase());
        copy(pristine, data);
        Random random = new Random(seed * 31 + damage.ordinal());
        List<SegmentDamage> segments = new ArrayList<>();
        for (Path p : JournalFiles.segments(data.resolve("journal"))) {
            segments.add(new SegmentDamage(p, JournalFiles.records(p)));
        }
        inflict(damage, segments, random);
        Set<CrashMessage> intact = new TreeSet<>(Comparator.comparingLong(CrashMessage::seq));
        List<String> expectedLog = new ArrayList<>();
        int damagedRecords = 0;
        for (SegmentDamage s : segments) {
            s.write();
            intact.addAll(s.intactMessages());
            expectedLog.addAll(s.expectedLogLines(s == segments.get(segments.size() - 1)));
            damagedRecords += s.records.size() - s.intactMessages().size();
        }
        System.out.printf("CorruptionTest %s: %s; %d records damaged, expecting %s%n", damage,
                segments.stream().map(SegmentDamage::describe).filter(d -> !d.isEmpty()).toList(), damagedRecords,
                expectedLog);

        ChildBroker broker = ChildBroker.spawn(data, config(), dir.resolve(damage.name().toLowerCase() + ".log"));
        brokers.add(broker);
        broker.awaitListening(60);
        CrashHistory history = new CrashHistory(seed);
        history.producer(0, List.of(QUEUE));
        long ready;
        try (Connection conn = broker.connect("corruption-count")) {
            ready = conn.createChannel().queueDeclarePassive(QUEUE).getMessageCount();
        }
        CrashConsumer consumer = CrashConsumer.start(broker, history, 1, QUEUE, 200, 0, true, 0);
        try {
            await().atMost(Duration.ofSeconds(60)).until(() -> history.finalDrainCount(QUEUE) >= ready);
            consumer.close(); // an ack the broker did not take would put its message back
            try (Connection conn = broker.connect("corruption-check")) {
                Channel ch = conn.createChannel();
                await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                        assertThat(ch.queueDeclarePassive(QUEUE).getMessageCount()).as("left in the queue").isZero());
            }
        } finally {
            consumer.abort();
        }

        String log = broker.log();
        List<String> problems = history.deliveries().stream().map(CrashHistory.Delivery::problem)
                .filter(p -> p != null).toList();
        assertThat(problems).as("corrupt bodies served (log %s)", broker.logFile()).isEmpty();
        List<CrashMessage> delivered = history.deliveries().stream().map(CrashHistory.Delivery::message).toList();
        assertThat(delivered).as("no message delivered twice").doesNotHaveDuplicates();
        Set<CrashMessage> missing = new TreeSet<>(Comparator.comparingLong(CrashMessage::seq));
        missing.addAll(intact);
        delivered.forEach(missing::remove);
        Set<CrashMessage> extra = new HashSet<>(delivered);
        extra.removeAll(intact);
        assertThat(missing).as("intact messages not delivered (log %s)", broker.logFile()).isEmpty();
        assertThat(extra).as("messages from damaged records delivered (log %s)", broker.logFile()).isEmpty();
        for (String line : expectedLog) {
            assertThat(log).as("the broker log %s reports the damage", broker.logFile()).contains(line);
        }
        if (expectedLog.stream().anyMatch(l -> l.startsWith("journal damage"))) {
            assertThat(log).as("startup line flags the lost records").contains("DEGRADED");
        }
    }

    private static void inflict(Damage damage, List<SegmentDamage> segments, Random random) {
        SegmentDamage last = segments.get(segments.size() - 1);
        SegmentDamage middle = segments.get(random.nextInt(segments.size() - 1));
        switch (damage) {
            case TORN_TAIL -> last.truncate(JournalFiles.HEADER_BYTES + random.nextInt(last.bytes.length
                    - JournalFiles.HEADER_BYTES));
            case TORN_SEGMENT_HEADER -> last.truncate(random.nextInt(JournalFiles.HEADER_BYTES));
            case FLIPPED_RECORDS -> {
                for (int i = 1 + random.nextInt(3); i > 0; i--) {
                    Record r = middle.records.get(random.nextInt(middle.records.size()));
                    middle.flip(r.start() + random.nextInt(r.end() - r.start()), random.nextInt(8));
                }
            }
            case FLIPPED_LAST_RECORD -> {
                Record r = last.records.get(last.records.size() - 1);
                last.flip(r.start() + random.nextInt(r.end() - r.start()), random.nextInt(8));
            }
            case FLIPPED_SEGMENT_HEADER -> middle.flip(random.nextInt(JournalFiles.HEADER_BYTES), random.nextInt(8));
            case RANDOM_1, RANDOM_2, RANDOM_3 -> {
                for (int i = 1 + random.nextInt(6); i > 0; i--) {
                    SegmentDamage s = segments.get(random.nextInt(segments.size()));
                    s.flip(random.nextInt(s.bytes.length), random.nextInt(8));
                }
                if (random.nextBoolean()) {
                    last.truncate(JournalFiles.HEADER_BYTES + random.nextInt(last.bytes.length - JournalFiles.HEADER_BYTES));
                }
            }
        }
    }

    /** One segment file, what was done to it, and what recovery must make of that. */
    private static final class SegmentDamage {
        final Path file;
        final String name;
        final List<Record> records;
        final byte[] bytes;
        int length;
        final Set<Integer> flipped = new TreeSet<>();

        SegmentDamage(Path file, List<Record> records) throws IOException {
            this.file = file;
            this.name = file.getFileName().toString();
            this.records = records;
            this.bytes = Files.readAllBytes(file);
            this.length = bytes.length;
        }

        void truncate(int at) {
            length = Math.min(length, at);
        }

        void flip(int offset, int bit) {
            bytes[offset] ^= (byte) (1 << bit);
            flipped.add(offset);
        }

        void write() throws IOException {
            Files.write(file, Arrays.copyOf(bytes, length));
        }

        private boolean headerFlipped() {
            return flipped.stream().anyMatch(o -> o < JournalFiles.HEADER_BYTES && o < length);
        }

        private boolean intact(Record r) {
            return r.end() <= length && flipped.stream().noneMatch(o -> o >= r.start() && o < r.end());
        }

        List<CrashMessage> intactMessages() {
            if (length < JournalFiles.HEADER_BYTES || headerFlipped()) {
                return List.of();
            }
            return records.stream().filter(this::intact).map(Record::message).filter(m -> m != null).toList();
        }

        /**
         * Per the recovery table: a damaged header costs the whole file (a torn one of the last segment
         * removes it); each run of damaged records is one region, reported as a torn tail when it ends the
         * last segment and as journal damage otherwise.
         */
        List<String> expectedLogLines(boolean lastSegment) {
            if (length < JournalFiles.HEADER_BYTES && lastSegment) {
                return List.of("journal: removing last segment " + name);
            }
            if (headerFlipped()) {
                return List.of("journal damage: " + name + "@0:");
            }
            List<Record> present = records.stream().filter(r -> r.start() < length).toList();
            List<String> lines = new ArrayList<>();
            for (int i = 0; i < present.size(); i++) {
                if (intact(present.get(i)) || (i > 0 && !intact(present.get(i - 1)))) {
                    continue; // not the first record of a damaged run
                }
                int j = i;
                while (j + 1 < present.size() && !intact(present.get(j + 1))) {
                    j++;
                }
                int start = present.get(i).start();
                lines.add(j == present.size() - 1 && lastSegment
                        ? "journal: truncating torn tail of " + name + " at offset " + start + " "
                        : "journal damage: " + name + "@" + start + ":");
            }
            return lines;
        }

        String describe() {
            List<String> what = new ArrayList<>();
            if (length < bytes.length) {
                what.add("cut at " + length + " of " + bytes.length);
            }
            if (!flipped.isEmpty()) {
                what.add("bits flipped at " + flipped);
            }
            return what.isEmpty() ? "" : name + " " + String.join(", ", what);
        }
    }

    private static void copy(Path from, Path to) throws IOException {
        try (Stream<Path> walk = Files.walk(from)) {
            for (Path p : walk.toList()) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(p, target);
                }
            }
        }
    }
}
