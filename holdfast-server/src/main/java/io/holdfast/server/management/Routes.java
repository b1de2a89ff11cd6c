package io.holdfast.server.management;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The management API's paths, RabbitMQ's: a template such as {@code /api/queues/{vhost}/{name}} matches a
 * path of as many segments, each {@code {...}} segment taking one percent-decoded segment of the path
 * ({@code %2F} is the vhost {@code /}, as in RabbitMQ). Built once, then read by any thread.
 */
final class Routes {
    /**
     * Who may call a route, as RabbitMQ's management plugin decides: by tags, and for a route in a vhost (its
     * first path variable) by the user's permissions there. Every level needs a management user (tag
     * {@code management}, {@code policymaker}, {@code monitoring} or {@code administrator}).
     */
    enum Access {
        /** No credentials, ever: the dashboard's static files (the API they call stays authenticated). */
        PUBLIC,
        /** No credentials when {@code management.unauthenticated_health_and_metrics} is on, else tag monitoring. */
        HEALTH,
        /** Any management user; what a listing shows is filtered to the vhosts the user may see. */
        MANAGEMENT,
        /** Tags monitoring or administrator: reads of the whole node or cluster ({@code /api/nodes}). */
        MONITOR,
        /** Reads in one vhost: monitoring and administrator any vhost; others one they have permissions in. */
        VHOST_READ,
        /** Changes in one vhost: administrator any vhost; others one they have permissions in. */
        VHOST,
        /** Tag administrator. */
        ADMIN
    }

    /** What a request asks for once matched: the handler, who may call it, the path's variable segments. */
    record Match(Handler handler, Access access, List<String> variables) {}

    /** Answers one request; runs on a management thread, never on Netty's or the broker's. */
    @FunctionalInterface
    interface Handler {
        Response handle(Request request) throws Exception;
    }

    /**
     * A request as handlers see it: {@code user} is who logged in (null on an open route); {@code query} the
     * decoded query string parameters; {@code headers} the request's headers, names in lower case.
     */
    record Request(String method, String path, List<String> variables, byte[] body, String user, String peer,
                   Map<String, List<String>> query, Map<String, String> headers) {
        String variable(int i) {
            return variables.get(i);
        }

        /** The header {@code name} (lower case), or null. */
        String header(String name) {
            return headers.get(name);
        }

        /** True if the query string has {@code name=true} (RabbitMQ's {@code ?if-empty=true}). */
        boolean flag(String name) {
            List<String> values = query.get(name);
            return values != null && values.contains("true");
        }
    }

    /** A response: a status, a content type and a body (already serialised), plus any extra headers. */
    record Response(int status, String contentType, byte[] body, List<String[]> headers) {
        static Response of(int status, String contentType, String body) {
            return new Response(status, contentType, body.getBytes(StandardCharsets.UTF_8), List.of());
        }

        Response withoutHeaders() {
            return new Response(status, contentType, body, List.of());
        }

        Response withHeader(String name, String value) {
            List<String[]> h = new ArrayList<>(headers);
            h.add(new String[] {name, value});
            return new Response(status, contentType, body, h);
        }
    }

    private record Route(String method, String[] segments, Access access, Handler handler) {}

    private final List<Route> routes = new ArrayList<>();

    Routes add(String method, String template, Access access, Handler handler) {
        routes.add(new Route(method, split(template), access, handler));
        return this;
    }

    /** The handler for {@code method path}, or null. */
    Match match(String method, String path) {
        String[] segments = split(path);
        for (Route r : routes) {
            List<String> vars = matches(r.segments, segments);
            if (vars != null && r.method.equals(method)) {
                return new Match(r.handler, r.access, vars);
            }
        }
        return null;
    }

    /** The methods some route takes for {@code path} (empty if no route has its shape): for 405's Allow. */
    Set<String> methodsFor(String path) {
        String[] segments = split(path);
        Set<String> methods = new LinkedHashSet<>();
        for (Route r : routes) {
            if (matches(r.segments, segments) != null) {
                methods.add(r.method);
            }
        }
        return methods;
    }

    /** Every route, {@code "GET /api/queues/{vhost}"}, for the 404 text. */
    List<String> describe() {
        List<String> out = new ArrayList<>();
        for (Route r : routes) {
            out.add(r.method + " /" + String.join("/", r.segments));
        }
        return out;
    }

    private static List<String> matches(String[] template, String[] path) {
        if (template.length != path.length) {
            return null;
        }
        List<String> vars = new ArrayList<>();
        for (int i = 0; i < template.length; i++) {
            if (template[i].startsWith("{")) {
                if (path[i].isEmpty()) {
                    return null;
                }
                vars.add(URLDecoder.decode(path[i].replace("+", "%2B"), StandardCharsets.UTF_8));
            } else if (!template[i].equals(path[i])) {
                return null;
            }
        }
        return vars;
    }

    /** A path segment as RabbitMQ's paths spell it: percent-encoded, {@code /} as {@code %2F}, space as {@code %20}. */
    static String encode(String segment) {
        return java.net.URLEncoder.encode(segment, StandardCharsets.UTF_8).replace("+", "%20");
    }

    /** Segments without the leading slash; a trailing slash is ignored, as RabbitMQ does. */
    private static String[] split(String path) {
        String p = path.startsWith("/") ? path.substring(1) : path;
        if (p.endsWith("/")) {
            p = p.substring(0, p.length() - 1);
        }
        return p.isEmpty() ? new String[0] : p.split("/", -1);
    }
}
