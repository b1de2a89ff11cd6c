package io.holdfast.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Headers-exchange matching with RabbitMQ's {@code x-match} rules. */
class HeadersMatchTest {

    private static final Map<String, Object> FORMAT_PDF_TYPE_REPORT = Map.of("format", "pdf", "type", "report");

    @Test
    void allRequiresEveryBindingHeaderPresentAndEqual() {
        Map<String, Object> binding = Map.of("x-match", "all", "format", "pdf", "type", "report");
        assertThat(HeadersMatch.matches(binding, FORMAT_PDF_TYPE_REPORT)).isTrue();
        assertThat(HeadersMatch.matches(binding, Map.of("format", "pdf", "type", "report", "extra", 1))).isTrue();
        assertThat(HeadersMatch.matches(binding, Map.of("format", "pdf"))).isFalse();
        assertThat(HeadersMatch.matches(binding, Map.of("format", "pdf", "type", "log"))).isFalse();
        assertThat(HeadersMatch.matches(binding, Map.of())).isFalse();
    }

    @Test
    void allIsTheDefaultWithoutXMatch() {
        Map<String, Object> binding = Map.of("format", "pdf", "type", "report");
        assertThat(HeadersMatch.matches(binding, FORMAT_PDF_TYPE_REPORT)).isTrue();
        assertThat(HeadersMatch.matches(binding, Map.of("format", "pdf"))).isFalse();
    }

    @Test
    void anyRequiresOneBindingHeaderPresentAndEqual() {
        Map<String, Object> binding = Map.of("x-match", "any", "format", "pdf", "type", "report");
        assertThat(HeadersMatch.matches(binding, Map.of("format", "pdf"))).isTrue();
        assertThat(HeadersMatch.matches(binding, Map.of("type", "report", "format", "zip"))).isTrue();
        assertThat(HeadersMatch.matches(binding, Map.of("format", "zip", "type", "log"))).isFalse();
        assertThat(HeadersMatch.matches(binding, Map.of())).isFalse();
    }

    @Test
    void withNoCriteriaAllMatchesEverythingAndAnyNothing() {
        assertThat(HeadersMatch.matches(Map.of(), Map.of())).isTrue();
        assertThat(HeadersMatch.matches(Map.of("x-match", "all"), Map.of("a", 1))).isTrue();
        assertThat(HeadersMatch.matches(Map.of("x-match", "any"), Map.of("a", 1))).isFalse();
    }

    @Test
    void bindingArgumentsStartingWithXAreNotCriteria() {
        Map<String, Object> binding = Map.of("x-match", "all", "x-custom", "v", "format", "pdf");
        assertThat(HeadersMatch.matches(binding, Map.of("format", "pdf"))).isTrue();
        Map<String, Object> any = Map.of("x-match", "any", "x-custom", "v");
        assertThat(HeadersMatch.matches(any, Map.of("x-custom", "v"))).isFalse();
    }

    @Test
    void withXVariantsCompareXHeadersToo() {
        Map<String, Object> all = Map.of("x-match", "all-with-x", "x-custom", "v", "format", "pdf");
        assertThat(HeadersMatch.matches(all, Map.of("format", "pdf"))).isFalse();
        assertThat(HeadersMatch.matches(all, Map.of("format", "pdf", "x-custom", "v"))).isTrue();
        Map<String, Object> any = Map.of("x-match", "any-with-x", "x-custom", "v");
        assertThat(HeadersMatch.matches(any, Map.of("x-custom", "v"))).isTrue();
    }

    @Test
    void voidBindingValueMatchesOnPresenceAlone() {
        Map<String, Object> binding = new HashMap<>();
        binding.put("x-match", "all");
        binding.put("trace", null);
        assertThat(HeadersMatch.matches(binding, Map.of("trace", "anything"))).isTrue();
        assertThat(HeadersMatch.matches(binding, Map.of("other", 1))).isFalse();
    }

    @Test
    void integersOfDifferentWidthsAreEqualByValue() {
        Map<String, Object> binding = Map.of("x-match", "all", "n", 7);
        assertThat(HeadersMatch.matches(binding, Map.of("n", 7L))).isTrue();
        assertThat(HeadersMatch.matches(binding, Map.of("n", (short) 7))).isTrue();
        assertThat(HeadersMatch.matches(binding, Map.of("n", (byte) 7))).isTrue();
        assertThat(HeadersMatch.matches(binding, Map.of("n", 8L))).isFalse();
        assertThat(HeadersMatch.matches(binding, Map.of("n", "7"))).isFalse();
    }

    @Test
    void longStringBytesEqualTheSameText() {
        Map<String, Object> binding = Map.of("format", "pdf");
        assertThat(HeadersMatch.matches(binding, Map.of("format", "pdf".getBytes(StandardCharsets.UTF_8)))).isTrue();
        assertThat(HeadersMatch.matches(binding, Map.of("format", "zip".getBytes(StandardCharsets.UTF_8)))).isFalse();
    }

    @Test
    void xMatchGivenAsBytesIsUnderstood() {
        Map<String, Object> binding = Map.of("x-match", "any".getBytes(StandardCharsets.UTF_8), "a", 1, "b", 2);
        assertThat(HeadersMatch.matches(binding, Map.of("b", 2))).isTrue();
    }
}
