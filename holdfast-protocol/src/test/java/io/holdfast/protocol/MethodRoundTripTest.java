package io.holdfast.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class MethodRoundTripTest {
    /** Several samples per method, so that each bit of a packed flags octet is seen both set and clear. */
    private static final int SAMPLES = 8;

    static List<Class<? extends Method>> methodTypes() {
        return SampleValues.methodTypes();
    }

    @ParameterizedTest
    @MethodSource("methodTypes")
    void everyMethodDecodesToWhatWasEncoded(Class<? extends Method> type) {
        Random random = new Random(type.getName().hashCode());
        for (int i = 0; i < SAMPLES; i++) {
            Method sent = SampleValues.method(type, random);
            byte[] wire = encode(sent);

            Method received = Method.decode(Unpooled.wrappedBuffer(wire));

            assertThat(received).isExactlyInstanceOf(type);
            assertThat(received).usingRecursiveComparison().withStrictTypeChecking().isEqualTo(sent);
            assertThat(encode(received)).as("re-encoded " + sent.name()).isEqualTo(wire);
        }
    }

    @ParameterizedTest
    @MethodSource("methodTypes")
    void everyTruncatedMethodIsASyntaxError(Class<? extends Method> type) {
        byte[] wire = encode(SampleValues.method(type, new Random(1)));
        for (int length = 4; length < wire.length; length++) {
            ByteBuf prefix = Unpooled.wrappedBuffer(wire, 0, length);
            ProtocolExceptions.assertSyntaxError(() -> Method.decode(prefix));
        }
    }

    private static byte[] encode(Method m) {
        ByteBuf out = Unpooled.buffer();
        m.encode(out);
        return ByteBufUtil.getBytes(out);
    }
}
