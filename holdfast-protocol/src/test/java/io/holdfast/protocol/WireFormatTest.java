package io.holdfast.protocol;

import static io.holdfast.protocol.ProtocolExceptions.assertSyntaxError;
import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class WireFormatTest {
    @ParameterizedTest
    @ValueSource(strings = {"", "02 61", "01 ff", "02 c080", "03 eda080", "01 80"})
    void shortStringThatIsTruncatedOrNotUtf8IsASyntaxError(String wire) {
        assertSyntaxError(() -> WireFormat.readShortString(Hex.buf(wire)));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "a", "héllo wörld", "中文", "😀", "\uFFFE"})
    void wellFormedShortStringReadsBack(String s) {
        ByteBuf buf = Unpooled.buffer();
        WireFormat.writeShortString(buf, s);

        assertThat(WireFormat.readShortString(buf)).isEqualTo(s);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "000000", "00000002 61"})
    void truncatedLongStringIsASyntaxError(String wire) {
        assertSyntaxError(() -> WireFormat.readLongString(Hex.buf(wire)));
    }
}
