package io.holdfast.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.holdfast.core.BrokerException;
import io.holdfast.core.ErrorCode;
import io.holdfast.core.Message;
import io.holdfast.core.QuorumCommand;
import io.holdfast.core.QuorumCommand.Disposition;
import io.holdfast.core.QuorumEffect;
import io.holdfast.core.QuorumQueue;
import io.holdfast.core.RemoteChannel;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class QuorumCommandCodecTest {
    static final RemoteChannel CH = new RemoteChannel("node-ä", 0x1_0000_0002L);

    static Message message(String body) {
        return new Message("ex", "key", new byte[] {1, 2, 3}, Map.of(), true, 1234,
                body.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void everyCommandComesBackAsItWent() {
        List<QuorumCommand> commands = List.of(
                new QuorumCommand.Attach(CH, "tag", 10, true, false, -2),
                new QuorumCommand.Attach(CH, "t", 0, false, true, 0),
                new QuorumCommand.Settle(CH, 42, true, Disposition.DISCARD),
                new QuorumCommand.Settle(CH, 0, false, Disposition.REQUEUE),
                new QuorumCommand.Cancel(CH, "tag"),
                new QuorumCommand.CloseChannel(CH),
                new QuorumCommand.Recover(CH),
                new QuorumCommand.NodeDown("n2"),
                new QuorumCommand.Purge(),
                new QuorumCommand.Get(CH, true),
                new QuorumCommand.Tick());
        for (QuorumCommand c : commands) {
            assertThat(QuorumCommandCodec.decode(QuorumCommandCodec.encode(c))).isEqualTo(c);
        }
    }

    @Test
    void anEnqueueKeepsEveryMessageByteForByte() {
        var e = new QuorumCommand.Enqueue(List.of(new QuorumCommand.Publish(CH, 1, message("a")),
                new QuorumCommand.Publish(new RemoteChannel("n3", 9), 2, message(""))));
        var back = (QuorumCommand.Enqueue) QuorumCommandCodec.decode(QuorumCommandCodec.encode(e));
        assertThat(back.messages()).hasSize(2);
        for (int i = 0; i < 2; i++) {
            Message m = e.messages().get(i).message();
            Message r = back.messages().get(i).message();
            assertThat(back.messages().get(i).publisher()).isEqualTo(e.messages().get(i).publisher());
            assertThat(back.messages().get(i).publishSeq()).isEqualTo(e.messages().get(i).publishSeq());
            assertThat(List.of(r.exchange(), r.routingKey(), r.persistent(), r.expirationMillis()))
                    .isEqualTo(List.of(m.exchange(), m.routingKey(), m.persistent(), m.expirationMillis()));
            assertThat(r.properties()).isEqualTo(m.properties());
            assertThat(r.body()).isEqualTo(m.body());
        }
    }

    @Test
    void aResultCarriesTheSubmittersEffectsOnly() {
        Message m = message("x");
        var outcome = new QuorumQueue.Outcome(List.of(
                new QuorumEffect.Deliver(CH, "consumer", 1, false, 1, 7, m), // a consumer's: not sent back
                new QuorumEffect.Confirm(CH, 5), new QuorumEffect.Nack(CH, 6),
                new QuorumEffect.DeadLetter(m, "maxlen"),
                new QuorumEffect.Deliver(CH, null, 2, true, 3, 8, m), // basic.get's
                new QuorumEffect.ConsumerCancelled(CH, "c")), 4);
        QuorumCommandCodec.Result r = QuorumCommandCodec.decodeResult(QuorumCommandCodec.encodeResult(outcome));
        assertThat(r.refusal()).isNull();
        assertThat(r.count()).isEqualTo(4);
        assertThat(r.effects()).hasSize(4);
        assertThat(r.effects().subList(0, 2)).containsExactly(new QuorumEffect.Confirm(CH, 5), new QuorumEffect.Nack(CH, 6));
        assertThat(r.effects().get(2)).isInstanceOfSatisfying(QuorumEffect.Deliver.class, d -> {
            assertThat(d.consumerTag()).isNull();
            assertThat(List.of(d.deliveryId(), d.redelivered(), d.deliveryCount(), d.seq())).isEqualTo(List.of(2L, true, 3, 8L));
            assertThat(d.message().body()).isEqualTo(m.body());
        });
        assertThat(r.effects().get(3)).isEqualTo(new QuorumEffect.ConsumerCancelled(CH, "c"));
    }

    @Test
    void aRefusalKeepsItsReplyCodeAndText() {
        byte[] bytes = QuorumCommandCodec.encodeRefusal(
                new BrokerException(ErrorCode.PRECONDITION_FAILED, "unknown delivery tag 3"));
        BrokerException back = QuorumCommandCodec.decodeResult(bytes).refusal();
        assertThat(back.code()).isEqualTo(ErrorCode.PRECONDITION_FAILED);
        assertThat(back.getMessage()).isEqualTo("unknown delivery tag 3");
    }

    @Test
    void damagedOrForeignBytesAreRefusedNotMisread() {
        byte[] good = QuorumCommandCodec.encode(new QuorumCommand.Cancel(CH, "tag"));
        byte[] otherVersion = good.clone();
        otherVersion[0] = 2;
        assertThatThrownBy(() -> QuorumCommandCodec.decode(otherVersion)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("version 2");
        assertThatThrownBy(() -> QuorumCommandCodec.decode(Arrays.copyOf(good, good.length - 1)))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> QuorumCommandCodec.decode(Arrays.copyOf(good, good.length + 1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("left");
        byte[] hugeBody = QuorumCommandCodec.encode(new QuorumCommand.Enqueue(List.of(
                new QuorumCommand.Publish(CH, 1, message("abc")))));
        hugeBody[hugeBody.length - 7] = 0x7F; // the body's length, now about 2 GiB
        assertThatThrownBy(() -> QuorumCommandCodec.decode(hugeBody)).isInstanceOf(IllegalArgumentException.class);
    }
}
