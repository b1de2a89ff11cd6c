package io.holdfast.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.assertj.core.api.AbstractThrowableAssert;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;

/** Assertions on the reply code a decoder throws. */
final class ProtocolExceptions {
    private ProtocolExceptions() {}

    static AbstractThrowableAssert<?, ? extends Throwable> assertSyntaxError(ThrowingCallable decode) {
        return assertThatThrownBy(decode).isInstanceOfSatisfying(ProtocolException.class,
                e -> assertThat(e.replyCode()).as("reply code of: " + e.getMessage()).isEqualTo(ReplyCode.SYNTAX_ERROR));
    }
}
