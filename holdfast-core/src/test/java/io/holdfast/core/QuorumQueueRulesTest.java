package io.holdfast.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** What a quorum queue refuses, in RabbitMQ 3.10's words. */
class QuorumQueueRulesTest {
    private static String refusal(boolean durable, boolean exclusive, boolean autoDelete, Map<String, Object> args) {
        try {
            QuorumQueueRules.checkDeclare("/", "q", durable, exclusive, autoDelete, args);
        } catch (BrokerException e) {
            assertThat(e.code()).isEqualTo(ErrorCode.PRECONDITION_FAILED);
            return e.getMessage();
        }
        return null;
    }

    @Test
    void refusesWhatRabbitMqsQuorumQueuesRefuse() {
        assertThat(refusal(true, false, false, Map.of("x-max-priority", 5L)))
                .isEqualTo("invalid arg 'x-max-priority' for queue 'q' in vhost '/'");
        assertThat(refusal(true, false, false, Map.of("x-queue-mode", "lazy")))
                .isEqualTo("invalid arg 'x-queue-mode' for queue 'q' in vhost '/'");
        assertThat(refusal(true, false, false, Map.of("x-overflow", "reject-publish-dlx")))
                .isEqualTo("invalid arg 'x-overflow' with value 'reject-publish-dlx' for queue 'q' in vhost '/'");
        assertThat(refusal(true, false, true, Map.of())).isEqualTo("invalid property 'auto-delete' for queue 'q' in vhost '/'");
        assertThat(refusal(true, true, false, Map.of()))
                .isEqualTo("invalid property 'exclusive-owner' for queue 'q' in vhost '/'");
        assertThat(refusal(false, false, false, Map.of()))
                .isEqualTo("invalid property 'non-durable' for queue 'q' in vhost '/'");
        assertThat(refusal(true, false, false, Map.of("x-dead-letter-strategy", "at-least-once"))).contains("at most once");
        assertThat(refusal(true, false, false, Map.of(QuorumQueueRules.GROUP_SIZE_ARGUMENT, 0L)))
                .contains("expected a positive integer");
        assertThat(refusal(true, false, false, Map.of("x-message-ttl", -1L))).contains("x-message-ttl"); // the classic checks
    }

    @Test
    void takesWhatAClassicQueueTakesAndWhatQuorumQueuesAdd() {
        assertThatCode(() -> QuorumQueueRules.checkDeclare("/", "q", true, false, false, Map.of("x-queue-type", "quorum",
                "x-delivery-limit", 3L, "x-message-ttl", 1000L, "x-overflow", "reject-publish",
                "x-single-active-consumer", true, QuorumQueueRules.GROUP_SIZE_ARGUMENT, 5L))).doesNotThrowAnyException();
    }

    @Test
    void aGlobalPrefetchIsNotImplemented() {
        assertThatThrownBy(() -> QuorumQueueRules.checkConsume("/", "q", true)).isInstanceOfSatisfying(
                BrokerException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.NOT_IMPLEMENTED);
                    assertThat(e.getMessage()).isEqualTo("queue 'q' in vhost '/' does not support global qos");
                });
    }

    @Test
    void theGroupIsItsInitialSizeAtMostTheCluster() {
        assertThat(QuorumQueueRules.groupSize(Map.of(), 5)).isEqualTo(3);
        assertThat(QuorumQueueRules.groupSize(Map.of(), 2)).isEqualTo(2);
        assertThat(QuorumQueueRules.groupSize(Map.of(QuorumQueueRules.GROUP_SIZE_ARGUMENT, 5), 7)).isEqualTo(5);
        assertThat(QuorumQueueRules.isQuorum(Map.of("x-queue-type", "quorum"))).isTrue();
        assertThat(QuorumQueueRules.isQuorum(Map.of())).isFalse();
    }
}
