package io.holdfast.it;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

/**
 * One broker for a whole test class (tests use their own queue names), and a fresh connection and
 * channel for each test.
 */
abstract class SharedBrokerTest {
    @TempDir
    static Path dir;
    static RunningBroker broker;
    Connection conn;
    Channel ch;

    @BeforeAll
    static void start() throws IOException {
        broker = RunningBroker.start(dir);
    }

    @AfterAll
    static void stop() throws IOException {
        broker.close();
    }

    @BeforeEach
    void connect() throws Exception {
        conn = broker.connect();
        ch = conn.createChannel();
    }

    @AfterEach
    void disconnect() throws IOException {
        if (conn.isOpen()) {
            conn.close();
        }
    }
}
