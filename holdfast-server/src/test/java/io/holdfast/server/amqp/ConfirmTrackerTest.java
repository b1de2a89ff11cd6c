package io.holdfast.server.amqp;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Confirms leave in publish order, runs of acks coalesced, and a confirm of one message is never multiple. */
class ConfirmTrackerTest {
    record Confirm(long seq, boolean ack, boolean multiple) {}

    private final ConfirmTracker tracker = new ConfirmTracker(new io.holdfast.server.engine.MessageCounters());
    private final List<Confirm> sent = new ArrayList<>();

    private void complete(ConfirmTracker.Pending p, boolean ack) {
        tracker.complete(p, ack, (seq, a, multiple) -> sent.add(new Confirm(seq, a, multiple)));
    }

    @Test
    void aSingleAckIsNotMultiple() {
        complete(tracker.register(), true);

        assertThat(sent).containsExactly(new Confirm(1, true, false));
    }

    @Test
    void aRunOfAcksSettledOutOfOrderIsOneMultipleAck() {
        var first = tracker.register();
        var second = tracker.register();
        var third = tracker.register();
        complete(third, true);
        complete(second, true);
        assertThat(sent).as("the first publish is not settled yet").isEmpty();

        complete(first, true);

        assertThat(sent).containsExactly(new Confirm(3, true, true));
    }

    @Test
    void acksCutByANackEachCoverOnlyTheirOwnMessages() {
        var first = tracker.register();
        var second = tracker.register();
        var third = tracker.register();
        var fourth = tracker.register();
        complete(fourth, true);
        complete(third, true);
        complete(second, false);
        complete(first, true);

        assertThat(sent).containsExactly(new Confirm(1, true, false), new Confirm(2, false, false),
                new Confirm(4, true, true));
    }

    @Test
    void aRefusedPublishIsNackedEvenIfItsWriteSucceeded() {
        var p = tracker.register();
        p.refuse();
        complete(p, true);

        assertThat(sent).containsExactly(new Confirm(1, false, false));
    }
}
