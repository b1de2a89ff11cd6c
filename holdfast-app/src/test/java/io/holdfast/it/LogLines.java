package io.holdfast.it;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.util.function.Predicate;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.slf4j.LoggerFactory;

/**
 * What one broker logger says during each test, for tests that check a line is logged (and how often):
 * {@code @RegisterExtension final LogLines log = LogLines.of("io.holdfast.server.tls.TlsErrors");}.
 */
final class LogLines implements BeforeEachCallback, AfterEachCallback {
    private final Logger logger;
    private final ListAppender<ILoggingEvent> lines = new ListAppender<>();

    private LogLines(String loggerName) {
        this.logger = (Logger) LoggerFactory.getLogger(loggerName);
    }

    static LogLines of(String loggerName) {
        return new LogLines(loggerName);
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        lines.list.clear();
        lines.start();
        logger.addAppender(lines);
    }

    @Override
    public void afterEach(ExtensionContext context) {
        logger.detachAppender(lines);
    }

    /** How many lines logged so far match. */
    long count(Predicate<String> message) {
        return lines.list.stream().filter(e -> message.test(e.getFormattedMessage())).count();
    }

    boolean anyContains(String text) {
        return count(m -> m.contains(text)) > 0;
    }
}
