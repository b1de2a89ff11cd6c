package io.holdfast.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.GetResponse;
import com.rabbitmq.client.MessageProperties;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The write side of RabbitMQ's management API for queues, exchanges, bindings and messages, through a real HTTP
 * client, each change checked through the Java client: RabbitMQ's paths, bodies and status codes, and bad input
 * answered with a 4xx JSON reason that changes nothing.
 */
class ManagementWriteTest extends SharedBrokerTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static HttpResponse<String> call(String method, String path, String body) throws Exception {
        return Management.request(broker, method, path, "guest", "guest", body);
    }

    private static HttpResponse<String> expect(int status, String method, String path, String body) throws Exception {
        HttpResponse<String> r = call(method, path, body);
        assertThat(r.statusCode()).as("%s %s: %s", method, path, r.body()).isEqualTo(status);
        if (status >= 400) {
            JsonNode error = JSON.readTree(r.body());
            assertThat(error.get("error").asText()).isNotEmpty();
            assertThat(error.get("reason").asText()).isNotEmpty();
        }
        return r;
    }

    private static String reason(HttpResponse<String> r) throws IOException {
        return JSON.readTree(r.body()).get("reason").asText();
    }

    private boolean queueExists(String name) throws Exception {
        try (var c = broker.connect(); var probe = c.createChannel()) {
            probe.queueDeclarePassive(name);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    @Test
    void putQueueDeclaresItAndARedeclareIsNoChange() throws Exception {
        expect(201, "PUT", "/api/queues/%2F/w-orders", "{\"durable\":true,\"auto_delete\":false,"
                + "\"arguments\":{\"x-max-length\":10,\"x-dead-letter-exchange\":\"dlx\"}}");
        expect(204, "PUT", "/api/queues/%2F/w-orders", "{\"durable\":\"true\",\"arguments\":{\"x-max-length\":10,"
                + "\"x-dead-letter-exchange\":\"dlx\"}}");
        // Through the Java client: an equivalent declare is accepted, so the arguments are the same.
        assertThat(ch.queueDeclare("w-orders", true, false, false, Map.of("x-max-length", 10,
                "x-dead-letter-exchange", "dlx")).getQueue()).isEqualTo("w-orders");
        JsonNode q = JSON.readTree(expect(200, "GET", "/api/queues/%2F/w-orders", null).body());
        assertThat(q.get("durable").asBoolean()).isTrue();
        assertThat(q.get("arguments").get("x-max-length").asInt()).isEqualTo(10);
    }

    @Test
    void inequivalentRedeclareIsRefusedWithTheBrokersText() throws Exception {
        ch.queueDeclare("w-durable", true, false, false, null);
        HttpResponse<String> r = expect(400, "PUT", "/api/queues/%2F/w-durable", "{\"durable\":false}");
        assertThat(reason(r)).isEqualTo("406 PRECONDITION_FAILED - inequivalent arg 'durable' for queue 'w-durable' "
                + "in vhost '/': received 'false' but current is 'true'");
        JsonNode q = JSON.readTree(expect(200, "GET", "/api/queues/%2F/w-durable", null).body());
        assertThat(q.get("durable").asBoolean()).isTrue();
    }

    @Test
    void badQueueInputIsRefusedAndCreatesNothing() throws Exception {
        assertThat(reason(expect(400, "PUT", "/api/queues/%2F/w-bad", "{\"arguments\":{\"x-max-length\":\"ten\"}}")))
                .startsWith("406 PRECONDITION_FAILED - invalid arg 'x-max-length'");
        assertThat(reason(expect(400, "PUT", "/api/queues/%2F/w-bad", "{\"durable\":")))
                .startsWith("malformed JSON");
        assertThat(reason(expect(400, "PUT", "/api/queues/%2F/w-bad", "{\"durable\":\"maybe\"}")))
                .contains("durable");
        expect(400, "PUT", "/api/queues/%2F/w-bad", "{\"arguments\":[1]}");
        // A channel closed with 403 is RabbitMQ's 401 not_authorised, its reason the AMQP text.
        assertThat(reason(expect(401, "PUT", "/api/queues/%2F/amq.mine", "{}")))
                .startsWith("ACCESS_REFUSED - queue name 'amq.mine' contains reserved prefix");
        assertThat(JSON.readTree(expect(404, "PUT", "/api/queues/no-such-vhost/w-bad", "{}").body())
                .get("error").asText()).isEqualTo("Object Not Found");
        assertThat(queueExists("w-bad")).isFalse();
        assertThat(queueExists("amq.mine")).isFalse();
    }

    @Test
    void aUserWithoutPermissionsInTheVhostCannotWriteThere() throws Exception {
        expect(201, "PUT", "/api/users/w-monitor", "{\"password\":\"pw\",\"tags\":\"monitoring\"}");
        HttpResponse<String> r = Management.request(broker, "PUT", "/api/queues/%2F/w-denied", "w-monitor", "pw", "{}");
        assertThat(r.statusCode()).isEqualTo(401);
        assertThat(queueExists("w-denied")).isFalse();
    }

    @Test
    void deleteQueueHonoursIfEmptyAndIfUnused() throws Exception {
        ch.queueDeclare("w-del", true, false, false, null);
        ch.confirmSelect();
        ch.basicPublish("", "w-del", null, "x".getBytes());
        ch.waitForConfirmsOrDie(5000);
        assertThat(reason(expect(400, "DELETE", "/api/queues/%2F/w-del?if-empty=true", null)))
                .isEqualTo("406 PRECONDITION_FAILED - queue 'w-del' in vhost '/' is not empty");
        var consumer = conn.createChannel();
        String tag = consumer.basicConsume("w-del", false, (t, d) -> { }, t -> { });
        assertThat(reason(expect(400, "DELETE", "/api/queues/%2F/w-del?if-unused=true", null)))
                .isEqualTo("406 PRECONDITION_FAILED - queue 'w-del' in vhost '/' in use");
        consumer.basicCancel(tag);
        assertThat(queueExists("w-del")).isTrue();
        expect(204, "DELETE", "/api/queues/%2F/w-del", null);
        assertThat(queueExists("w-del")).isFalse();
        expect(404, "DELETE", "/api/queues/%2F/w-del", null);
    }

    @Test
    void purgeRemovesTheReadyMessages() throws Exception {
        ch.queueDeclare("w-purge", false, false, false, null);
        ch.confirmSelect(); // the publishes are in the queue before the purge comes by another way
        for (int i = 0; i < 3; i++) {
            ch.basicPublish("", "w-purge", null, "x".getBytes());
        }
        ch.waitForConfirmsOrDie(5000);
        expect(204, "DELETE", "/api/queues/%2F/w-purge/contents", null);
        assertThat(ch.queueDeclarePassive("w-purge").getMessageCount()).isZero();
        expect(404, "DELETE", "/api/queues/%2F/w-missing/contents", null);
    }

    @Test
    void putAndDeleteExchange() throws Exception {
        expect(201, "PUT", "/api/exchanges/%2F/w-events", "{\"type\":\"topic\",\"durable\":true,"
                + "\"arguments\":{\"alternate-exchange\":\"w-ae\"}}");
        ch.exchangeDeclarePassive("w-events");
        ch.exchangeDeclare("w-events", "topic", true, false, Map.of("alternate-exchange", "w-ae"));
        assertThat(reason(expect(400, "PUT", "/api/exchanges/%2F/w-events", "{\"type\":\"fanout\",\"durable\":true}")))
                .startsWith("406 PRECONDITION_FAILED - inequivalent arg 'type'");
        assertThat(reason(expect(400, "PUT", "/api/exchanges/%2F/w-typeless", "{\"durable\":true}")))
                .isEqualTo("Mandatory field missing: type");
        assertThat(reason(expect(400, "PUT", "/api/exchanges/%2F/w-odd", "{\"type\":\"odd\"}")))
                .contains("unknown exchange type 'odd'");
        assertThat(reason(expect(401, "DELETE", "/api/exchanges/%2F/amq.direct", null))).startsWith("ACCESS_REFUSED");
        ch.queueDeclare("w-events-q", false, false, false, null);
        ch.queueBind("w-events-q", "w-events", "#");
        assertThat(reason(expect(400, "DELETE", "/api/exchanges/%2F/w-events?if-unused=true", null)))
                .isEqualTo("406 PRECONDITION_FAILED - exchange 'w-events' in vhost '/' in use");
        expect(204, "DELETE", "/api/exchanges/%2F/w-events", null);
        var probe = conn.createChannel();
        assertThatThrownBy(() -> probe.exchangeDeclarePassive("w-events")).isInstanceOf(IOException.class);
        expect(404, "DELETE", "/api/exchanges/%2F/w-events", null);
    }

    @Test
    void bindingsAreMadeListedAndDeletedByTheirPropertiesKey() throws Exception {
        ch.exchangeDeclare("w-bx", "direct", true);
        ch.exchangeDeclare("w-bx2", "fanout", true);
        ch.queueDeclare("w-bq", true, false, false, null);
        HttpResponse<String> made = expect(201, "POST", "/api/bindings/%2F/e/w-bx/q/w-bq",
                "{\"routing_key\":\"k\",\"arguments\":{}}");
        assertThat(made.headers().firstValue("Location")).hasValue("/api/bindings/%2F/e/w-bx/q/w-bq/k");
        expect(201, "POST", "/api/bindings/%2F/e/w-bx/e/w-bx2", "{\"routing_key\":\"k2\"}");
        ch.confirmSelect();
        ch.basicPublish("w-bx", "k", null, "hello".getBytes());
        ch.waitForConfirmsOrDie(5000);
        assertThat(ch.basicGet("w-bq", true).getBody()).asString(StandardCharsets.UTF_8).isEqualTo("hello");

        JsonNode list = JSON.readTree(expect(200, "GET", "/api/bindings/%2F/e/w-bx/q/w-bq", null).body());
        assertThat(list).hasSize(1);
        assertThat(list.get(0).get("properties_key").asText()).isEqualTo("k");
        assertThat(JSON.readTree(expect(200, "GET", "/api/bindings/%2F/e/w-bx/e/w-bx2/k2", null).body())
                .get("destination_type").asText()).isEqualTo("exchange");

        expect(404, "POST", "/api/bindings/%2F/e/w-bx/q/w-missing", "{\"routing_key\":\"k\"}");
        expect(404, "POST", "/api/bindings/%2F/e/w-missing/q/w-bq", "{}");
        expect(400, "POST", "/api/bindings/%2F/e/w-bx/q/w-bq", "{\"routing_key\":{}}");
        expect(404, "DELETE", "/api/bindings/%2F/e/w-bx/q/w-bq/other", null);

        expect(204, "DELETE", "/api/bindings/%2F/e/w-bx/q/w-bq/k", null);
        assertThat(JSON.readTree(expect(200, "GET", "/api/bindings/%2F/e/w-bx/q/w-bq", null).body())).isEmpty();
        ch.basicPublish("w-bx", "k", null, "gone".getBytes());
        ch.waitForConfirmsOrDie(5000);
        assertThat(ch.basicGet("w-bq", true)).isNull();
    }

    @Test
    void publishRoutesAndAnswersWhetherItWasRouted() throws Exception {
        ch.queueDeclare("w-pub", true, false, false, null);
        HttpResponse<String> r = expect(200, "POST", "/api/exchanges/%2F/amq.default/publish",
                "{\"properties\":{\"delivery_mode\":2,\"headers\":{\"h\":\"v\",\"n\":3},\"content_type\":\"text/plain\"},"
                        + "\"routing_key\":\"w-pub\",\"payload\":\"hello\",\"payload_encoding\":\"string\"}");
        assertThat(JSON.readTree(r.body()).get("routed").asBoolean()).isTrue();
        GetResponse got = ch.basicGet("w-pub", true);
        assertThat(got.getBody()).asString(StandardCharsets.UTF_8).isEqualTo("hello");
        AMQP.BasicProperties props = got.getProps();
        assertThat(props.getDeliveryMode()).isEqualTo(2);
        assertThat(props.getContentType()).isEqualTo("text/plain");
        assertThat(props.getHeaders().get("h").toString()).isEqualTo("v");
        assertThat(props.getHeaders().get("n")).isEqualTo(3L);

        expect(200, "POST", "/api/exchanges/%2F/amq.default/publish", "{\"properties\":{},\"routing_key\":\"w-pub\","
                + "\"payload\":\"AAEC\",\"payload_encoding\":\"base64\"}");
        assertThat(ch.basicGet("w-pub", true).getBody()).containsExactly(0, 1, 2);

        r = expect(200, "POST", "/api/exchanges/%2F/amq.default/publish", "{\"properties\":{},\"routing_key\":"
                + "\"w-nowhere\",\"payload\":\"x\",\"payload_encoding\":\"string\"}");
        assertThat(JSON.readTree(r.body()).get("routed").asBoolean()).isFalse();
    }

    @Test
    void badPublishesAreRefusedAndPublishNothing() throws Exception {
        ch.queueDeclare("w-badpub", false, false, false, null);
        String path = "/api/exchanges/%2F/amq.default/publish";
        expect(400, "POST", path, "not json");
        assertThat(reason(expect(400, "POST", path, "{\"properties\":{},\"routing_key\":\"w-badpub\"}")))
                .isEqualTo("Mandatory field missing: payload");
        expect(400, "POST", path, "{\"routing_key\":\"w-badpub\",\"payload\":\"x\",\"payload_encoding\":\"rot13\"}");
        expect(400, "POST", path, "{\"routing_key\":\"w-badpub\",\"payload\":\"!!\",\"payload_encoding\":\"base64\"}");
        expect(400, "POST", path, "{\"routing_key\":\"w-badpub\",\"payload\":\"x\",\"properties\":{\"colour\":1}}");
        expect(400, "POST", path, "{\"routing_key\":\"w-badpub\",\"payload\":\"x\",\"properties\":{\"delivery_mode\":"
                + "\"two\"}}");
        assertThat(reason(expect(400, "POST", path, "{\"routing_key\":\"w-badpub\",\"payload\":\"x\",\"properties\":"
                + "{\"expiration\":\"soon\"}}"))).startsWith("406 PRECONDITION_FAILED - invalid expiration 'soon'");
        assertThat(reason(expect(400, "POST", path, "{\"routing_key\":\"w-badpub\",\"payload\":\"x\",\"properties\":"
                + "{\"user_id\":\"mallory\"}}"))).isEqualTo("406 PRECONDITION_FAILED - user_id property set to "
                + "'mallory' but authenticated user was 'guest'");
        expect(404, "POST", "/api/exchanges/%2F/w-no-exchange/publish", "{\"routing_key\":\"w-badpub\",\"payload\":"
                + "\"x\"}");
        expect(404, "POST", "/api/exchanges/no-vhost/amq.default/publish", "{\"routing_key\":\"q\",\"payload\":\"x\"}");
        assertThat(ch.queueDeclarePassive("w-badpub").getMessageCount()).isZero();
    }

    @Test
    void getTakesOrRequeuesAsTheAckModeSays() throws Exception {
        ch.queueDeclare("w-get", false, false, false, null);
        ch.confirmSelect();
        for (String m : new String[] {"one", "two", "three"}) {
            ch.basicPublish("", "w-get", MessageProperties.TEXT_PLAIN, m.getBytes());
        }
        ch.waitForConfirmsOrDie(5000);
        String path = "/api/queues/%2F/w-get/get";
        JsonNode two = JSON.readTree(expect(200, "POST", path, "{\"count\":2,\"ackmode\":\"ack_requeue_true\","
                + "\"encoding\":\"auto\"}").body());
        assertThat(two).hasSize(2);
        assertThat(two.get(0).get("payload").asText()).isEqualTo("one");
        assertThat(two.get(1).get("payload").asText()).isEqualTo("two");
        assertThat(two.get(0).get("payload_encoding").asText()).isEqualTo("string");
        assertThat(two.get(0).get("payload_bytes").asInt()).isEqualTo(3);
        assertThat(two.get(0).get("redelivered").asBoolean()).isFalse();
        assertThat(two.get(0).get("exchange").asText()).isEmpty();
        assertThat(two.get(0).get("routing_key").asText()).isEqualTo("w-get");
        assertThat(two.get(0).get("message_count").asInt()).isEqualTo(2);
        assertThat(two.get(0).get("properties").get("content_type").asText()).isEqualTo("text/plain");
        assertThat(ch.queueDeclarePassive("w-get").getMessageCount()).isEqualTo(3);

        JsonNode taken = JSON.readTree(expect(200, "POST", path, "{\"count\":\"1\",\"ackmode\":\"ack_requeue_false\","
                + "\"encoding\":\"base64\",\"truncate\":2}").body());
        assertThat(taken.get(0).get("redelivered").asBoolean()).isTrue();
        assertThat(taken.get(0).get("payload").asText()).isEqualTo("b24="); // "on", truncated to 2 bytes
        assertThat(taken.get(0).get("payload_encoding").asText()).isEqualTo("base64");
        assertThat(ch.queueDeclarePassive("w-get").getMessageCount()).isEqualTo(2);

        assertThat(reason(expect(400, "POST", path, "{\"count\":1,\"ackmode\":\"keep\",\"encoding\":\"auto\"}")))
                .startsWith("ackmode must be one of");
        expect(400, "POST", path, "{\"count\":-1,\"ackmode\":\"ack_requeue_true\",\"encoding\":\"auto\"}");
        expect(400, "POST", path, "{\"count\":1,\"ackmode\":\"ack_requeue_true\",\"encoding\":\"utf16\"}");
        expect(400, "POST", path, "{\"ackmode\":\"ack_requeue_true\",\"encoding\":\"auto\"}");
        expect(404, "POST", "/api/queues/%2F/w-nope/get", "{\"count\":1,\"ackmode\":\"ack_requeue_true\","
                + "\"encoding\":\"auto\"}");
        assertThat(ch.queueDeclarePassive("w-get").getMessageCount()).isEqualTo(2);

        expect(200, "POST", path, "{\"count\":5,\"ackmode\":\"reject_requeue_false\",\"encoding\":\"auto\"}");
        assertThat(ch.queueDeclarePassive("w-get").getMessageCount()).isZero();
        assertThat(JSON.readTree(expect(200, "POST", path, "{\"count\":1,\"ackmode\":\"ack_requeue_true\","
                + "\"encoding\":\"auto\"}").body())).isEmpty();
    }
}
