package io.holdfast.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

/** Topic matching as RabbitMQ does it: {@code *} is exactly one word, {@code #} is zero or more. */
class TopicPatternTest {

    @ParameterizedTest(name = "''{0}'' matches ''{1}''")
    @CsvSource(delimiter = '|', emptyValue = "", value = {
        "#        | ''",
        "#        | a",
        "#        | a.b.c",
        "a.#      | a",
        "a.#      | a.b",
        "a.#      | a.b.c",
        "#.a      | a",
        "#.a      | x.y.a",
        "a.#.b    | a.b",
        "a.#.b    | a.x.y.b",
        "a.*.#    | a.b",
        "a.*.#    | a.b.c.d",
        "*.*      | a.b",
        "*        | a",
        "a.*.c    | a.b.c",
        "#.#      | ''",
        "#.*.#    | a",
        "a.b      | a.b",
        "''       | ''",
        "*.b      | .b",
        "a.*      | a.",
    })
    void matches(String pattern, String routingKey) {
        assertThat(new TopicPattern(pattern).matches(routingKey)).isTrue();
    }

    @ParameterizedTest(name = "''{0}'' does not match ''{1}''")
    @CsvSource(delimiter = '|', emptyValue = "", value = {
        "*.b      | b",
        "*        | ''",
        "*        | a.b",
        "a.*      | a",
        "a.*.#    | a",
        "*.#      | ''",
        "#.*.#    | ''",
        "a.*.c    | a.c",
        "a.*.c    | a.b.b.c",
        "a.b      | a.b.c",
        "a.b      | a",
        "a        | b",
        "''       | a",
        "a.#      | b.a",
        "#.a      | a.b",
        "a.#.b    | a.b.c",
        "*.*      | a",
    })
    void doesNotMatch(String pattern, String routingKey) {
        assertThat(new TopicPattern(pattern).matches(routingKey)).isFalse();
    }

    /** The binding table of RabbitMQ's own topic-exchange unit test, with the queues each key must reach. */
    private static final Map<String, String> RABBIT_BINDINGS = rabbitBindings();

    private static Map<String, String> rabbitBindings() {
        String[] patterns = {"a.b.c", "a.*.c", "a.#.b", "a.b.b.c", "#", "#.#", "#.b", "*.*", "a.*", "*.b.c", "a.#",
            "a.#.#", "b.b.c", "a.b.b", "a.b", "b.c", "", "*.*.*", "vodka.martini", "a.b.c", "*.#", "#.*.#", "*.#.#",
            "#.#.#", "*", "#.b.#"};
        Map<String, String> out = new LinkedHashMap<>();
        for (int i = 0; i < patterns.length; i++) {
            out.put("t" + (i + 1), patterns[i]);
        }
        return out;
    }

    static Stream<Arguments> rabbitExpectations() {
        return Stream.of(
                Arguments.of("a.b.c", List.of("t1", "t2", "t5", "t6", "t10", "t11", "t12", "t18", "t20", "t21", "t22",
                        "t23", "t24", "t26")),
                Arguments.of("a.b", List.of("t3", "t5", "t6", "t7", "t8", "t9", "t11", "t12", "t15", "t21", "t22",
                        "t23", "t24", "t26")),
                Arguments.of("a.b.b", List.of("t3", "t5", "t6", "t7", "t11", "t12", "t14", "t18", "t21", "t22", "t23",
                        "t24", "t26")),
                Arguments.of("", List.of("t5", "t6", "t17", "t24")),
                Arguments.of("b.c.c", List.of("t5", "t6", "t18", "t21", "t22", "t23", "t24", "t26")),
                Arguments.of("a.a.a.a.a", List.of("t5", "t6", "t11", "t12", "t21", "t22", "t23", "t24")),
                Arguments.of("vodka.gin", List.of("t5", "t6", "t8", "t21", "t22", "t23", "t24")),
                Arguments.of("vodka.martini", List.of("t5", "t6", "t8", "t19", "t21", "t22", "t23", "t24")),
                Arguments.of("b.b.c", List.of("t5", "t6", "t10", "t13", "t18", "t21", "t22", "t23", "t24", "t26")),
                Arguments.of("nothing.here.at.all", List.of("t5", "t6", "t21", "t22", "t23", "t24")),
                Arguments.of("oneword", List.of("t5", "t6", "t21", "t22", "t23", "t24", "t25")));
    }

    @ParameterizedTest(name = "routing key ''{0}''")
    @MethodSource("rabbitExpectations")
    void agreesWithRabbitMqsOwnTopicTable(String routingKey, List<String> expected) {
        TreeSet<String> matched = new TreeSet<>();
        RABBIT_BINDINGS.forEach((queue, pattern) -> {
            if (new TopicPattern(pattern).matches(routingKey)) {
                matched.add(queue);
            }
        });
        assertThat(matched).containsExactlyInAnyOrderElementsOf(expected);
    }

    @Test
    void longRunsOfHashesStayFast() {
        String pattern = "#.#.#.#.#.#.#.#.#.#.#.#.#.#.#.#.#.#.#.#.z";
        String key = "a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a";
        assertThat(new TopicPattern(pattern).matches(key)).isFalse();
    }
}
