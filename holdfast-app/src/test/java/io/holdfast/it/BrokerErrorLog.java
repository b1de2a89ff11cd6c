package io.holdfast.it;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.LoggerFactory;

/**
 * Collects what the broker logs at ERROR (a broker task that threw, an exception that escaped a
 * handler) and what Netty warns about (an exception reaching the end of the pipeline, a leaked
 * buffer). Bad input is expected and logged at WARN or below; anything collected here is a broker
 * bug. Attach before the abuse, check and detach after.
 */
final class BrokerErrorLog extends AppenderBase<ILoggingEvent> implements AutoCloseable {
    private final List<String> events = new CopyOnWriteArrayList<>();
    private final Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);

    private BrokerErrorLog() {
        setName("broker-error-log");
        setContext(root.getLoggerContext());
    }

    static BrokerErrorLog attach() {
        BrokerErrorLog log = new BrokerErrorLog();
        log.start();
        log.root.addAppender(log);
        return log;
    }

    @Override
    protected void append(ILoggingEvent e) {
        boolean nettyWarning = e.getLoggerName().startsWith("io.netty") && e.getLevel().isGreaterOrEqual(Level.WARN);
        if (e.getLevel().isGreaterOrEqual(Level.ERROR) || nettyWarning) {
            String cause = e.getThrowableProxy() == null ? ""
                    : " (" + e.getThrowableProxy().getClassName() + ": " + e.getThrowableProxy().getMessage() + ")";
            events.add(e.getLevel() + " [" + e.getThreadName() + "] " + e.getLoggerName() + ": "
                    + e.getFormattedMessage() + cause);
        }
    }

    /** What was collected since the last call. */
    List<String> drain() {
        List<String> copy = List.copyOf(events);
        events.removeAll(copy);
        return copy;
    }

    @Override
    public void close() {
        root.detachAppender(this);
        stop();
    }
}
