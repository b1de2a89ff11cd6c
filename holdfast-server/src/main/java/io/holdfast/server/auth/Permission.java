package io.holdfast.server.auth;

import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * One user's configure / write / read permissions in one virtual host: regular expressions that a
 * resource's name must match (found anywhere in the name, as RabbitMQ's {@code re:run} does; the empty
 * expression means {@code ^$}, as RabbitMQ documents). Compiled once; immutable; safe to share.
 */
public final class Permission {
    /** What a check is for (RabbitMQ's permission kinds). */
    public enum Kind { CONFIGURE, WRITE, READ }

    private final String configure;
    private final String write;
    private final String read;
    private final Pattern configurePattern;
    private final Pattern writePattern;
    private final Pattern readPattern;

    private Permission(String configure, String write, String read) {
        this.configure = configure;
        this.write = write;
        this.read = read;
        this.configurePattern = compile("configure", configure);
        this.writePattern = compile("write", write);
        this.readPattern = compile("read", read);
    }

    /**
     * @throws IllegalArgumentException naming the kind and what is wrong with a regular expression that
     *     does not compile
     */
    public static Permission of(String configure, String write, String read) {
        return new Permission(configure, write, read);
    }

    /** Every permission on every resource: {@code ".*"} three times. */
    public static Permission all() {
        return of(".*", ".*", ".*");
    }

    public boolean allows(Kind kind, String resource) {
        Pattern p = switch (kind) {
            case CONFIGURE -> configurePattern;
            case WRITE -> writePattern;
            case READ -> readPattern;
        };
        return p.matcher(resource).find();
    }

    public String regex(Kind kind) {
        return switch (kind) {
            case CONFIGURE -> configure;
            case WRITE -> write;
            case READ -> read;
        };
    }

    public String configure() {
        return configure;
    }

    public String write() {
        return write;
    }

    public String read() {
        return read;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Permission p && p.configure.equals(configure) && p.write.equals(write)
                && p.read.equals(read);
    }

    @Override
    public int hashCode() {
        return configure.hashCode() * 31 * 31 + write.hashCode() * 31 + read.hashCode();
    }

    @Override
    public String toString() {
        return "Permission[configure=" + configure + ", write=" + write + ", read=" + read + "]";
    }

    private static Pattern compile(String kind, String regex) {
        return compile(kind, regex, java.util.function.UnaryOperator.identity());
    }

    /**
     * Compiles an expression as RabbitMQ reads it (the empty one matches nothing but the empty name), after
     * {@code expand} has put in any variables; an error names the expression as written.
     */
    static Pattern compile(String kind, String regex, java.util.function.UnaryOperator<String> expand) {
        if (regex == null) {
            throw new IllegalArgumentException(kind + " regular expression is missing");
        }
        try {
            return Pattern.compile(expand.apply(regex.isEmpty() ? "^$" : regex));
        } catch (PatternSyntaxException e) {
            throw new IllegalArgumentException("invalid " + kind + " regular expression '" + regex + "': "
                    + e.getDescription() + " near index " + e.getIndex());
        }
    }
}
