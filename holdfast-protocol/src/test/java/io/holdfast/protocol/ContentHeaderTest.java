package io.holdfast.protocol;

import static io.holdfast.protocol.ProtocolExceptions.assertSyntaxError;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ContentHeaderTest {
    @Test
    void keepsThePropertiesExactlyAsReceived() {
        String properties = "8001" + "0000" + "0161"; // with a continuation word, which encode() would drop

        ContentHeader header = ContentHeader.decode(Hex.buf("003c" + "0000" + "0000000100000000" + properties));

        assertThat(header.classId()).isEqualTo(60);
        assertThat(header.bodySize()).isEqualTo(1L << 32);
        assertThat(Hex.of(header.rawProperties())).isEqualTo(properties);
    }

    @Test
    void shortPayloadIsASyntaxError() {
        assertSyntaxError(() -> ContentHeader.decode(Hex.buf("003c 0000 00000000000000")));
        assertSyntaxError(() -> ContentHeader.decode(Hex.buf("003c 0000 0000000000000000")));
    }

    @Test
    void bodySizeOf2To63OrMoreIsASyntaxError() {
        assertSyntaxError(() -> ContentHeader.decode(Hex.buf("003c 0000 8000000000000000 0000")))
                .hasMessageContaining("9223372036854775808");
    }

    @Test
    void malformedPropertiesAreRefusedOnArrival() {
        assertSyntaxError(() -> ContentHeader.decode(Hex.buf("003c 0000 0000000000000001 8000 05 61")));
    }
}
