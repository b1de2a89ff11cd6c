package io.holdfast.app.ctl;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * {@code holdfast ctl}'s way to the running broker: its management HTTP listener. Turns what can go wrong
 * into {@link CtlException}s that say what to do. One per command; the calling thread only.
 */
final class ManagementClient {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final HttpClient http;
    private final String base;
    private final Duration timeout;
    private final String authorization;

    ManagementClient(String host, int port, Duration timeout, String user, String password) {
        this.http = HttpClient.newBuilder().connectTimeout(timeout).build();
        this.base = "http://" + host + ":" + port;
        this.timeout = timeout;
        this.authorization = "Basic " + java.util.Base64.getEncoder().encodeToString((user + ":" + password)
                .getBytes(StandardCharsets.UTF_8));
    }

    String where() {
        return base;
    }

    /** A path segment as RabbitMQ's API takes it: {@code /} is {@code %2F}. */
    static String segment(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }

    /** True if {@code path} names something the broker has (200), false if it answers 404. */
    boolean exists(String path) throws CtlException {
        try {
            get(path);
            return true;
        } catch (CtlException e) {
            if (e.notFound()) {
                return false;
            }
            throw e;
        }
    }

    JsonNode get(String path) throws CtlException {
        return send(HttpRequest.newBuilder(URI.create(base + path)).GET(), path);
    }

    JsonNode post(String path) throws CtlException {
        return send(HttpRequest.newBuilder(URI.create(base + path)).POST(HttpRequest.BodyPublishers.noBody()), path);
    }

    /** A POST with a JSON body, already serialised. */
    JsonNode post(String path, String jsonBody) throws CtlException {
        return send(HttpRequest.newBuilder(URI.create(base + path)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(jsonBody)), path);
    }

    /**
     * A POST with a large JSON body, sent in 64 KiB pieces; {@code sent} hears of each piece as the client takes it
     * (for progress).
     */
    JsonNode post(String path, byte[] jsonBody, java.util.function.LongConsumer sent) throws CtlException {
        int piece = 64 * 1024;
        Iterable<byte[]> pieces = () -> new java.util.Iterator<>() {
            private int offset;

            @Override
            public boolean hasNext() {
                return offset < jsonBody.length;
            }

            @Override
            public byte[] next() {
                int n = Math.min(piece, jsonBody.length - offset);
                byte[] b = java.util.Arrays.copyOfRange(jsonBody, offset, offset + n);
                offset += n;
                sent.accept(n);
                return b;
            }
        };
        return send(HttpRequest.newBuilder(URI.create(base + path)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.fromPublisher(HttpRequest.BodyPublishers.ofByteArrays(pieces),
                        jsonBody.length)), path);
    }

    /** A PUT with a JSON body; the answer (201 or 204) has none. */
    void put(String path, Object body) throws CtlException {
        try {
            send(HttpRequest.newBuilder(URI.create(base + path)).header("Content-Type", "application/json")
                    .PUT(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body))), path);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw CtlException.software("cannot write the request: " + e.getMessage());
        }
    }

    JsonNode delete(String path) throws CtlException {
        return send(HttpRequest.newBuilder(URI.create(base + path)).DELETE(), path);
    }

    private JsonNode send(HttpRequest.Builder request, String path) throws CtlException {
        HttpResponse<String> r;
        try {
            r = http.send(request.timeout(timeout).header("Authorization", authorization).build(),
                    HttpResponse.BodyHandlers.ofString());
        } catch (ConnectException e) {
            throw CtlException.unavailable("nothing answers at " + base + ": is the broker running, and is its "
                    + "management listener on that address (management.tcp.ip / management.tcp.port, "
                    + "management.enabled)? Give another with --host / --management-port.");
        } catch (HttpTimeoutException e) {
            throw CtlException.unavailable("the broker at " + base + " did not answer within "
                    + timeout.toSeconds() + " s (--timeout)");
        } catch (IOException e) {
            throw CtlException.unavailable("cannot reach the broker at " + base + ": " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw CtlException.unavailable("interrupted");
        }
        if (r.body().isEmpty() && r.statusCode() < 300) {
            return JSON.createObjectNode();
        }
        JsonNode body;
        try {
            body = JSON.readTree(r.body());
        } catch (IOException e) {
            throw CtlException.software(base + path + " answered " + r.statusCode() + " with something that is not"
                    + " JSON: is that a Holdfast?");
        }
        if (r.statusCode() == 404 && "Object Not Found".equals(body.path("error").asText())) {
            throw CtlException.notFound(path);
        }
        if (r.statusCode() == 401 && "not_authorised".equals(body.path("error").asText())) {
            throw CtlException.notAuthorised("the broker took the credentials but refused " + path + ": "
                    + body.path("reason").asText() + " (give an administrator's with --username / --password)");
        }
        if (r.statusCode() == 401) {
            throw new CtlException(CtlException.NOPERM, "the broker refused the credentials: "
                    + body.path("reason").asText() + " (give an administrator's with --username / --password)");
        }
        if (r.statusCode() == 400) {
            throw new CtlException(CtlException.DATA, body.path("reason").asText(r.body()));
        }
        if (r.statusCode() == 413) {
            throw new CtlException(CtlException.DATA, body.path("reason").asText(r.body()));
        }
        if (r.statusCode() >= 400 && r.statusCode() != 503) {
            throw CtlException.software(base + path + " answered " + r.statusCode() + ": "
                    + body.path("reason").asText(r.body()));
        }
        return body;
    }
}
