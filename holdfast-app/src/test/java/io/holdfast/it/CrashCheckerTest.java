package io.holdfast.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The crash-test checker catches each kind of violation, and only those (no broker involved). */
class CrashCheckerTest {
    private static final String Q = "q";
    private CrashHistory history;

    @BeforeEach
    void producer() {
        history = new CrashHistory(42);
        history.producer(0, List.of(Q));
    }

    private CrashMessage published(long seq, boolean confirmed) {
        CrashMessage m = new CrashMessage(0, seq);
        history.attempted(m);
        if (confirmed) {
            history.confirmed(m);
        }
        return m;
    }

    private CrashHistory.Delivery deliver(int life, int stream, CrashMessage m, boolean redelivered) {
        return history.delivered(life, stream, Q, m.body(history.runSeed()), redelivered, false);
    }

    private void deliverAndAck(int life, int stream, CrashMessage m, boolean redelivered) {
        history.settled(deliver(life, stream, m, redelivered), true);
    }

    @Test
    void crashHistoryThatKeepsTheContractPasses() {
        CrashMessage a = published(0, true);
        CrashMessage b = published(1, true);
        CrashMessage c = published(2, false); // fate unknown, never seen: fine
        deliver(1, 1, a, false); // life 1 dies before the ack
        deliverAndAck(1, 1, b, false);
        deliverAndAck(2, 2, a, true);
        assertThat(c).isNotNull();
        assertThat(CrashChecker.check(history)).isEmpty();
    }

    @Test
    void confirmedMessageNeverAckedNorDrainedIsLost() {
        CrashMessage a = published(0, true);
        deliver(1, 1, a, false);
        assertThat(CrashChecker.check(history)).containsOnlyKeys("1 confirmed message lost");
    }

    @Test
    void finalDrainCountsAsSurvival() {
        CrashMessage a = published(0, true);
        history.delivered(3, 1, Q, a.body(history.runSeed()), true, true);
        assertThat(CrashChecker.check(history)).isEmpty();
    }

    @Test
    void damagedBodyIsReported() {
        CrashMessage a = published(0, true);
        byte[] body = a.body(history.runSeed());
        body[body.length / 2] ^= 1;
        history.delivered(1, 1, Q, body, false, true);
        assertThat(CrashChecker.check(history)).containsKeys("2 corrupt body served");
    }

    @Test
    void laterMessageFirstIsAnOrderViolationButARequeueIsNot() {
        CrashMessage a = published(0, true);
        CrashMessage b = published(1, true);
        CrashMessage c = published(2, true);
        CrashHistory.Delivery first = deliver(1, 1, a, false);
        history.settled(first, false); // nack, requeue
        deliverAndAck(1, 1, b, false);
        deliverAndAck(1, 1, a, true); // the requeued one may come after a later one
        deliverAndAck(1, 1, c, false);
        assertThat(CrashChecker.check(history)).isEmpty();

        CrashMessage d = published(3, true);
        CrashMessage e = published(4, true);
        deliverAndAck(2, 2, e, false);
        deliverAndAck(2, 2, d, false);
        assertThat(CrashChecker.check(history)).containsOnlyKeys("3 order");
    }

    @Test
    void survivorsOfACrashMustComeBackInOrder() {
        CrashMessage a = published(0, true);
        CrashMessage b = published(1, true);
        deliver(1, 1, a, false);
        deliver(1, 1, b, false);
        deliverAndAck(2, 2, b, true);
        deliverAndAck(2, 2, a, true);
        assertThat(CrashChecker.check(history)).containsOnlyKeys("3 order");
    }

    @Test
    void secondDeliveryWithoutRedeliveredFlagIsReported() {
        CrashMessage a = published(0, true);
        deliver(1, 1, a, false);
        deliverAndAck(2, 2, a, false);
        assertThat(CrashChecker.check(history)).containsOnlyKeys("4 redelivered flag missing");
    }

    @Test
    void messageNobodyPublishedIsReported() {
        deliverAndAck(1, 1, new CrashMessage(0, 7), false);
        assertThat(CrashChecker.check(history)).containsOnlyKeys("5 never published");
    }

    @Test
    void secondDeliveryInOneLifeWithoutRequeueIsReported() {
        CrashMessage a = published(0, true);
        deliver(1, 1, a, false);
        deliverAndAck(1, 2, a, true);
        assertThat(CrashChecker.check(history)).containsOnlyKeys("6 duplicate delivery without requeue");
    }
}
