package io.holdfast.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The management listener as a test sees it: raw requests and the Prometheus scrape. */
final class Management {
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private Management() {}

    /** A request as {@code guest} (the default administrator, from loopback). */
    static HttpResponse<String> request(RunningBroker broker, String method, String path) throws Exception {
        return request(broker, method, path, "guest", "guest", null);
    }

    /** A request as {@code user} (no Authorization header when null), with a JSON body when not null. */
    static HttpResponse<String> request(RunningBroker broker, String method, String path, String user,
                                        String password, String jsonBody) throws Exception {
        return request(broker.managementPort(), method, path, user, password, jsonBody);
    }

    /** As above, to the management listener on {@code port} of 127.0.0.1 (a child broker's). */
    static HttpResponse<String> request(int port, String method, String path, String user, String password,
                                        String jsonBody) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(10))
                .method(method, jsonBody == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(jsonBody));
        if (jsonBody != null) {
            request.header("Content-Type", "application/json");
        }
        if (user != null) {
            request.header("Authorization", "Basic " + Base64.getEncoder().encodeToString((user + ":" + password)
                    .getBytes(StandardCharsets.UTF_8)));
        }
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** {@code GET /metrics}: the queue series as totals (unless {@code prometheus.return_per_object_metrics}). */
    static String metrics(RunningBroker broker) throws Exception {
        return metrics(broker, "/metrics");
    }

    /** {@code GET /metrics/per-object}: a series per queue. */
    static String perObjectMetrics(RunningBroker broker) throws Exception {
        return metrics(broker, "/metrics/per-object");
    }

    /** A Prometheus scrape at {@code path} (with its query string), checked for 200 and the text format. */
    static String metrics(RunningBroker broker, String path) throws Exception {
        HttpResponse<String> r = request(broker, "GET", path);
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type")).hasValue("text/plain; version=0.0.4; charset=utf-8");
        return r.body();
    }

    /**
     * The value of one series ({@code name} or {@code name{labels}}, labels in the order the scrape writes
     * them: alphabetical, so {@code queue} before {@code vhost}) in a Prometheus text scrape, as a whole number.
     */
    static long sample(String metrics, String series) {
        Matcher m = Pattern.compile("^" + Pattern.quote(series) + " (\\S+)$", Pattern.MULTILINE).matcher(metrics);
        assertThat(m.find()).as("series %s in:%n%s", series, metrics).isTrue();
        return (long) Double.parseDouble(m.group(1));
    }
}
