package io.holdfast.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.rabbitmq.client.AuthenticationFailureException;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Base64;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Failed-login throttling: after wrong passwords from an address, the answer to its next logins comes after a
 * growing delay (100 ms doubling, up to 5 s), for AMQP and management HTTP alike; another address (127.0.0.2,
 * loopback on Linux) is not slowed; the burst is logged once.
 */
class LoginThrottleTest {
    private static final int FAILURES = 5; // the sixth attempt waits 100 ms * 2^4 = 1.6 s

    @TempDir
    Path dataDir;

    @RegisterExtension
    final LogLines authLog = LogLines.of("io.holdfast.server.auth.Authenticator");



    private static ConnectionFactory from(RunningBroker b, String localAddress, String user, String password) {
        ConnectionFactory f = b.factory();
        f.setUsername(user);
        f.setPassword(password);
        f.setSocketConfigurator(s -> s.bind(new InetSocketAddress(localAddress, 0)));
        return f;
    }

    private static long millisToRefusal(ConnectionFactory f) {
        long start = System.nanoTime();
        assertThatThrownBy(f::newConnection).isInstanceOf(AuthenticationFailureException.class);
        return (System.nanoTime() - start) / 1_000_000;
    }

    private long failedLoginLines() {
        return authLog.count(m -> m.startsWith("failed login from 127.0.0.1"));
    }

    @Test
    void repeatedWrongPasswordsAreAnsweredSlowerButNotFromAnotherAddress() throws Exception {
        try (RunningBroker b = RunningBroker.start(dataDir)) {
            ConnectionFactory guesser = from(b, "127.0.0.1", "guest", "wrong");
            for (int i = 0; i < FAILURES; i++) {
                millisToRefusal(guesser);
            }
            assertThat(millisToRefusal(guesser)).as("the sixth wrong password waits 1.6 s").isGreaterThanOrEqualTo(1500);

            long start = System.nanoTime();
            try (Connection c = from(b, "127.0.0.2", "guest", "guest").newConnection()) {
                assertThat(c.isOpen()).isTrue();
            }
            assertThat((System.nanoTime() - start) / 1_000_000).as("another address is not slowed").isLessThan(1000);

            start = System.nanoTime();
            try (Connection c = from(b, "127.0.0.1", "guest", "guest").newConnection()) {
                assertThat(c.isOpen()).as("the right password still gets in from the guessing address").isTrue();
            }
            assertThat((System.nanoTime() - start) / 1_000_000).as("but as slowly as a refusal").isGreaterThanOrEqualTo(1500);
            assertThat(failedLoginLines()).as("one log line for the burst").isEqualTo(1);
        }
    }

    /** A raw HTTP/1.1 GET /api/overview from {@code localAddress}: the status and the milliseconds it took. */
    private static long[] get(RunningBroker b, String localAddress, String user, String password) throws Exception {
        try (Socket s = new Socket()) {
            s.bind(new InetSocketAddress(localAddress, 0));
            s.connect(new InetSocketAddress("127.0.0.1", b.managementPort()), 5000);
            s.setSoTimeout(10_000);
            String auth = Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
            long start = System.nanoTime();
            OutputStream out = s.getOutputStream();
            out.write(("GET /api/overview HTTP/1.1\r\nHost: localhost\r\nAuthorization: Basic " + auth
                    + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = s.getInputStream();
            byte[] head = new byte[12]; // "HTTP/1.1 200"
            int n = 0;
            while (n < head.length) {
                int r = in.read(head, n, head.length - n);
                assertThat(r).as("a status line").isPositive();
                n += r;
            }
            long millis = (System.nanoTime() - start) / 1_000_000;
            return new long[] {Integer.parseInt(new String(head, 9, 3, StandardCharsets.US_ASCII)), millis};
        }
    }

    @Test
    void managementBasicAuthIsThrottledTheSameWay() throws Exception {
        try (RunningBroker b = RunningBroker.start(dataDir)) {
            for (int i = 0; i < FAILURES; i++) {
                assertThat(get(b, "127.0.0.1", "guest", "wrong")[0]).isEqualTo(401);
            }
            long[] sixth = get(b, "127.0.0.1", "guest", "wrong");
            assertThat(sixth[0]).isEqualTo(401);
            assertThat(sixth[1]).as("the sixth wrong password waits 1.6 s").isGreaterThanOrEqualTo(1500);
            long[] other = get(b, "127.0.0.2", "guest", "guest");
            assertThat(other[0]).isEqualTo(200);
            assertThat(other[1]).as("another address is not slowed").isLessThan(1000);
            assertThat(failedLoginLines()).as("one log line for the burst").isEqualTo(1);
        }
    }
}
