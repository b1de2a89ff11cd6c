package io.holdfast.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.Connection;
import io.holdfast.server.config.SecurityConfig;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Broker-wide connection limits: {@code connection_max} refuses connection.open beyond it with RabbitMQ's 530,
 * {@code connection_rate_max} closes new sockets beyond so many a second; each logged once per burst, and the
 * connections already open go on.
 */
class ConnectionLimitsTest {
    @TempDir
    Path dataDir;

    @RegisterExtension
    final LogLines limitLog = LogLines.of("io.holdfast.server.amqp.ConnectionLimits");



    private RunningBroker start(SecurityConfig security) throws IOException {
        return RunningBroker.start(dataDir, c -> c.toBuilder().security(security).build());
    }

    private long logLines(String text) {
        return limitLog.count(m -> m.contains(text));
    }

    @Test
    void connectionsBeyondConnectionMaxAreRefusedWith530() throws Exception {
        try (RunningBroker b = start(SecurityConfig.defaults().withConnectionMax(2));
             Connection first = b.connect()) {
            Connection second = b.connect();
            for (int i = 0; i < 3; i++) {
                assertThatThrownBy(b::connect).isInstanceOf(IOException.class).rootCause()
                        .hasMessageContaining("reply-code=530")
                        .hasMessageContaining("NOT_ALLOWED - connection refused: node connection limit (2) is reached");
            }
            assertThat(first.isOpen()).isTrue();
            assertThat(logLines("connection_max = 2 connections are open")).as("one log line per burst").isEqualTo(1);
            await().atMost(Duration.ofSeconds(5)).until(() -> b.server().connectionCount() == 2); // refused ones gone
            second.close();
            await().atMost(Duration.ofSeconds(5)).ignoreExceptions().untilAsserted(() -> {
                try (Connection again = b.connect()) {
                    assertThat(again.isOpen()).isTrue();
                }
            });
        }
    }

    /** Opens a socket and sends the protocol header: true if the broker answered with connection.start. */
    private static boolean answered(RunningBroker b) throws IOException {
        try (Socket s = new Socket("127.0.0.1", b.port())) {
            s.setSoTimeout(5000);
            s.getOutputStream().write(new byte[] {'A', 'M', 'Q', 'P', 0, 0, 9, 1});
            InputStream in = s.getInputStream();
            try {
                return in.read() == 1; // a method frame
            } catch (IOException reset) {
                return false;
            }
        }
    }

    @Test
    void newConnectionsBeyondConnectionRateMaxAreClosed() throws Exception {
        try (RunningBroker b = start(SecurityConfig.defaults().withConnectionRateMax(3))) {
            await().pollDelay(Duration.ofMillis(1100)).until(() -> true); // the broker's own start is past the window
            List<Boolean> outcomes = new ArrayList<>();
            long start = System.nanoTime();
            for (int i = 0; i < 20; i++) {
                outcomes.add(answered(b));
            }
            long seconds = (System.nanoTime() - start) / 1_000_000_000 + 1;
            long accepted = outcomes.stream().filter(o -> o).count();
            assertThat(accepted).as("3 a second, over %d second(s): %s", seconds, outcomes)
                    .isBetween(3L, 3 * (seconds + 1));
            assertThat(logLines("more than connection_rate_max = 3 new connections in a second"))
                    .as("one log line per burst").isEqualTo(1);
            await().atMost(Duration.ofSeconds(5)).ignoreExceptions().untilAsserted(() -> {
                try (Connection c = b.connect()) {
                    assertThat(c.isOpen()).as("accepted again once the rate falls").isTrue();
                }
            });
        }
    }
}
