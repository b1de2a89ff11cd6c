package io.holdfast.server.auth;

import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One user's topic permission on one topic exchange in one vhost, as RabbitMQ's: a {@code write} and a
 * {@code read} regular expression that a routing key must match (found anywhere in the key; {@code ""} means
 * {@code ^$}, as RabbitMQ). They may name variables, expanded per connection before matching:
 * {@code {username}}, {@code {vhost}} and {@code {client_id}}. Unlike RabbitMQ, which splices a value in raw,
 * a value is matched literally (a user name {@code a.b} matches only {@code a.b}); a variable with no value
 * (AMQP 0-9-1 connections have no {@code client_id} unless the client sends the {@code client_id} client
 * property) matches nothing. Immutable; checked when set, so it always expands to a valid expression.
 */
public final class TopicPermission {
    /** The variables a topic permission may name. */
    public static final java.util.List<String> VARIABLES = java.util.List.of("username", "vhost", "client_id");
    private static final Pattern VARIABLE = Pattern.compile("\\{(username|vhost|client_id)\\}");
    private static final String NEVER = "(?!)";

    private final String exchange;
    private final String write;
    private final String read;

    private TopicPermission(String exchange, String write, String read) {
        this.exchange = exchange;
        this.write = write;
        this.read = read;
    }

    /**
     * @throws IllegalArgumentException naming the kind and what is wrong, for an empty exchange name or an
     *     expression that does not compile (with its variables expanded)
     */
    public static TopicPermission of(String exchange, String write, String read) {
        if (exchange == null || exchange.isEmpty()) {
            throw new IllegalArgumentException("a topic permission names an exchange");
        }
        Map<String, String> sample = Map.of("username", "u", "vhost", "v", "client_id", "c");
        expand("write", write, sample);
        expand("read", read, sample);
        return new TopicPermission(exchange, write, read);
    }

    /**
     * The expression of {@code kind} (WRITE or READ) with {@code values} put in for its variables, compiled;
     * for a connection to keep while the permission stays the same.
     */
    public Pattern compile(Permission.Kind kind, Map<String, String> values) {
        return expand(kind.name().toLowerCase(java.util.Locale.ROOT), kind == Permission.Kind.WRITE ? write : read,
                values);
    }

    private static Pattern expand(String kind, String regex, Map<String, String> values) {
        return Permission.compile(kind, regex, r -> {
            Matcher m = VARIABLE.matcher(r);
            StringBuilder out = new StringBuilder();
            while (m.find()) {
                String value = values.get(m.group(1));
                m.appendReplacement(out, Matcher.quoteReplacement(value == null ? NEVER : Pattern.quote(value)));
            }
            m.appendTail(out);
            return out.toString();
        });
    }

    public String exchange() {
        return exchange;
    }

    public String write() {
        return write;
    }

    public String read() {
        return read;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TopicPermission p && p.exchange.equals(exchange) && p.write.equals(write)
                && p.read.equals(read);
    }

    @Override
    public int hashCode() {
        return (exchange.hashCode() * 31 + write.hashCode()) * 31 + read.hashCode();
    }

    @Override
    public String toString() {
        return "TopicPermission[exchange=" + exchange + ", write=" + write + ", read=" + read + "]";
    }
}
