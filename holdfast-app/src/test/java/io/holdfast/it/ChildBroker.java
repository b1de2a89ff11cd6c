package io.holdfast.it;

import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.impl.ForgivingExceptionHandler;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A Holdfast broker in a child JVM ({@code io.holdfast.app.Main server}), started on the classpath of
 * this test JVM over a data directory the test owns, so that it can be killed with SIGKILL like a real
 * process. Its stdout and stderr go, line by line, to a log file by a daemon thread, so the pipe never
 * fills; {@link #awaitListening} waits for the "listening" line and learns the port from it (the child
 * binds port 0). Always {@link #kill} or {@link #close} it in a finally block or an {@code @AfterEach}.
 */
final class ChildBroker implements AutoCloseable {
    private static final Pattern LISTENING = Pattern.compile("listening for AMQP 0-9-1 on .*:(\\d+),");
    private static final Pattern MANAGEMENT = Pattern.compile("management HTTP listening on http://.*:(\\d+) ");
    private static final int TAIL_LINES = 60;

    private final Process process;
    private final Path logFile;
    private final CompletableFuture<Integer> port = new CompletableFuture<>();
    private final CompletableFuture<Integer> managementPort = new CompletableFuture<>();
    private final CompletableFuture<Void> outputClosed = new CompletableFuture<>();
    private final List<LineWatch> watches = new CopyOnWriteArrayList<>();

    private record LineWatch(String text, CompletableFuture<String> seen) {}

    private ChildBroker(Process process, Path logFile) {
        this.process = process;
        this.logFile = logFile;
        Thread drain = new Thread(this::drainOutput, "child-broker-output-" + process.pid());
        drain.setDaemon(true);
        drain.start();
    }

    /**
     * Starts {@code holdfast server --port 0 --management-port 0 --data-dir dataDir} (plus
     * {@code --config config} if not null), appending its output to {@code logFile}. Returns at once; see
     * {@link #awaitListening}.
     */
    static ChildBroker spawn(Path dataDir, Path config, Path logFile) throws IOException {
        return spawn(dataDir, config, logFile, "384m");
    }

    /** As {@link #spawn(Path, Path, Path)}, with a maximum heap of {@code maxHeap} ({@code -Xmx}'s syntax). */
    static ChildBroker spawn(Path dataDir, Path config, Path logFile, String maxHeap) throws IOException {
        return spawn(dataDir, config, logFile, maxHeap, List.of());
    }

    /** As {@link #spawn(Path, Path, Path, String)}, with more JVM options ({@code -Dname=value}) before the class. */
    static ChildBroker spawn(Path dataDir, Path config, Path logFile, String maxHeap, List<String> jvmOptions)
            throws IOException {
        URL logback = ChildBroker.class.getResource("/child-broker-logback.xml");
        if (logback == null) {
            throw new IllegalStateException("child-broker-logback.xml is not on the test classpath");
        }
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-ea", "-Xmx" + maxHeap, "-XX:+UseSerialGC",
                "-Dlogback.configurationFile=" + logback));
        command.addAll(jvmOptions);
        command.addAll(List.of("-cp", System.getProperty("java.class.path"),
                "io.holdfast.app.Main", "server", "--port", "0", "--management-port", "0",
                "--data-dir", dataDir.toString()));
        if (config != null) {
            command.add("--config");
            command.add(config.toString());
        }
        Files.createDirectories(logFile.toAbsolutePath().getParent());
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        return new ChildBroker(p, logFile);
    }

    /**
     * Spawns a broker as {@link #spawn} with 1 MiB segments and its management listener on a free port, and waits
     * until both listen; {@link #managementPort()} is that port.
     */
    static ChildBroker spawnWithManagement(Path dataDir, Path dir, Path logFile) throws Exception {
        Path config = dir.resolve("holdfast-management.conf");
        Files.writeString(config, "journal.segment_size = 1048576\nmanagement.tcp.port = 0\n");
        ChildBroker broker = spawn(dataDir, config, logFile);
        broker.awaitListening(60);
        if (broker.managementPort() < 0) {
            broker.close();
            throw new IllegalStateException("no management port in the broker's log");
        }
        return broker;
    }

    /**
     * Writes {@code dir/holdfast.conf} for crash and storage tests: 1 MiB journal segments, so segments roll
     * and get deleted with little data, and no management HTTP listener, whose fixed port other brokers on
     * this machine may hold.
     */
    static Path testConfig(Path dir) throws IOException {
        Path config = dir.resolve("holdfast.conf");
        Files.writeString(config, "journal.segment_size = 1048576\nmanagement.enabled = false\n");
        return config;
    }

    private void drainOutput() {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(),
                StandardCharsets.UTF_8));
             Writer out = Files.newBufferedWriter(logFile, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                     StandardOpenOption.APPEND)) {
            String line;
            while ((line = in.readLine()) != null) {
                out.write(line);
                out.write('\n');
                out.flush();
                for (LineWatch w : watches) {
                    if (!w.seen().isDone() && line.contains(w.text())) {
                        w.seen().complete(line);
                    }
                }
                if (!managementPort.isDone()) {
                    Matcher m = MANAGEMENT.matcher(line);
                    if (m.find()) {
                        managementPort.complete(Integer.parseInt(m.group(1)));
                    }
                }
                if (!port.isDone()) {
                    Matcher m = LISTENING.matcher(line);
                    if (m.find()) {
                        port.complete(Integer.parseInt(m.group(1)));
                    }
                }
            }
        } catch (IOException e) {
            port.completeExceptionally(e);
        } finally {
            port.completeExceptionally(new IllegalStateException("the broker's output ended before it listened"));
            managementPort.completeExceptionally(new IllegalStateException("no management HTTP listener"));
            outputClosed.complete(null);
        }
    }

    /** Waits for the "listening" log line and returns the AMQP port; on failure the log's tail is in the message. */
    int awaitListening(long timeoutSeconds) {
        try {
            return port.get(timeoutSeconds, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted waiting for the broker", e);
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("the child broker did not start listening within " + timeoutSeconds
                    + " s (" + (process.isAlive() ? "still running" : "exit code " + process.exitValue())
                    + "); tail of " + logFile + ":\n" + tail(), e);
        }
    }

    /**
     * Completes, on the output thread and the moment it is read, with the first line from now on that
     * contains {@code text}; so a dependent action (a kill) runs as close to that moment as possible.
     */
    CompletableFuture<String> lineContaining(String text) {
        CompletableFuture<String> seen = new CompletableFuture<>();
        watches.add(new LineWatch(text, seen));
        return seen;
    }

    /** The management HTTP port, once {@link #awaitListening} has returned (it is logged before AMQP's line). */
    int managementPort() {
        return managementPort.getNow(-1);
    }

    /** Waits for the process to end by itself (a refused start) and returns its exit code. */
    int awaitExitCode(long seconds) {
        if (!awaitExit(seconds)) {
            throw new IllegalStateException("the child broker still runs after " + seconds + " s; tail:\n" + tail());
        }
        return process.exitValue();
    }

    boolean listening() {
        return port.isDone() && !port.isCompletedExceptionally();
    }

    ConnectionFactory factory() {
        ConnectionFactory f = new ConnectionFactory();
        f.setHost("127.0.0.1");
        f.setPort(port.join());
        f.setAutomaticRecoveryEnabled(false);
        f.setTopologyRecoveryEnabled(false);
        f.setRequestedHeartbeat(0);
        f.setConnectionTimeout(10_000);
        f.setChannelRpcTimeout(30_000); // a hung broker fails the test in 30 s, not the client's default 10 min
        f.setExceptionHandler(new ForgivingExceptionHandler() {
            @Override
            public void handleUnexpectedConnectionDriverException(Connection conn, Throwable exception) {
                // "Connection reset": the broker was killed, which is the point of these tests.
            }
        });
        return f;
    }

    Connection connect(String name) throws Exception {
        return factory().newConnection(name);
    }

    long pid() {
        return process.pid();
    }

    /**
     * SIGKILL (what {@link ProcessHandle#destroyForcibly} sends on Linux), then waits until the process and its
     * output are gone. Through the handle, because {@link Process#destroyForcibly} also closes our end of the
     * output pipe, losing what the child wrote last.
     */
    void kill() {
        signalKill();
        awaitExit(30);
    }

    /** Sends SIGKILL and returns at once: for killing from a client callback at the very moment something arrives. */
    void signalKill() {
        process.toHandle().destroyForcibly();
    }

    /** SIGTERM: the broker's shutdown hook closes it cleanly. Returns the exit code. */
    int stop() {
        process.toHandle().destroy();
        if (!awaitExit(30)) {
            process.toHandle().destroyForcibly();
            awaitExit(30);
            throw new IllegalStateException("the child broker did not stop within 30 s of SIGTERM; tail:\n" + tail());
        }
        return process.exitValue();
    }

    private boolean awaitExit(long seconds) {
        try {
            if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
                return false;
            }
            outputClosed.get(seconds, TimeUnit.SECONDS);
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } catch (ExecutionException | TimeoutException e) {
            return false;
        }
    }

    Path logFile() {
        return logFile;
    }

    /** The whole log written so far. */
    String log() {
        try {
            return Files.exists(logFile) ? Files.readString(logFile, StandardCharsets.UTF_8) : "";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The last lines of the log, for failure messages. */
    String tail() {
        String[] lines = log().split("\n");
        int from = Math.max(0, lines.length - TAIL_LINES);
        return String.join("\n", Arrays.copyOfRange(lines, from, lines.length));
    }

    /** Kills the process if it still runs; safe to call twice. */
    @Override
    public void close() {
        if (process.isAlive()) {
            kill();
        }
    }
}
