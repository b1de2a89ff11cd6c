package io.holdfast.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Holds the server's package layering: each sub-package may use only those listed for it, so the
 * dependencies point one way (persistence and alarms know nothing of AMQP; the engine knows nothing of
 * sockets; only the top package assembles everything).
 */
class PackageDependenciesTest {
    private static final Path SOURCES = Path.of("src/main/java/io/holdfast/server");
    private static final Map<String, Set<String>> ALLOWED = Map.of(
            "config", Set.of(),
            "auth", Set.of(),
            "persistence", Set.of(),
            "alarms", Set.of(),
            "tls", Set.of("config"),
            "engine", Set.of("config", "auth", "persistence"),
            "cluster", Set.of("config", "auth", "persistence", "engine"),
            "amqp", Set.of("config", "auth", "persistence", "engine", "alarms", "tls"),
            "management", Set.of("config", "auth", "persistence", "engine", "alarms", "tls", "cluster"),
            "", Set.of("config", "engine", "alarms", "amqp", "management", "cluster"));
    private static final Pattern SERVER_REFERENCE = Pattern.compile("io\\.holdfast\\.server(?:\\.([a-z]+))?\\.[A-Z]");

    @Test
    void subPackagesDependOnlyOnThoseBelowThem() throws IOException {
        List<String> violations = new ArrayList<>();
        try (Stream<Path> files = Files.walk(SOURCES)) {
            for (Path file : files.filter(p -> p.toString().endsWith(".java")).toList()) {
                String pkg = SOURCES.relativize(file.getParent()).toString().replace('/', '.');
                assertThat(ALLOWED).as("package of %s is in the layering table", file).containsKey(pkg);
                Matcher m = SERVER_REFERENCE.matcher(Files.readString(file));
                while (m.find()) {
                    String used = m.group(1) == null ? "" : m.group(1);
                    if (!used.equals(pkg) && !ALLOWED.get(pkg).contains(used)) {
                        violations.add(file + " uses io.holdfast.server" + (used.isEmpty() ? "" : "." + used));
                    }
                }
            }
        }
        assertThat(violations).isEmpty();
    }
}
