package io.holdfast.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.GetResponse;
import com.rabbitmq.client.MessageProperties;
import io.holdfast.it.RunningBroker;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code holdfast verify}: what a start would find in a data directory, with nothing changed. */
class VerifyTest {
    private static final int SEGMENT_HEADER_BYTES = 20;
    private static final int SEAL_BYTES = 32;

    @TempDir
    Path dataDir;

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private int verify(String... args) {
        out.reset();
        err.reset();
        return new CommandLine(new Verify(new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8))).execute(args);
    }

    private String out() {
        return out.toString(StandardCharsets.UTF_8);
    }

    /** "orders" keeps 40 of 50 persistent messages, "empty" none. */
    private static void fill(RunningBroker broker) throws Exception {
        try (Connection c = broker.connect(); Channel ch = c.createChannel()) {
            ch.queueDeclare("orders", true, false, false, null);
            ch.queueDeclare("empty", true, false, false, null);
            ch.confirmSelect();
            for (int i = 0; i < 50; i++) {
                ch.basicPublish("", "orders", MessageProperties.PERSISTENT_BASIC, ("order " + i).getBytes());
            }
            ch.waitForConfirmsOrDie(10_000);
            for (int i = 0; i < 10; i++) {
                GetResponse r = ch.basicGet("orders", false);
                ch.basicAck(r.getEnvelope().getDeliveryTag(), false);
            }
        }
    }

    private Path segment() throws IOException {
        try (Stream<Path> files = Files.list(dataDir.resolve("journal"))) {
            List<Path> segments = files.filter(p -> p.toString().endsWith(".seg")).sorted().toList();
            assertThat(segments).hasSize(1);
            return segments.get(0);
        }
    }

    @Test
    void aJournalOfManySegmentsShowsItsProgressALinePerTenth() throws Exception {
        try (RunningBroker broker = RunningBroker.start(dataDir, c -> c.toBuilder().segmentBytesMax(1 << 20).build());
             Connection c = broker.connect(); Channel ch = c.createChannel()) {
            ch.queueDeclare("big", true, false, false, null);
            ch.confirmSelect();
            for (int i = 0; i < 40; i++) {
                ch.basicPublish("", "big", MessageProperties.PERSISTENT_BASIC, new byte[256 * 1024]);
            }
            ch.waitForConfirmsOrDie(30_000);
        }
        try (Stream<Path> files = Files.list(dataDir.resolve("journal"))) {
            assertThat(files.filter(p -> p.toString().endsWith(".seg")).count()).isGreaterThanOrEqualTo(8);
        }
        err.reset();
        int code = new CommandLine(new Verify(new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), 1 << 20)).execute(dataDir.toString());
        assertThat(code).isZero();
        assertThat(out()).containsPattern("/\\s+big\\s+40\\s");
        List<String> lines = err.toString(StandardCharsets.UTF_8).lines().toList();
        assertThat(lines).hasSizeBetween(5, 11)
                .allMatch(l -> l.matches("verify: [0-9.]+ [KMG]?i?B of [0-9.]+ [KMG]?i?B \\(\\d+%\\)"));
        assertThat(lines.get(lines.size() - 1)).endsWith("(100%)");
        List<Integer> percents = lines.stream().map(l -> Integer.parseInt(l.replaceAll(".*\\((\\d+)%\\)", "$1")))
                .toList();
        assertThat(percents).isSorted().doesNotHaveDuplicates();

        assertThat(verify(dataDir.toString())).as("below the default 64 MiB, no progress").isZero();
        assertThat(err.toString(StandardCharsets.UTF_8)).isEmpty();
    }

    @Test
    void cleanDirectoryListsEveryDurableQueueWithItsMessagesAndExitsZero() throws Exception {
        try (RunningBroker broker = RunningBroker.start(dataDir)) {
            fill(broker);
        }
        assertThat(verify(dataDir.toString())).isZero();
        assertThat(out()).contains("result: clean").contains("damage: none")
                .containsPattern("/\\s+orders\\s+40\\s").containsPattern("/\\s+empty\\s+0\\s");

        assertThat(verify("--json", dataDir.toString())).isZero();
        JsonNode json = new ObjectMapper().readTree(out());
        assertThat(json.get("status").asText()).isEqualTo("clean");
        assertThat(json.get("queues_declared").asInt()).isEqualTo(2);
        assertThat(json.get("damage")).isEmpty();
        JsonNode orders = null;
        for (JsonNode q : json.get("queues")) {
            if (q.get("name").asText().equals("orders")) {
                orders = q;
            }
        }
        assertThat(orders).isNotNull();
        assertThat(orders.get("messages").asLong()).isEqualTo(40);
        assertThat(orders.get("bytes").asLong()).isEqualTo(40 * "order 10".length()); // "order 10" to "order 49"
    }

    @Test
    void corruptRecordIsReportedWithFileAndOffsetAndNothingIsChanged() throws Exception {
        try (RunningBroker broker = RunningBroker.start(dataDir)) {
            fill(broker);
        }
        Path segment = segment();
        flipByte(segment, SEGMENT_HEADER_BYTES + 12); // inside the first record's payload
        Map<String, String> before = digests(dataDir);

        assertThat(verify(dataDir.toString())).isEqualTo(1);
        assertThat(out()).contains("result: DAMAGED").contains(segment.getFileName() + "@" + SEGMENT_HEADER_BYTES + ":");
        assertThat(digests(dataDir)).as("verify changes nothing").isEqualTo(before);
    }

    @Test
    void tornTailIsWhatAStartWouldCutAndIsNotDamage() throws Exception {
        try (RunningBroker broker = RunningBroker.start(dataDir)) {
            fill(broker);
        }
        Path segment = segment();
        try (FileChannel ch = FileChannel.open(segment, StandardOpenOption.WRITE)) {
            ch.truncate(ch.size() - SEAL_BYTES - 3); // the seal and the end of the last record: a crash mid-write
        }
        assertThat(verify(dataDir.toString())).isZero();
        assertThat(out()).contains("result: clean").contains("a start would:")
                .contains("cut the torn tail of " + segment.getFileName());
    }

    @Test
    void runningBrokersDirectoryCanBeChecked() throws Exception {
        try (RunningBroker broker = RunningBroker.start(dataDir)) {
            fill(broker);
            assertThat(verify(dataDir.toString())).isZero();
            assertThat(out()).containsPattern("/\\s+orders\\s+40\\s");
        }
    }

    @Test
    void directoryWithoutJournalOrTopologyIsAUsageErrorThatSaysWhatToGive() throws IOException {
        Path empty = Files.createDirectory(dataDir.resolve("not-data"));
        assertThat(verify(empty.toString())).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("not a Holdfast data directory")
                .contains("give the broker's data_dir");
        assertThat(verify(dataDir.resolve("absent").toString())).isEqualTo(2);
    }

    private static void flipByte(Path file, long offset) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer b = ByteBuffer.allocate(1);
            ch.read(b, offset);
            b.put(0, (byte) (b.get(0) ^ 0x40));
            ch.write(b.flip(), offset);
        }
    }

    private static Map<String, String> digests(Path root) throws Exception {
        Map<String, String> out = new TreeMap<>();
        try (Stream<Path> files = Files.walk(root)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                out.put(root.relativize(f).toString(),
                        HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(f))));
            }
        }
        return out;
    }
}
