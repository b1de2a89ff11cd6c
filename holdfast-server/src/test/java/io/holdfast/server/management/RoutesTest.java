package io.holdfast.server.management;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class RoutesTest {
    private final Routes.Handler a = r -> null;
    private final Routes.Handler b = r -> null;
    private final Routes routes = new Routes()
            .add("GET", "/api/queues", Routes.Access.MANAGEMENT, a)
            .add("GET", "/api/queues/{vhost}/{name}", Routes.Access.MANAGEMENT, b);

    @Test
    void variablesArePercentDecodedSoTheDefaultVhostIsPercent2F() {
        Routes.Match m = routes.match("GET", "/api/queues/%2F/a%2Fb%20c+d");
        assertThat(m.handler()).isSameAs(b);
        assertThat(m.variables()).containsExactly("/", "a/b c+d");
    }

    @Test
    void aTrailingSlashIsIgnoredAndAnEmptySegmentMatchesNoVariable() {
        assertThat(routes.match("GET", "/api/queues/").handler()).isSameAs(a);
        assertThat(routes.match("GET", "/api/queues/%2F/")).isNull();
        assertThat(routes.match("GET", "/api/queues//q")).isNull();
    }

    @Test
    void aKnownPathWithAnotherMethodTellsWhichMethodsItTakes() {
        assertThat(routes.match("DELETE", "/api/queues/%2F/q")).isNull();
        assertThat(routes.methodsFor("/api/queues/%2F/q")).containsExactly("GET");
        assertThat(routes.methodsFor("/api/nothing")).isEmpty();
    }
}
