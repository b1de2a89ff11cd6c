package io.holdfast.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** {@link BasicProperties#priorityOf}: the priority octet read without decoding the properties. */
class BasicPropertiesPriorityTest {
    private static BasicProperties props(String contentType, String contentEncoding, Map<String, Object> headers,
                                         Integer deliveryMode, Integer priority, String correlationId) {
        return new BasicProperties(contentType, contentEncoding, headers, deliveryMode, priority, correlationId,
                "reply", "60000", "id", 1_700_000_000L, "type", "user", "app", null);
    }

    private static int priorityOf(byte[] raw) {
        return BasicProperties.priorityOf(raw, 0, raw.length);
    }

    @Test
    void absentPriorityIsZero() {
        assertThat(priorityOf(BasicProperties.EMPTY.encode())).isZero();
        assertThat(priorityOf(props("text/plain", "gzip", Map.of("k", "v"), 2, null, "c").encode())).isZero();
        assertThat(priorityOf(new byte[0])).isZero();
    }

    @Test
    void priorityAlone() {
        byte[] raw = new BasicProperties(null, null, null, null, 7, null, null, null, null, null, null, null, null,
                null).encode();
        assertThat(priorityOf(raw)).isEqualTo(7);
    }

    @Test
    void priorityAfterEveryPropertyBeforeIt() {
        Map<String, Object> headers = new LinkedHashMap<>();
        headers.put("x-long", "ü".repeat(300));
        headers.put("x-number", 42);
        headers.put("x-nested", Map.of("a", 1L));
        byte[] raw = props("application/json", "gzip", headers, 2, 255, "corr").encode();
        assertThat(priorityOf(raw)).isEqualTo(255);
        assertThat(priorityOf(props(null, "gzip", null, 1, 3, null).encode())).isEqualTo(3);
        assertThat(priorityOf(props("t", null, Map.of(), null, 0, null).encode())).isZero();
    }

    @Test
    void readsWithinTheGivenRangeOfALargerArray() {
        byte[] raw = props("text/plain", null, Map.of("h", "v"), 2, 9, null).encode();
        byte[] framed = new byte[raw.length + 10];
        System.arraycopy(raw, 0, framed, 5, raw.length);
        assertThat(BasicProperties.priorityOf(framed, 5, raw.length)).isEqualTo(9);
    }

    @Test
    void agreesWithDecodeOnRandomProperties() {
        Random random = new Random(42);
        for (int i = 0; i < 2000; i++) {
            Map<String, Object> headers = random.nextBoolean() ? null : Map.of("k", "x".repeat(random.nextInt(50)));
            BasicProperties p = props(random.nextBoolean() ? null : "ct" + i, random.nextBoolean() ? null : "enc",
                    headers, random.nextBoolean() ? null : 1 + random.nextInt(2),
                    random.nextBoolean() ? null : random.nextInt(256), random.nextBoolean() ? null : "c");
            byte[] raw = p.encode();
            Integer expected = BasicProperties.decode(raw).priority();
            assertThat(priorityOf(raw)).isEqualTo(expected == null ? 0 : expected);
        }
    }

    @Test
    void truncatedInputNeverThrowsAndCountsAsNoPriorityUntilTheOctetIsThere() {
        byte[] raw = props("text/plain", null, Map.of("h", "v"), 2, 9, null).encode();
        boolean seen = false;
        for (int cut = 0; cut <= raw.length; cut++) {
            int p = BasicProperties.priorityOf(raw, 0, cut);
            assertThat(p).as("cut at %d", cut).isIn(0, 9);
            assertThat(seen && p == 0).as("once read, the octet stays read (cut at %d)", cut).isFalse();
            seen |= p == 9;
        }
        assertThat(seen).isTrue();
    }
}
