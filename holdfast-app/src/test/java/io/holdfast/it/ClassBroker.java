package io.holdfast.it;

import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

/** One broker for a whole test class, started before its first test and stopped after its last. */
abstract class ClassBroker {
    @TempDir
    static Path dir;
    static RunningBroker broker;

    @BeforeAll
    static void start() throws IOException {
        broker = RunningBroker.start(dir);
    }

    @AfterAll
    static void stop() throws IOException {
        broker.close();
    }
}
