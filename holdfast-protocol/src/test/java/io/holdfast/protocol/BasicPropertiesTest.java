package io.holdfast.protocol;

import static io.holdfast.protocol.ProtocolExceptions.assertSyntaxError;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class BasicPropertiesTest {
    private static final BasicProperties ALL_SET = new BasicProperties("text/plain", "gzip", headers(), 2, 9,
            "corr-1", "amq.rabbitmq.reply-to", "60000", "msg-ü", 1_700_000_000L, "order.created", "guest",
            "billing", "cluster-a");

    @Test
    void noPropertiesIsTwoZeroFlagOctets() {
        assertThat(BasicProperties.EMPTY.encode()).containsExactly(0, 0);
        assertThat(BasicProperties.decode(new byte[] {0, 0})).isEqualTo(BasicProperties.EMPTY);
    }

    @Test
    void eachPropertyHasItsFlagBitFromContentTypeAt15DownToClusterIdAt2() {
        assertThat(Hex.of(new BasicProperties("a", null, null, null, null, null, null, null, null, null, null, null,
                null, null).encode())).isEqualTo("8000" + "0161");
        assertThat(Hex.of(BasicProperties.EMPTY.withHeaders(new LinkedHashMap<>()).encode())).isEqualTo("2000" + "00000000");
        assertThat(Hex.of(new BasicProperties(null, null, null, 2, 7, null, null, null, null, 5L, null, null, null,
                null).encode())).isEqualTo("1840" + "02" + "07" + "0000000000000005");
        assertThat(Hex.of(new BasicProperties(null, null, null, null, null, null, null, null, null, null, null, null,
                null, "c").encode())).isEqualTo("0004" + "0163");
    }

    @Test
    void allFourteenPropertiesWriteBackByteForByte() {
        byte[] wire = ALL_SET.encode();

        BasicProperties decoded = BasicProperties.decode(wire);

        assertThat(Hex.of(wire)).startsWith("fffc");
        assertThat(decoded).usingRecursiveComparison().isEqualTo(ALL_SET);
        assertThat(decoded.encode()).isEqualTo(wire);
    }

    @Test
    void everySubsetOfPropertiesWritesBackByteForByte() {
        Object[] all = values(ALL_SET);
        for (int mask = 0; mask < 1 << 14; mask += 1 + mask % 7) { // a spread of subsets, not all 16384
            Object[] some = new Object[14];
            for (int i = 0; i < 14; i++) {
                some[i] = (mask & 1 << i) != 0 ? all[i] : null;
            }
            BasicProperties p = build(some);
            byte[] wire = p.encode();

            assertThat(BasicProperties.decode(wire).encode()).as("mask %x", mask).isEqualTo(wire);
        }
    }

    @Test
    void randomHeadersWriteBackByteForByte() {
        Random random = new Random(7);
        for (int i = 0; i < 200; i++) {
            byte[] wire = BasicProperties.EMPTY.withHeaders(SampleValues.table(random, 0)).encode();

            assertThat(BasicProperties.decode(wire).encode()).isEqualTo(wire);
        }
    }

    @Test
    void zeroContinuationWordIsSkipped() {
        byte[] wire = Hex.bytes("8001" + "0000" + "0161");

        assertThat(BasicProperties.decode(wire).contentType()).isEqualTo("a");
    }

    @Test
    void continuationWordNamingPropertiesIsASyntaxError() {
        assertSyntaxError(() -> BasicProperties.decode(Hex.bytes("0001" + "8000" + "0161")))
                .hasMessageContaining("basic does not have");
    }

    @Test
    void flagBitOneIsASyntaxError() {
        assertSyntaxError(() -> BasicProperties.decode(Hex.bytes("0002")));
    }

    @Test
    void trailingBytesAreASyntaxError() {
        assertSyntaxError(() -> BasicProperties.decode(Hex.bytes("0000 00")))
                .hasMessageContaining("1 bytes after its last property");
    }

    @Test
    void everyTruncationIsASyntaxError() {
        byte[] wire = ALL_SET.encode();
        for (int length = 0; length < wire.length; length++) {
            byte[] prefix = Arrays.copyOf(wire, length);
            assertSyntaxError(() -> BasicProperties.decode(prefix));
        }
    }

    @Test
    void octetPropertiesOutOfRangeAreRefused() {
        assertThatThrownBy(() -> new BasicProperties(null, null, null, 256, null, null, null, null, null, null, null,
                null, null, null)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void withHeadersReplacesOnlyTheHeaders() {
        Map<String, Object> headers = Map.of("x-delivery-count", 1L);

        BasicProperties p = ALL_SET.withHeaders(headers);

        assertThat(p.headers()).isSameAs(headers);
        assertThat(p.withHeaders(ALL_SET.headers())).isEqualTo(ALL_SET);
    }

    private static Map<String, Object> headers() {
        Map<String, Object> nested = new LinkedHashMap<>();
        nested.put("count", 3L);
        nested.put("time", new Timestamp(1_700_000_000L));
        List<Object> array = new ArrayList<>(List.of(nested, new BigDecimal("12.50"), new byte[] {1, 2, 3}));
        array.add(null);
        Map<String, Object> headers = new LinkedHashMap<>();
        headers.put("x-death", array);
        headers.put("x-first-death-reason", LongString.of("rejected"));
        headers.put("x-price", new BigDecimal("-0.001"));
        headers.put("x-flags", new UnsignedByte(200));
        return headers;
    }

    private static Object[] values(BasicProperties p) {
        return new Object[] {p.contentType(), p.contentEncoding(), p.headers(), p.deliveryMode(), p.priority(),
            p.correlationId(), p.replyTo(), p.expiration(), p.messageId(), p.timestamp(), p.type(), p.userId(),
            p.appId(), p.clusterId()};
    }

    @SuppressWarnings("unchecked")
    private static BasicProperties build(Object[] v) {
        return new BasicProperties((String) v[0], (String) v[1], (Map<String, Object>) v[2], (Integer) v[3],
                (Integer) v[4], (String) v[5], (String) v[6], (String) v[7], (String) v[8], (Long) v[9],
                (String) v[10], (String) v[11], (String) v[12], (String) v[13]);
    }
}
