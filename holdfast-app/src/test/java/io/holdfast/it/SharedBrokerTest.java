package io.holdfast.it;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import java.io.IOException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

/**
 * One broker for a whole test class (tests use their own queue names), and a fresh connection and
 * channel for each test.
 */
abstract class SharedBrokerTest extends ClassBroker {
    Connection conn;
    Channel ch;

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
