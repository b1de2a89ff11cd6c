package io.holdfast.server.management;

import com.fasterxml.jackson.databind.JsonNode;
import io.holdfast.core.Broker;
import io.holdfast.core.BrokerException;
import io.holdfast.core.ErrorCode;
import io.holdfast.core.Message;
import io.holdfast.protocol.BasicProperties;
import io.holdfast.protocol.Method;
import io.holdfast.server.engine.Engine;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * RabbitMQ's API for publishing and getting messages by hand: {@code POST /api/exchanges/{vhost}/{name}/publish}
 * ({@code {"properties","routing_key","payload","payload_encoding"}} → {@code {"routed":bool}}) and
 * {@code POST /api/queues/{vhost}/{name}/get} ({@code {"count","ackmode","encoding","truncate"}} → the messages).
 * A publish goes the way a confirmed AMQP publish goes: it answers once what it wrote is durable, so a persistent
 * message on a durable queue is on disk when the 200 comes. Users with permissions in the vhost: a publish needs
 * write on the exchange (and the topic permission on the routing key), a get read on the queue, as over AMQP.
 * Handler threads.
 */
final class MessageApi {
    private static final List<String> ACK_MODES = List.of("ack_requeue_true", "ack_requeue_false",
            "reject_requeue_true", "reject_requeue_false");

    private final Engine engine;
    private final CoreClient core;

    MessageApi(Engine engine, CoreClient core) {
        this.engine = engine;
        this.core = core;
    }

    void addTo(Routes routes) {
        routes.add("POST", "/api/exchanges/{vhost}/{name}/publish", Routes.Access.VHOST,
                        r -> TopologyApi.answering(() -> publish(r)))
                .add("POST", "/api/queues/{vhost}/{name}/get", Routes.Access.VHOST,
                        r -> TopologyApi.answering(() -> get(r)));
    }

    private Routes.Response publish(Routes.Request r) {
        JsonNode body = ManagementHttp.body(r);
        String vhost = r.variable(0);
        String exchange = TopologyApi.exchangeName(r.variable(1));
        String routingKey = AmqpJson.text(body, "routing_key");
        String payload = AmqpJson.text(body, "payload");
        String encoding = body.hasNonNull("payload_encoding") ? AmqpJson.text(body, "payload_encoding") : "string";
        byte[] bytes = switch (encoding) {
            case "string" -> payload.getBytes(StandardCharsets.UTF_8);
            case "base64" -> {
                try {
                    yield Base64.getDecoder().decode(payload);
                } catch (IllegalArgumentException e) {
                    throw new ManagementHttp.BadRequest("payload is not base64: " + e.getMessage());
                }
            }
            default -> throw new ManagementHttp.BadRequest("unsupported payload_encoding '" + encoding
                    + "' (string or base64)");
        };
        BasicProperties props = AmqpJson.properties(body);
        if (props.userId() != null && !props.userId().equals(r.user())) { // validated user-id, as over AMQP
            throw new BrokerException(ErrorCode.PRECONDITION_FAILED, "user_id property set to '" + props.userId()
                    + "' but authenticated user was '" + r.user() + "'");
        }
        if (Broker.isDirectReplyTo(props.replyTo())) { // this request has no reply consumer
            throw new BrokerException(ErrorCode.PRECONDITION_FAILED, "fast reply consumer does not exist");
        }
        Message message = new Message(exchange, routingKey, props.encode(), props.headers(),
                props.deliveryMode() != null && props.deliveryMode() == 2, Message.parseExpiration(props.expiration()),
                bytes);
        if (!engine.query(b -> b.virtualHost(vhost) == null || b.virtualHost(vhost).exchange(exchange) != null)) {
            return ManagementApi.notFound(); // as RabbitMQ, before publishing: the exchange in the path is missing
        }
        CoreClient.Published p = core.publish(r.user(), vhost, exchange, routingKey, message);
        if (p.rejected()) { // a queue's x-overflow reject-publish: RabbitMQ's text
            return ManagementHttp.error(400, "bad_request", "rejected Unable to publish message. Check queue limits.");
        }
        Map<String, Object> answer = new LinkedHashMap<>();
        answer.put("routed", p.routed());
        return ManagementHttp.json(200, answer);
    }

    private Routes.Response get(Routes.Request r) {
        JsonNode body = ManagementHttp.body(r);
        String queue = r.variable(1);
        int count = AmqpJson.count(body, "count", -1);
        if (count < 0) {
            throw new ManagementHttp.BadRequest("Mandatory field missing: count");
        }
        String ackMode = AmqpJson.text(body, "ackmode");
        if (!ACK_MODES.contains(ackMode)) {
            throw new ManagementHttp.BadRequest("ackmode must be one of " + String.join(", ", ACK_MODES) + ", not '"
                    + ackMode + "'");
        }
        String encoding = AmqpJson.text(body, "encoding");
        if (!encoding.equals("auto") && !encoding.equals("base64")) {
            throw new ManagementHttp.BadRequest("Unsupported encoding '" + encoding + "' (auto or base64)");
        }
        int truncate = AmqpJson.count(body, "truncate", Integer.MAX_VALUE);
        List<Map<String, Object>> got = core.call(r.variable(0), ch -> {
            Broker b = engine.broker();
            if (b.virtualHost(ch.vhost()).queue(queue) == null) {
                return null;
            }
            core.gate(r.user(), ch).authorize(new Method.BasicGet(0, queue, false), ch);
            List<Broker.GetResult> results = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                Broker.GetResult g = b.get(ch, queue, false, System.currentTimeMillis());
                if (g == null) {
                    break;
                }
                results.add(g);
            }
            // Settled after all the gets, so a requeue does not hand the same message back to the next get.
            for (Broker.GetResult g : results) {
                switch (ackMode) {
                    case "ack_requeue_false" -> b.ack(ch, g.deliveryTag(), false);
                    case "reject_requeue_false" -> b.reject(ch, g.deliveryTag(), false, false);
                    default -> b.reject(ch, g.deliveryTag(), false, true);
                }
            }
            return results.stream().map(g -> view(g, encoding, truncate)).toList();
        });
        return got == null ? ManagementApi.notFound() : ManagementHttp.json(200, got);
    }

    /** One message as RabbitMQ's get answers it. */
    private static Map<String, Object> view(Broker.GetResult g, String encoding, int truncate) {
        Map<String, Object> v = new LinkedHashMap<>();
        v.put("redelivered", g.redelivered());
        v.put("message_count", g.messageCount());
        putMessage(v, g.message(), encoding, truncate);
        return v;
    }

    /**
     * A message's fields as RabbitMQ's get shows them: {@code payload_bytes}, {@code exchange}, {@code routing_key},
     * {@code properties}, and the payload ({@code auto}: as text when it is UTF-8, else base64; or {@code base64}),
     * cut to {@code truncate} bytes.
     */
    static void putMessage(Map<String, Object> v, Message m, String encoding, int truncate) {
        byte[] body = m.body().length > truncate ? Arrays.copyOf(m.body(), truncate) : m.body();
        String text = encoding.equals("auto") ? utf8(body) : null;
        v.put("payload_bytes", m.body().length);
        v.put("exchange", m.exchange());
        v.put("routing_key", m.routingKey());
        v.put("properties", AmqpJson.view(BasicProperties.decode(m.properties())));
        v.put("payload", text != null ? text : Base64.getEncoder().encodeToString(body));
        v.put("payload_encoding", text != null ? "string" : "base64");
    }

    /** The bytes as text if they are valid UTF-8, else null. */
    private static String utf8(byte[] bytes) {
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }
}
