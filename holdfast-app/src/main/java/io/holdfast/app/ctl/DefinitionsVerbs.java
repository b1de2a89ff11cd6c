package io.holdfast.app.ctl;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/**
 * rabbitmqctl's {@code export_definitions} and {@code import_definitions} over the management API's
 * {@code /api/definitions}: RabbitMQ's JSON, to or from a file, or standard output / input for {@code -}.
 * An import is applied whole or not at all (the broker checks every entry first); before it is sent, a line per
 * section says how much it holds, and a file of 1 MiB or more prints its progress to standard error as it is sent
 * (a line per tenth; the broker then checks and applies it in one step). They need an administrator's credentials.
 */
final class DefinitionsVerbs {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<String> SECTIONS = List.of("users", "vhosts", "permissions", "exchanges", "queues",
            "bindings");

    /** A file smaller than this is sent without progress lines. */
    private static final int PROGRESS_BYTES_MIN = 1024 * 1024;

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
            Progress sent = new Progress(err(), "Sending definitions", "bytes",
                    bytes.length >= PROGRESS_BYTES_MIN ? bytes.length : 0);
            client.post("/api/definitions", bytes, sent::advance);
            info("Successfully imported definitions.");
            return 0;
        }
    }
}
