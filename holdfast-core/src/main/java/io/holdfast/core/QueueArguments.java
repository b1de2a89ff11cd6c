package io.holdfast.core;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Validation and comparison of queue arguments ({@code x-...}), with RabbitMQ's names. Bad values are
 * refused with 406 PRECONDITION_FAILED and a text that names the argument.
 */
final class QueueArguments {
    /**
     * The arguments a redeclaration must match, as RabbitMQ's classic and quorum queues list them; any
     * other argument is kept with the queue but not compared, so adding one to a redeclaration is fine. Our own
     * {@code x-redelivery-backoff} is compared too.
     */
    static final List<String> COMPARED_ON_REDECLARE = List.of("x-expires", "x-message-ttl",
            "x-dead-letter-exchange", "x-dead-letter-routing-key", "x-dead-letter-strategy", "x-max-length",
            "x-max-length-bytes", "x-max-priority", "x-overflow", "x-queue-mode", "x-queue-version",
            "x-single-active-consumer", "x-queue-type", "x-queue-master-locator", "x-queue-leader-locator",
            "x-delivery-limit", "x-quorum-initial-group-size", "x-max-in-memory-length", "x-max-in-memory-bytes",
            RedeliveryBackoff.ARGUMENT, Deduplication.ARGUMENT);

    private QueueArguments() {}

    static void validate(Map<String, Object> args) {
        PriorityLevels.validate(args);
        Object type = args.get("x-queue-type");
        if (type != null) {
            String t = show(type);
            if (!t.equals("classic") && !t.equals("quorum")) {
                throw BrokerException.precondition("invalid arg 'x-queue-type': '" + t
                        + "' is not supported (classic and quorum are)");
            }
        }
        for (String key : new String[] {"x-message-ttl", "x-expires", "x-max-length", "x-max-length-bytes",
                "x-delivery-limit", "x-max-priority", "x-consumer-timeout"}) {
            Object v = args.get(key);
            if (v == null) {
                continue;
            }
            if (!isIntegral(v)) {
                throw BrokerException.precondition("invalid arg '" + key + "' for queue: expected an integer, got '"
                        + show(v) + "'");
            }
            long n = ((Number) v).longValue();
            if (n < 0 || key.equals("x-expires") && n == 0) {
                throw BrokerException.precondition("invalid arg '" + key + "' for queue: value " + n
                        + (key.equals("x-expires") ? " must be positive" : " must not be negative"));
            }
        }
        Object sac = args.get("x-single-active-consumer");
        if (sac != null && !(sac instanceof Boolean)) {
            throw BrokerException.precondition("invalid arg 'x-single-active-consumer' for queue: expected a boolean,"
                    + " got '" + show(sac) + "'");
        }
        for (String key : new String[] {"x-dead-letter-exchange", "x-dead-letter-routing-key"}) {
            Object v = args.get(key);
            if (v != null && !isText(v)) {
                throw BrokerException.precondition("invalid arg '" + key + "' for queue: expected a string, got '"
                        + show(v) + "'");
            }
        }
        if (args.get("x-dead-letter-routing-key") != null && args.get("x-dead-letter-exchange") == null) {
            // RabbitMQ's words
            throw BrokerException.precondition("invalid arg 'x-dead-letter-routing-key': Key "
                    + "x-dead-letter-routing-key should be specified together with x-dead-letter-exchange");
        }
        Object backoff = args.get(RedeliveryBackoff.ARGUMENT);
        if (backoff != null) {
            if (!isText(backoff)) {
                throw BrokerException.precondition("invalid arg '" + RedeliveryBackoff.ARGUMENT + "' for queue: expected"
                        + " a string such as '1s,5s,30s' or 'exponential:1s:5m', got '" + show(backoff) + "'");
            }
            RedeliveryBackoff.parse(show(backoff));
        }
        Object overflow = args.get("x-overflow");
        if (overflow != null) {
            String o = show(overflow);
            if (!o.equals("drop-head") && !o.equals("reject-publish") && !o.equals("reject-publish-dlx")) {
                throw BrokerException.precondition("invalid arg 'x-overflow' for queue: '" + o
                        + "' is not one of drop-head, reject-publish, reject-publish-dlx");
            }
        }
    }

    /**
     * True for a string argument: a {@link String}, raw bytes, or the protocol's long string type, which the core
     * cannot name (it must not depend on holdfast-protocol) but whose {@code toString} is its UTF-8 text.
     */
    static boolean isText(Object v) {
        return v instanceof CharSequence || v instanceof byte[] || v.getClass().getSimpleName().equals("LongString");
    }

    static boolean isIntegral(Object v) {
        return v instanceof Byte || v instanceof Short || v instanceof Integer || v instanceof Long;
    }

    /** Equal as RabbitMQ compares arguments: numbers by value whatever their width, strings by text. */
    static boolean sameValue(Object a, Object b) {
        if (a == null || b == null) {
            return a == b;
        }
        if (isIntegral(a) && isIntegral(b)) {
            return ((Number) a).longValue() == ((Number) b).longValue();
        }
        if (a instanceof byte[] x && b instanceof byte[] y) {
            return Arrays.equals(x, y);
        }
        return a.equals(b) || show(a).equals(show(b));
    }

    static String show(Object v) {
        return v instanceof byte[] b ? new String(b, StandardCharsets.UTF_8) : String.valueOf(v);
    }
}
