package io.holdfast.it;

import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A headless Chromium (Debian's {@code chromium} package) driven over the Chrome DevTools protocol: JSON
 * messages on the browser's WebSocket, with Java's own WebSocket client and Jackson. Each {@link Tab} is a
 * page of its own (its own sessionStorage, so its own login). Exceptions thrown by a page's scripts are
 * collected, so a test can assert there were none.
 */
final class Chromium implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration ANSWER = Duration.ofSeconds(15);

    private final Process process;
    private final WebSocket socket;
    private final AtomicInteger ids = new AtomicInteger();
    private final Map<Integer, CompletableFuture<JsonNode>> pending = new ConcurrentHashMap<>();
    private final List<String> targets = new ArrayList<>();
    /** Uncaught script exceptions, from every tab. */
    final List<String> scriptErrors = Collections.synchronizedList(new ArrayList<>());

    /**
     * Starts Chromium with a fresh profile under {@code profile}; fails, saying what to install, if there is no
     * {@code chromium} on the PATH.
     */
    static Chromium start(Path profile) throws Exception {
        Path binary = binary();
        Process p = new ProcessBuilder(binary.toString(), "--headless", "--no-sandbox", "--disable-gpu",
                "--no-first-run", "--disable-extensions", "--disable-background-networking", "--mute-audio",
                "--remote-debugging-port=0", "--user-data-dir=" + profile, "--window-size=1280,1000", "about:blank")
                .redirectErrorStream(true)
                .redirectOutput(profile.resolveSibling("chromium.log").toFile())
                .start();
        try {
            // Chromium writes the port it chose and the browser's WebSocket path here once it listens.
            Path activePort = profile.resolve("DevToolsActivePort");
            await("Chromium's DevTools port (see " + profile.resolveSibling("chromium.log") + ")")
                    .atMost(Duration.ofSeconds(30)).until(() -> Files.exists(activePort)
                            && Files.readAllLines(activePort).size() >= 2);
            List<String> lines = Files.readAllLines(activePort);
            return new Chromium(p, URI.create("ws://127.0.0.1:" + lines.get(0).trim() + lines.get(1).trim()));
        } catch (Exception | AssertionError e) {
            p.destroyForcibly();
            throw e;
        }
    }

    private static Path binary() {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
            for (String name : List.of("chromium", "chromium-browser")) {
                Path candidate = Path.of(dir, name);
                if (Files.isExecutable(candidate)) {
                    return candidate;
                }
            }
        }
        throw new AssertionError("the dashboard test needs a headless Chromium, and there is no 'chromium' on the "
                + "PATH: install Debian's chromium package (apt-get install chromium), as .ci/run does");
    }

    private Chromium(Process process, URI browser) throws Exception {
        this.process = process;
        this.socket = HttpClient.newHttpClient().newWebSocketBuilder().connectTimeout(Duration.ofSeconds(10))
                .buildAsync(browser, new Listener()).get(10, TimeUnit.SECONDS);
    }

    /** A new tab, attached, with its script exceptions reported; at {@code about:blank}. */
    Tab open() throws Exception {
        String target = call(null, "Target.createTarget", Map.of("url", "about:blank")).get("targetId").asText();
        String session = call(null, "Target.attachToTarget", Map.of("targetId", target, "flatten", true))
                .get("sessionId").asText();
        Tab tab = new Tab(session);
        targets.add(target);
        call(session, "Runtime.enable", Map.of());
        call(session, "Page.enable", Map.of());
        return tab;
    }

    /** Closes every tab opened so far, so none keeps polling the broker. */
    void closeTabs() throws Exception {
        for (String target : targets) {
            call(null, "Target.closeTarget", Map.of("targetId", target));
        }
        targets.clear();
    }

    /** One page, driven through its DevTools session. */
    final class Tab {
        private final String session;

        private Tab(String session) {
            this.session = session;
        }

        /** Runs {@code script} in every document this tab loads from now on, before the document's own scripts. */
        void beforeEachDocument(String script) throws Exception {
            call(session, "Page.addScriptToEvaluateOnNewDocument", Map.of("source", script));
        }

        /** Goes to {@code url} and waits until its document has loaded. */
        void navigate(String url) throws Exception {
            call(session, "Page.navigate", Map.of("url", url));
            await("page " + url + " loaded").atMost(ANSWER)
                    .until(() -> "complete".equals(evaluate("document.readyState").asText()));
        }

        /** The value of a script expression (awaited if it is a promise); an AssertionError if it throws. */
        JsonNode evaluate(String expression) throws Exception {
            JsonNode r = call(session, "Runtime.evaluate", Map.of("expression", expression, "returnByValue", true,
                    "awaitPromise", true));
            if (r.has("exceptionDetails")) {
                throw new AssertionError("script " + expression + " threw " + r.get("exceptionDetails"));
            }
            return r.path("result").path("value");
        }

        /** The text of the first element matching a CSS selector, or null if none does (yet). */
        String text(String selector) throws Exception {
            JsonNode v = evaluate("(() => { const e = document.querySelector(" + JSON.writeValueAsString(selector)
                    + "); return e ? e.textContent : null; })()");
            return v.isNull() || v.isMissingNode() ? null : v.asText();
        }

        /** Saves a PNG of the whole page, beyond the window if it is longer. */
        void screenshot(Path file) throws Exception {
            JsonNode size = call(session, "Page.getLayoutMetrics", Map.of()).get("cssContentSize");
            JsonNode r = call(session, "Page.captureScreenshot", Map.of("format", "png", "captureBeyondViewport", true,
                    "clip", Map.of("x", 0, "y", 0, "width", size.get("width").asDouble(),
                            "height", size.get("height").asDouble(), "scale", 1)));
            Files.createDirectories(file.getParent());
            Files.write(file, Base64.getDecoder().decode(r.get("data").asText()));
        }
    }

    /** Sends one command (to a tab's session, or to the browser when null) and waits for its result. */
    private JsonNode call(String session, String method, Map<String, Object> params) throws Exception {
        int id = ids.incrementAndGet();
        ObjectNode message = JSON.createObjectNode().put("id", id).put("method", method);
        message.set("params", JSON.valueToTree(params));
        if (session != null) {
            message.put("sessionId", session);
        }
        CompletableFuture<JsonNode> answer = new CompletableFuture<>();
        pending.put(id, answer);
        socket.sendText(JSON.writeValueAsString(message), true).get(10, TimeUnit.SECONDS);
        JsonNode reply = answer.get(ANSWER.toSeconds(), TimeUnit.SECONDS);
        if (reply.has("error")) {
            throw new AssertionError("DevTools " + method + " failed: " + reply.get("error"));
        }
        return reply.get("result");
    }

    /** Reassembles messages (a screenshot arrives in many frames) and routes replies and events. */
    private final class Listener implements WebSocket.Listener {
        private final StringBuilder partial = new StringBuilder();

        @Override
        public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
            partial.append(data);
            if (last) {
                receive(partial.toString());
                partial.setLength(0);
            }
            webSocket.request(1);
            return null;
        }

        private void receive(String text) {
            JsonNode m;
            try {
                m = JSON.readTree(text);
            } catch (IOException e) {
                scriptErrors.add("unreadable DevTools message: " + e);
                return;
            }
            if (m.has("id")) {
                CompletableFuture<JsonNode> f = pending.remove(m.get("id").asInt());
                if (f != null) {
                    f.complete(m);
                }
            } else if ("Runtime.exceptionThrown".equals(m.path("method").asText())) {
                scriptErrors.add(m.path("params").path("exceptionDetails").toString());
            }
        }

        @Override
        public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
            onError(webSocket, new IOException("Chromium closed DevTools: " + statusCode + " " + reason));
            return null;
        }

        @Override
        public void onError(WebSocket webSocket, Throwable error) {
            pending.values().forEach(f -> f.completeExceptionally(error));
        }
    }

    /** Asks the browser to quit, then makes sure it and its helper processes have. */
    @Override
    public void close() {
        List<ProcessHandle> helpers = process.descendants().toList();
        try {
            call(null, "Browser.close", Map.of());
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        } catch (Exception | AssertionError e) {
            process.destroyForcibly();
        }
        helpers.forEach(ProcessHandle::destroyForcibly);
        socket.abort();
    }
}
