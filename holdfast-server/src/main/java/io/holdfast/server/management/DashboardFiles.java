package io.holdfast.server.management;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * The web dashboard's static files, served without credentials (the page logs in to the API itself, RabbitMQ's
 * way): {@code GET /} is the page, {@code GET /dashboard/{file}} its script and style sheet. The files are
 * classpath resources beside this class, read once at start into memory; a name that is not one of them is 404,
 * so no request can reach any other resource or file (there is nothing to traverse). Each answer carries an
 * {@code ETag} and {@code Cache-Control: no-cache}: a browser keeps the file but asks each time, and a
 * matching {@code If-None-Match} gets an empty 304, so an upgraded broker is never shown with a stale script.
 * Built once, then read by any management thread.
 */
final class DashboardFiles {
    private static final String INDEX = "index.html";
    /** The page's own rules, so no injected script or frame can act with the login it keeps. */
    private static final String CONTENT_SECURITY_POLICY = "default-src 'self'; img-src 'self' data:; "
            + "frame-ancestors 'none'; form-action 'self'; base-uri 'none'";

    private record File(String contentType, byte[] bytes, String etag) {}

    private final Map<String, File> files;

    DashboardFiles() {
        files = Map.of(
                INDEX, load(INDEX, "text/html; charset=utf-8"),
                "dashboard.js", load("dashboard.js", "text/javascript; charset=utf-8"),
                "dashboard.css", load("dashboard.css", "text/css; charset=utf-8"));
    }

    void addTo(Routes routes) {
        routes.add("GET", "/", Routes.Access.PUBLIC, r -> answer(INDEX, r))
                .add("GET", "/dashboard/{file}", Routes.Access.PUBLIC, r -> r.variable(0).equals(INDEX)
                        ? missing(r.variable(0)) : answer(r.variable(0), r));
    }

    private Routes.Response answer(String name, Routes.Request request) {
        File f = files.get(name);
        if (f == null) {
            return missing(name);
        }
        Routes.Response r = f.etag.equals(request.header("if-none-match"))
                ? new Routes.Response(304, f.contentType, new byte[0], List.of())
                : new Routes.Response(200, f.contentType, f.bytes, List.of());
        return r.withHeader("Cache-Control", "no-cache")
                .withHeader("ETag", f.etag)
                .withHeader("X-Content-Type-Options", "nosniff")
                .withHeader("Content-Security-Policy", CONTENT_SECURITY_POLICY);
    }

    private Routes.Response missing(String name) {
        return ManagementHttp.error(404, "not_found", "the dashboard has no file '" + name + "'; it has "
                + String.join(", ", files.keySet().stream().filter(n -> !n.equals(INDEX)).sorted().toList()));
    }

    private static File load(String name, String contentType) {
        try (InputStream in = DashboardFiles.class.getResourceAsStream("dashboard/" + name)) {
            if (in == null) {
                throw new IllegalStateException("dashboard resource " + name + " is missing from the build");
            }
            byte[] bytes = in.readAllBytes();
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(bytes);
            return new File(contentType, bytes, "\"" + HexFormat.of().formatHex(digest, 0, 12) + "\"");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read dashboard resource " + name, e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }
}
