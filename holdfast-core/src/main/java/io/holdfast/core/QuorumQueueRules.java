package io.holdfast.core;

import java.util.List;
import java.util.Map;

/**
 * What a quorum queue ({@code x-queue-type = quorum}) refuses, with RabbitMQ 3.10's replies, for the server to check
 * before it declares one or consumes from one. Everything else a classic queue takes, a quorum queue takes too, with
 * the same meaning (see {@link QuorumQueue}). Stateless; any thread.
 *
 * <p>Refused at declare, 406 PRECONDITION_FAILED, checked in this order as RabbitMQ does:
 * <ul>
 *   <li>{@code x-max-priority}, {@code x-queue-mode}: "invalid arg 'x-max-priority' for queue 'q' in vhost '/'"</li>
 *   <li>{@code x-overflow = reject-publish-dlx}: "invalid arg 'x-overflow' with value 'reject-publish-dlx' for queue
 *       'q' in vhost '/'"</li>
 *   <li>{@code x-dead-letter-strategy = at-least-once} (ours: dead-lettering is at most once, RabbitMQ's
 *       default)</li>
 *   <li>{@code x-quorum-initial-group-size} that is not a positive integer</li>
 *   <li>auto-delete: "invalid property 'auto-delete' for queue 'q' in vhost '/'"; exclusive: "invalid property
 *       'exclusive-owner' for ..."; not durable: "invalid property 'non-durable' for ..."</li>
 *   <li>then every check a classic queue makes of its arguments</li>
 * </ul>
 * Refused at consume: a channel with a global prefetch (basic.qos global=true), 540 NOT_IMPLEMENTED
 * "queue 'q' in vhost '/' does not support global qos".
 */
public final class QuorumQueueRules {
    /** The value of {@code x-queue-type} that asks for a replicated queue. */
    public static final String TYPE = "quorum";
    /** {@code x-quorum-initial-group-size}: how many nodes hold a replica (default 3, at most the cluster). */
    public static final String GROUP_SIZE_ARGUMENT = "x-quorum-initial-group-size";
    public static final int DEFAULT_GROUP_SIZE = 3;

    private static final List<String> INVALID_ARGUMENTS = List.of("x-max-priority", "x-queue-mode");

    private QuorumQueueRules() {}

    /** True if {@code arguments} ask for a quorum queue. */
    public static boolean isQuorum(Map<String, Object> arguments) {
        Object type = arguments == null ? null : arguments.get("x-queue-type");
        return type != null && QueueArguments.show(type).equals(TYPE);
    }

    /** Refuses, with 406, a quorum queue declaration RabbitMQ would refuse (see the class comment). */
    public static void checkDeclare(String vhost, String name, boolean durable, boolean exclusive, boolean autoDelete,
                                    Map<String, Object> arguments) {
        Map<String, Object> args = arguments == null ? Map.of() : arguments;
        String queue = "queue '" + name + "' in vhost '" + vhost + "'";
        for (String key : INVALID_ARGUMENTS) {
            if (args.get(key) != null) {
                throw BrokerException.precondition("invalid arg '" + key + "' for " + queue);
            }
        }
        Object overflow = args.get("x-overflow");
        if (overflow != null && QueueArguments.show(overflow).equals("reject-publish-dlx")) {
            throw BrokerException.precondition("invalid arg 'x-overflow' with value 'reject-publish-dlx' for " + queue);
        }
        Object strategy = args.get("x-dead-letter-strategy");
        if (strategy != null && !QueueArguments.show(strategy).equals("at-most-once")) {
            throw BrokerException.precondition("invalid arg 'x-dead-letter-strategy' with value '"
                    + QueueArguments.show(strategy) + "' for " + queue + ": Holdfast's quorum queues dead-letter at"
                    + " most once (at-most-once)");
        }
        Object size = args.get(GROUP_SIZE_ARGUMENT);
        if (size != null && (!QueueArguments.isIntegral(size) || ((Number) size).longValue() < 1)) {
            throw BrokerException.precondition("invalid arg '" + GROUP_SIZE_ARGUMENT + "' for " + queue
                    + ": expected a positive integer, got '" + QueueArguments.show(size) + "'");
        }
        if (autoDelete) {
            throw BrokerException.precondition("invalid property 'auto-delete' for " + queue);
        }
        if (exclusive) {
            throw BrokerException.precondition("invalid property 'exclusive-owner' for " + queue);
        }
        if (!durable) {
            throw BrokerException.precondition("invalid property 'non-durable' for " + queue);
        }
        QueueArguments.validate(args);
        Deduplication.validate(args);
    }

    /** Refuses (540) a consumer on a channel with a global prefetch, as RabbitMQ's quorum queues do. */
    public static void checkConsume(String vhost, String name, boolean channelHasGlobalPrefetch) {
        if (channelHasGlobalPrefetch) {
            throw new BrokerException(ErrorCode.NOT_IMPLEMENTED, "queue '" + name + "' in vhost '" + vhost
                    + "' does not support global qos");
        }
    }

    /** How many replicas a new quorum queue gets: its {@code x-quorum-initial-group-size} (checked), at most the cluster. */
    public static int groupSize(Map<String, Object> arguments, int clusterSize) {
        Object size = arguments == null ? null : arguments.get(GROUP_SIZE_ARGUMENT);
        long wanted = size == null ? DEFAULT_GROUP_SIZE : ((Number) size).longValue();
        return (int) Math.min(wanted, clusterSize);
    }
}
