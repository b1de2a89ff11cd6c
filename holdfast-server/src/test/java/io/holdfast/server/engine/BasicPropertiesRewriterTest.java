package io.holdfast.server.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.protocol.BasicProperties;
import io.holdfast.protocol.LongString;
import io.holdfast.protocol.Timestamp;
import io.holdfast.protocol.UnsignedInt;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The wire side of dead-lettering: new headers in, {@code expiration} out, everything else kept; and the names of
 * decoded field types.
 */
class BasicPropertiesRewriterTest {
    private final BasicPropertiesRewriter rewriter = new BasicPropertiesRewriter();

    @Test
    void swapsHeadersDropsExpirationAndKeepsTheRest() {
        byte[] original = new BasicProperties("text/plain", null, Map.of("kind", LongString.of("x")), 2, 5, "corr",
                null, "60000", "id-1", 1_700_000_000L, null, null, "app", null).encode();
        assertThat(rewriter.expiration(original)).isEqualTo("60000");

        Map<String, Object> death = new LinkedHashMap<>();
        death.put("count", 1L);
        death.put("reason", "expired");
        death.put("time", Instant.ofEpochMilli(1_700_000_123_456L));
        death.put("routing-keys", List.of("k"));
        Map<String, Object> headers = new LinkedHashMap<>();
        headers.put("kind", LongString.of("x"));
        headers.put("x-death", List.of(death));
        BasicProperties p = BasicProperties.decode(rewriter.deadLettered(original, headers));

        assertThat(p.expiration()).isNull();
        assertThat(rewriter.expiration(p.encode())).isNull();
        assertThat(p.contentType()).isEqualTo("text/plain");
        assertThat(p.deliveryMode()).isEqualTo(2);
        assertThat(p.priority()).isEqualTo(5);
        assertThat(p.correlationId()).isEqualTo("corr");
        assertThat(p.messageId()).isEqualTo("id-1");
        assertThat(p.timestamp()).isEqualTo(1_700_000_000L);
        assertThat(p.appId()).isEqualTo("app");
        assertThat(p.headers()).containsEntry("kind", LongString.of("x"));
        @SuppressWarnings("unchecked")
        Map<String, Object> decoded = (Map<String, Object>) ((List<Object>) p.headers().get("x-death")).get(0);
        assertThat(decoded).containsEntry("count", 1L).containsEntry("reason", LongString.of("expired"))
                .containsEntry("time", new Timestamp(1_700_000_123L))
                .containsEntry("routing-keys", List.of(LongString.of("k")));
    }

    @Test
    void withHeadersSwapsOnlyTheHeaders() {
        byte[] original = new BasicProperties("text/plain", null, Map.of("x-delay", 5000), 2, null, "corr", null,
                "60000", null, null, null, null, null, null).encode();
        BasicProperties p = BasicProperties.decode(rewriter.withHeaders(original, Map.of("x-delay", -5000)));

        assertThat(p.headers()).containsExactly(Map.entry("x-delay", -5000));
        assertThat(p.expiration()).as("a delayed message keeps its TTL").isEqualTo("60000");
        assertThat(p.contentType()).isEqualTo("text/plain");
        assertThat(p.deliveryMode()).isEqualTo(2);
        assertThat(p.correlationId()).isEqualTo("corr");
    }

    @Test
    void propertiesWithoutExpirationOrHeadersGetHeaders() {
        byte[] original = BasicProperties.EMPTY.encode();
        assertThat(rewriter.expiration(original)).isNull();
        BasicProperties p = BasicProperties.decode(rewriter.deadLettered(original, Map.of("x-last-death-queue", "q")));
        assertThat(p.headers()).containsEntry("x-last-death-queue", LongString.of("q"));
    }

    @Test
    void namesDecodedFieldTypesAsRabbitMQDoesInItsReplyTexts() {
        assertThat(rewriter.fieldType(LongString.of("k"))).isEqualTo("longstr");
        assertThat(rewriter.fieldType("core's own")).isEqualTo("longstr");
        assertThat(rewriter.fieldType(7)).isEqualTo("signedint");
        assertThat(rewriter.fieldType(7L)).isEqualTo("long");
        assertThat(rewriter.fieldType(new UnsignedInt(7))).isEqualTo("unsignedint");
        assertThat(rewriter.fieldType(new Timestamp(1))).isEqualTo("timestamp");
        assertThat(rewriter.fieldType(new byte[] {1})).isEqualTo("binary");
        assertThat(rewriter.fieldType(List.of())).isEqualTo("array");
        assertThat(rewriter.fieldType(Map.of())).isEqualTo("table");
        assertThat(rewriter.fieldType(true)).isEqualTo("bool");
        assertThat(rewriter.fieldType(null)).isEqualTo("void");
    }
}
