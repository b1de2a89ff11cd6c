package io.holdfast.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.holdfast.protocol.ReplyCode;
import io.holdfast.server.config.ServerConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.TestInstance;

/**
 * One broker per test class with {@link HealthyTraffic} running against it the whole time; each test
 * abuses it through {@link HostileClient}s. After every test: the healthy connection saw all its
 * messages confirmed and delivered in order and was never closed, it kept publishing during the
 * abuse, every abusive connection is gone from the broker, and the broker logged no error (an error
 * log means an exception escaped or a broker task failed).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class BrokerUnderAbuse {
    private Path dir;
    private final List<HostileClient> hostile = new ArrayList<>();
    private long publishedBefore;
    RunningBroker broker;
    HealthyTraffic healthy;
    BrokerErrorLog errors;

    /** The broker's configuration; subclasses may tighten limits. */
    UnaryOperator<ServerConfig> config() {
        return c -> c;
    }

    @BeforeAll
    void startBroker() throws Exception {
        dir = Files.createTempDirectory("holdfast-" + getClass().getSimpleName());
        errors = BrokerErrorLog.attach();
        broker = RunningBroker.start(dir, config());
        healthy = HealthyTraffic.start(broker);
    }

    @BeforeEach
    void noteHealthyProgress() {
        publishedBefore = healthy.published();
    }

    @AfterEach
    void onlyTheSenderPaid() throws IOException {
        for (HostileClient c : hostile) {
            c.close();
        }
        hostile.clear();
        awaitConnectionsBackTo(1);
        healthy.assertProgressSince(publishedBefore, 5);
        healthy.assertCaughtUp();
        assertThat(errors.drain()).as("errors the broker logged").isEmpty();
    }

    @AfterAll
    void stopBroker() throws Exception {
        try {
            healthy.close(); // checks that it lost nothing
        } finally {
            try {
                broker.close();
            } finally {
                errors.close();
                try (Stream<Path> files = Files.walk(dir)) {
                    files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
                }
            }
        }
    }

    /** A raw connection that has done the handshake; closed after the test. */
    HostileClient opened() throws IOException {
        return track(HostileClient.open(broker.port()));
    }

    /** A raw connection that has done the handshake with the given frame_max; closed after the test. */
    HostileClient opened(int frameMax) throws IOException {
        return track(HostileClient.open(broker.port(), frameMax));
    }

    /** A raw TCP connection, nothing sent yet; closed after the test. */
    HostileClient connected() throws IOException {
        return track(HostileClient.connect(broker.port()));
    }

    private HostileClient track(HostileClient c) {
        hostile.add(c);
        return c;
    }

    /** Waits until only {@code n} connections (the healthy one, ...) remain open on the broker. */
    void awaitConnectionsBackTo(int n) {
        await("the broker forgets the abusive connections").atMost(Duration.ofSeconds(15))
                .pollInterval(Duration.ofMillis(10))
                .until(() -> broker.server().connectionCount() == n);
    }

    /**
     * Waits for the server's connection.close, checks it with {@link #assertClose}, answers close-ok
     * and waits for the server to close the socket, which it must do at once on close-ok.
     */
    static HostileClient.Closed expectConnectionClose(HostileClient c, int code, String textContains)
            throws IOException {
        HostileClient.Closed closed = c.awaitConnectionClose();
        assertClose(closed, code, textContains);
        c.awaitEndOfStream();
        return closed;
    }

    /** The close carries {@code code} and a text that starts, as RabbitMQ's do, with the code's name. */
    static void assertClose(HostileClient.Closed closed, int code, String textContains) {
        assertThat(closed.replyCode()).as("reply code of '%s'", closed.replyText()).isEqualTo(code);
        assertThat(closed.replyText()).startsWith(ReplyCode.name(code) + " - ").contains(textContains);
    }
}
