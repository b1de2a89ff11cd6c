package io.holdfast.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.assertj.core.groups.Tuple.tuple;

import io.holdfast.core.BrokerFixture.Delivery;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Acks and rejects in tx mode, as RabbitMQ's channel treats them: the tags are checked when the ack arrives (406
 * {@code unknown delivery tag N}), what is acked leaves the unacked set at once (basic.recover no longer
 * redelivers it) and is settled at commit, given back at rollback, and returned to its queue if the channel closes.
 */
class TxSettlementsTest {
    private BrokerFixture f;
    private Broker broker;
    private TxSettlements tx;
    private ChannelState ch;

    @BeforeEach
    void setUp() {
        f = new BrokerFixture();
        broker = f.broker;
        tx = broker.transactions();
        ch = f.channel(1);
        f.durableQueue(ch, "q");
        f.consume(ch, "q", false);
        for (String body : new String[] {"1", "2"}) {
            f.publishPersistent(ch, "", "q", body);
        }
        assertThat(f.output(ch).bodies()).containsExactly("1", "2");
    }

    private static String refusal(Runnable command) {
        BrokerException e = catchThrowableOfType(BrokerException.class, command::run);
        assertThat(e).as("refused").isNotNull();
        assertThat(e.code()).isEqualTo(ErrorCode.PRECONDITION_FAILED);
        return e.getMessage();
    }

    @Test
    void anUnknownTagIsRefusedWhenTheAckArrives() {
        assertThat(refusal(() -> tx.hold(ch, 99, false))).isEqualTo("unknown delivery tag 99");
        assertThat(refusal(() -> tx.hold(ch, 99, true))).isEqualTo("unknown delivery tag 99");
        assertThat(ch.unackedCount()).isEqualTo(2);
    }

    @Test
    void aTagAckedEarlierInTheSameTransactionIsUnknown() {
        tx.hold(ch, 1, false);

        assertThat(refusal(() -> tx.hold(ch, 1, false))).isEqualTo("unknown delivery tag 1");
        tx.hold(ch, 2, true); // "up to and including 2" now finds only 2
        assertThat(ch.unackedCount()).isZero();
    }

    @Test
    void recoverDoesNotRedeliverWhatTheOpenTransactionAcked() {
        TxSettlements.Held held = tx.hold(ch, 1, false);

        broker.recover(ch);

        assertThat(f.output(ch).takeNew()).extracting(Delivery::body, Delivery::redelivered)
                .containsExactly(tuple("1", false), tuple("2", false),
                        tuple("2", true));
        tx.ack(ch, held);
        assertThat(f.store.live("q")).containsExactly("2");
        assertThat(f.store.problems).isEmpty();
    }

    @Test
    void theCreditComesBackAtCommit() {
        ChannelState limited = f.channel(2);
        f.queue(limited, "p");
        broker.qos(limited, 1, false);
        f.consume(limited, "p", false);
        f.publishTo(limited, "p", "a", "b");
        TxSettlements.Held held = tx.hold(limited, 1, false);
        assertThat(f.output(limited).bodies()).as("a held ack keeps its credit").containsExactly("a");

        tx.ack(limited, held);

        assertThat(f.output(limited).bodies()).containsExactly("a", "b");
    }

    @Test
    void rollbackMakesTheHeldDeliveriesUnackedAgainInTagOrder() {
        tx.hold(ch, 2, false);
        tx.hold(ch, 1, false);

        tx.rollback(ch);

        assertThat(ch.unackedCount()).isEqualTo(2);
        broker.ack(ch, 2, true); // "up to and including 2": both, so they are back in tag order
        assertThat(ch.unackedCount()).isZero();
        assertThat(f.store.live("q")).isEmpty();
    }

    @Test
    void aRejectInATransactionTakesEffectAtCommit() {
        TxSettlements.Held held = tx.hold(ch, 1, false);
        f.output(ch).takeNew();

        tx.reject(ch, held, true);

        assertThat(f.output(ch).takeNew()).extracting(Delivery::body, Delivery::redelivered)
                .containsExactly(tuple("1", true));
    }

    @Test
    void closingTheChannelReturnsWhatTheUncommittedTransactionAcked() {
        tx.hold(ch, 1, false);
        ChannelState other = f.channel(2);

        broker.closeChannel(ch);

        assertThat(f.ready("q")).containsExactly("1", "2");
        f.consume(other, "q", true);
        assertThat(f.output(other).deliveries).extracting(Delivery::redelivered).containsExactly(true, true);
    }
}
