package io.holdfast.app.ctl;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/**
 * rabbitmqctl's {@code export_definitions} and {@code import_definitions} over the management API's
 * {@code /api/definitions}: RabbitMQ's JSON, to or from a file, or standard output / input for {@code -}.
 * An import is applied whole or not at all (the broker checks every entry first); before it is sent, a line per
 * section says how much it holds, and a file of 1 MiB or more prints its progress to standard error, a line per
 * tenth: as it is sent, then as the broker checks it and applies it (read from Holdfast's
 * {@code GET /api/holdfast/definitions/import} while the import's POST waits). They need an administrator's
 * credentials.
 */
final class DefinitionsVerbs {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<String> SECTIONS = List.of("users", "vhosts", "permissions", "exchanges", "queues",
            "bindings");

    /** A file smaller than this is sent without progress lines. */
    private static final int PROGRESS_BYTES_MIN = 1024 * 1024;
    private static final String STATUS = "/api/holdfast/definitions/import";
    private static final long POLL_MILLIS = 200;

    private DefinitionsVerbs() {}

    @Command(name = "export_definitions", description = "Writes the broker's definitions (RabbitMQ's JSON) to FILE, "
            + "or to standard output for '-'.")
    static final class Export extends Ctl.Verb {
        @Parameters(index = "0", paramLabel = "FILE") String file;

        @Override
        int run(ManagementClient client) throws CtlException {
            boolean stdout = file.equals("-");
            if (!stdout) {
                info("Exporting definitions in JSON to a file at \"" + file + "\" ...");
            }
            JsonNode definitions = client.get("/api/definitions");
            String text;
            try {
                text = JSON.writerWithDefaultPrettyPrinter().writeValueAsString(definitions);
            } catch (IOException e) {
                throw CtlException.software("cannot write the definitions: " + e.getMessage());
            }
            if (stdout) {
                out().println(text);
                return 0;
            }
            try {
                Files.writeString(Path.of(file), text + "\n", StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new CtlException(CtlException.CANTCREAT, "cannot write " + file + ": " + e.getMessage());
            }
            return 0;
        }
    }

    @Command(name = "import_definitions", description = "Imports definitions (RabbitMQ's JSON) from FILE, or from "
            + "standard input for '-': all of them, or nothing if any entry is wrong.")
    static final class Import extends Ctl.Verb {
        @Parameters(index = "0", paramLabel = "FILE") String file;

        @Override
        int run(ManagementClient client) throws CtlException {
            boolean stdin = file.equals("-");
            info(stdin ? "Importing definitions in JSON from standard input ..."
                    : "Importing definitions in JSON from a file at \"" + file + "\" ...");
            String text;
            try {
                text = stdin ? new String(System.in.readAllBytes(), StandardCharsets.UTF_8)
                        : Files.readString(Path.of(file), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new CtlException(CtlException.NOINPUT, "cannot read " + file + ": " + e.getMessage());
            }
            JsonNode definitions;
            try {
                definitions = JSON.readTree(text);
            } catch (IOException e) {
                throw new CtlException(CtlException.DATA, file + " is not JSON: " + e.getMessage());
            }
            if (definitions == null || !definitions.isObject()) {
                throw new CtlException(CtlException.DATA, file + " is not a JSON object of definitions");
            }
            for (String section : SECTIONS) {
                JsonNode n = definitions.path(section);
                if (n.isArray() && !n.isEmpty()) {
                    info("  " + n.size() + " " + section);
                }
            }
            byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
            if (bytes.length < PROGRESS_BYTES_MIN) {
                client.post("/api/definitions", bytes, n -> { });
            } else {
                sendShowingProgress(client, bytes);
            }
            info("Successfully imported definitions.");
            return 0;
        }

        /**
         * Sends the import on another thread and, until its answer, shows how far the broker has got with it, as
         * {@code GET /api/holdfast/definitions/import} says every {@value #POLL_MILLIS} ms once the file is sent.
         */
        private void sendShowingProgress(ManagementClient client, byte[] bytes) throws CtlException {
            long before = client.get(STATUS).path("import").asLong(); // the statuses of this import are later ones
            java.util.concurrent.atomic.AtomicLong sentBytes = new java.util.concurrent.atomic.AtomicLong();
            // The HTTP client takes the pieces one after another: this Progress has one thread at a time.
            Progress sent = new Progress(err(), "Sending definitions", "bytes", bytes.length);
            CompletableFuture<JsonNode> answer = CompletableFuture.supplyAsync(() -> {
                try {
                    return client.post("/api/definitions", bytes, n -> {
                        sent.advance(n);
                        sentBytes.addAndGet(n);
                    });
                } catch (CtlException e) {
                    throw new CompletionException(e);
                }
            });
            Map<String, Progress> phases = new LinkedHashMap<>();
            while (true) {
                try {
                    answer.get(POLL_MILLIS, TimeUnit.MILLISECONDS);
                    break;
                } catch (TimeoutException e) {
                    if (sentBytes.get() == bytes.length) {
                        show(phases, client.get(STATUS), before);
                    }
                } catch (ExecutionException e) {
                    throw e.getCause() instanceof CtlException c ? c
                            : CtlException.software("the import failed: " + e.getCause());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw CtlException.software("interrupted while importing");
                }
            }
            show(phases, client.get(STATUS), before); // "done": every phase to 100%
        }

        /**
         * Moves the lines of the phase the status names to where it is, after finishing those of the phase before it
         * (a phase begun and ended between two looks shows no lines of its own).
         */
        private void show(Map<String, Progress> phases, JsonNode status, long before) {
            if (status.path("import").asLong() <= before) {
                return; // the broker is still reading the file, or says how the previous import ended
            }
            String phase = status.path("phase").asText();
            long total = status.path("total").asLong();
            long done = status.path("done").asLong();
            if (phase.equals("checking")) {
                lines(phases, "Checking definitions", total).advanceTo(done);
            } else if (phase.equals("applying") || phase.equals("done")) {
                Progress checked = phases.get("Checking definitions");
                if (checked != null) {
                    checked.advanceTo(checked.total());
                }
                lines(phases, "Applying definitions", total).advanceTo(done);
            }
        }

        private Progress lines(Map<String, Progress> phases, String what, long total) {
            return phases.computeIfAbsent(what, w -> new Progress(err(), w, "entries", total));
        }
    }
}
