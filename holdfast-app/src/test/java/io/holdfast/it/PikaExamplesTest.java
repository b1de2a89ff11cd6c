package io.holdfast.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Runs the pika examples in {@code examples/} against a started broker, with Debian's python3 and
 * python3-pika (CI installs them; elsewhere the test is skipped if pika is missing).
 */
class PikaExamplesTest {
    private static final String PYTHON = "/usr/bin/python3";

    @TempDir
    static Path dir;
    static RunningBroker broker;

    @BeforeAll
    static void start() throws Exception {
        assumeTrue(hasPika(), "Debian's python3 with python3-pika is not installed");
        broker = RunningBroker.start(dir);
    }

    @AfterAll
    static void stop() throws IOException {
        if (broker != null) {
            broker.close();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"work_queue.py", "confirmed_publisher.py", "rpc.py"})
    void exampleSucceeds(String script) throws Exception {
        Path examples = Path.of("..", "examples").toAbsolutePath().normalize();
        Process p = new ProcessBuilder(PYTHON, examples.resolve(script).toString(), "--port",
                String.valueOf(broker.port())).redirectErrorStream(true).start();
        boolean finished = p.waitFor(60, TimeUnit.SECONDS);
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!finished) {
            p.destroyForcibly();
        }
        assertThat(finished).as("%s finished; output:%n%s", script, output).isTrue();
        assertThat(p.exitValue()).as("%s exit code; output:%n%s", script, output).isZero();
    }

    private static boolean hasPika() {
        if (!Files.isExecutable(Path.of(PYTHON))) {
            return false;
        }
        try {
            Process p = new ProcessBuilder(PYTHON, "-c", "import pika").redirectErrorStream(true).start();
            return p.waitFor(20, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
