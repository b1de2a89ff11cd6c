package io.holdfast.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.Test;

/**
 * The web dashboard's files through a real HTTP client, no browser: served without a login with their content
 * types and revalidation headers, nothing but those files under {@code /dashboard/}, while the API they call still
 * asks for credentials (without the challenge that would open a browser's login box, for the page's script).
 */
class DashboardFilesTest extends ClassBroker {
    @Test
    void staticFilesArePublicRevalidatedAndNothingElseIsServed() throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        String base = "http://127.0.0.1:" + broker.managementPort();
        HttpResponse<String> index = http.send(HttpRequest.newBuilder(URI.create(base + "/")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(index.statusCode()).isEqualTo(200);
        assertThat(index.headers().firstValue("Content-Type")).hasValue("text/html; charset=utf-8");
        assertThat(index.headers().firstValue("Cache-Control")).hasValue("no-cache");
        assertThat(index.body()).contains("<form id=\"login\"");
        HttpResponse<String> script = http.send(HttpRequest.newBuilder(URI.create(base + "/dashboard/dashboard.js"))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertThat(script.headers().firstValue("Content-Type")).hasValue("text/javascript; charset=utf-8");
        String etag = script.headers().firstValue("ETag").orElseThrow();
        HttpResponse<String> again = http.send(HttpRequest.newBuilder(URI.create(base + "/dashboard/dashboard.js"))
                .header("If-None-Match", etag).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(again.statusCode()).isEqualTo(304);
        assertThat(again.body()).isEmpty();
        assertThat(http.send(HttpRequest.newBuilder(URI.create(base + "/dashboard/dashboard.css")).build(),
                HttpResponse.BodyHandlers.ofString()).headers().firstValue("Content-Type"))
                .hasValue("text/css; charset=utf-8");
        for (String path : new String[] {"/dashboard/nope.js", "/dashboard/index.html",
                "/dashboard/..%2FDashboardFiles.class", "/dashboard/../ManagementHttp.class", "/dashboard/%2e%2e%2f%2e%2e%2fpom.xml", "/dashboard"}) {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base + path)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).as(path).isEqualTo(404);
            assertThat(r.headers().firstValue("Content-Type")).as(path).hasValue("application/json");
        }
        HttpResponse<String> api = http.send(HttpRequest.newBuilder(URI.create(base + "/api/overview")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(api.statusCode()).isEqualTo(401);
        assertThat(api.headers().firstValue("WWW-Authenticate")).isPresent();
        HttpResponse<String> fromScript = http.send(HttpRequest.newBuilder(URI.create(base + "/api/overview"))
                .header("X-Requested-With", "XMLHttpRequest").build(), HttpResponse.BodyHandlers.ofString());
        assertThat(fromScript.statusCode()).isEqualTo(401);
        assertThat(fromScript.headers().firstValue("WWW-Authenticate")).as("no browser login box").isEmpty();
    }

    @Test
    void headAnswersTheHeadersWithoutTheBody() throws Exception {
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + broker.managementPort() + "/"))
                .method("HEAD", HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type")).hasValue("text/html; charset=utf-8");
        assertThat(r.headers().firstValue("Content-Security-Policy")).hasValueSatisfying(v ->
                assertThat(v).contains("default-src 'self'", "frame-ancestors 'none'"));
        assertThat(r.body()).isEmpty();
    }
}
