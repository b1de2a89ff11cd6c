package io.holdfast.it;

import com.rabbitmq.client.BlockedListener;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.DeliverCallback;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** What the resource-alarm tests watch: a publisher's blocked/unblocked events, a consumer's bodies. */
final class AlarmWatch {
    private AlarmWatch() {}

    /** The connection's "blocked: reason" and "unblocked" events, in order, as they arrive. */
    static List<String> recordBlocking(Connection c) {
        List<String> events = new CopyOnWriteArrayList<>();
        c.addBlockedListener(new BlockedListener() {
            @Override
            public void handleBlocked(String reason) {
                events.add("blocked: " + reason);
            }

            @Override
            public void handleUnblocked() {
                events.add("unblocked");
            }
        });
        return events;
    }

    /** Consumes {@code queue} on a new channel of {@code consumer} with manual acks; the bodies, as they arrive. */
    static List<String> consume(Connection consumer, String queue) throws Exception {
        List<String> received = new CopyOnWriteArrayList<>();
        Channel con = consumer.createChannel();
        DeliverCallback onMessage = (tag, d) -> {
            received.add(new String(d.getBody(), StandardCharsets.UTF_8));
            con.basicAck(d.getEnvelope().getDeliveryTag(), false);
        };
        con.basicConsume(queue, false, onMessage, tag -> { });
        return received;
    }
}
