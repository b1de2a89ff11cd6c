package io.holdfast.core;

/**
 * What applying a {@link QuorumCommand} asks the cluster to do. Every replica computes the same effects; each is
 * carried out by one node: those naming a {@link RemoteChannel} by the node hosting it, {@link DeadLetter},
 * {@link Quarantine} and {@link QueueExpired} by the queue's leader (at most once, as RabbitMQ's default
 * {@code at-most-once} dead-letter strategy: a leader that dies between commit and routing loses the copy).
 * Immutable values.
 */
public sealed interface QuorumEffect {

    /**
     * basic.deliver (or basic.get-ok, when {@code consumerTag} is null) of {@code message} to {@code channel}.
     *
     * @param deliveryId    the queue's id of this delivery on that channel, what {@link QuorumCommand.Settle} names
     * @param redelivered   the delivery's redelivered flag
     * @param deliveryCount deliveries of this message so far, this one included (so {@code x-delivery-count} is
     *                      {@code deliveryCount - 1} where the queue counts, as on a classic queue)
     * @param seq           the message's position in the queue, which fixes its order forever
     */
    record Deliver(RemoteChannel channel, String consumerTag, long deliveryId, boolean redelivered, int deliveryCount,
                   long seq, Message message) implements QuorumEffect {}

    /** basic.ack to the publisher: the message is in the replicated queue (or a duplicate of one it holds). */
    record Confirm(RemoteChannel publisher, long publishSeq) implements QuorumEffect {}

    /** basic.nack to the publisher: the queue refused the message ({@code x-overflow} reject-publish, full). */
    record Nack(RemoteChannel publisher, long publishSeq) implements QuorumEffect {}

    /**
     * The message left for {@code reason} ({@code rejected}, {@code expired}, {@code maxlen}, {@code delivery_limit})
     * and the queue has an {@code x-dead-letter-exchange}: the leader republishes it there with its {@code x-death}.
     */
    record DeadLetter(Message message, String reason) implements QuorumEffect {}

    /** The message went over {@code x-delivery-limit} with no dead-letter exchange: the leader quarantines it. */
    record Quarantine(Message message, int deliveryCount) implements QuorumEffect {}

    /** Server-sent basic.cancel: the consumer's timeout ran out (its deliveries came back) or the queue expired. */
    record ConsumerCancelled(RemoteChannel channel, String consumerTag) implements QuorumEffect {}

    /** {@code x-expires} ran out: the queue is deleted; the leader removes its declaration and group. */
    record QueueExpired() implements QuorumEffect {}
}
