package io.holdfast.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.MessageProperties;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The read side of RabbitMQ's management API, through a real HTTP client: RabbitMQ's paths, its field
 * names and JSON types, its 404 for a missing object.
 */
class ManagementApiTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path dataDir;

    static RunningBroker broker;
    static Connection connection;

    @BeforeAll
    static void start() throws Exception {
        broker = RunningBroker.start(dataDir);
        connection = broker.connect();
        Channel ch = connection.createChannel();
        ch.exchangeDeclare("orders-x", "topic", true);
        ch.queueDeclare("orders", true, false, false, Map.of("x-max-length", 10, "x-dead-letter-exchange", "dlx"));
        ch.queueDeclare("a/b c", false, false, false, null);
        ch.queueBind("orders", "orders-x", "eu.#");
        for (int i = 0; i < 3; i++) {
            ch.basicPublish("orders-x", "eu.de", MessageProperties.PERSISTENT_BASIC, ("m" + i).getBytes());
        }
        Channel consumer = connection.createChannel();
        consumer.basicQos(1);
        CountDownLatch delivered = new CountDownLatch(1);
        consumer.basicConsume("orders", false, (tag, d) -> delivered.countDown(), tag -> { });
        assertThat(delivered.await(10, TimeUnit.SECONDS)).isTrue(); // one unacked, two ready
    }

    @AfterAll
    static void stop() throws Exception {
        connection.close();
        broker.close();
    }

    private static JsonNode get(String path, int status) throws Exception {
        HttpResponse<String> r = Management.request(broker, "GET", path);
        assertThat(r.statusCode()).as("%s: %s", path, r.body()).isEqualTo(status);
        assertThat(r.headers().firstValue("Content-Type")).hasValue("application/json");
        return JSON.readTree(r.body());
    }

    private static JsonNode named(JsonNode list, String name) {
        for (JsonNode n : list) {
            if (n.get("name").asText().equals(name)) {
                return n;
            }
        }
        throw new AssertionError("no " + name + " in " + list);
    }

    @Test
    void queuesShowRabbitMqsFieldsWithTheirTypes() throws Exception {
        JsonNode q = named(get("/api/queues", 200), "orders");
        assertThat(q.get("vhost").asText()).isEqualTo("/");
        assertThat(q.get("durable").isBoolean()).isTrue();
        assertThat(q.get("durable").asBoolean()).isTrue();
        assertThat(q.get("exclusive").asBoolean()).isFalse();
        assertThat(q.get("auto_delete").asBoolean()).isFalse();
        assertThat(q.get("messages").asLong()).isEqualTo(3);
        assertThat(q.get("messages_ready").asLong()).isEqualTo(2);
        assertThat(q.get("messages_unacknowledged").asLong()).isEqualTo(1);
        assertThat(q.get("consumers").asInt()).isEqualTo(1);
        assertThat(q.get("state").asText()).isEqualTo("running");
        assertThat(q.get("arguments").get("x-max-length").isInt()).isTrue();
        assertThat(q.get("arguments").get("x-max-length").asInt()).isEqualTo(10);
        assertThat(q.get("arguments").get("x-dead-letter-exchange").asText()).isEqualTo("dlx");

        assertThat(get("/api/queues/%2F/orders", 200)).isEqualTo(q);
        assertThat(named(get("/api/queues/%2F", 200), "orders")).isEqualTo(q);
        assertThat(get("/api/queues/%2F/a%2Fb%20c", 200).get("durable").asBoolean()).isFalse();
    }

    @Test
    void aMissingObjectOrVhostIsRabbitMqsNotFound() throws Exception {
        JsonNode missing = get("/api/queues/%2F/nope", 404);
        assertThat(missing.get("error").asText()).isEqualTo("Object Not Found");
        assertThat(missing.get("reason").asText()).isEqualTo("Not Found");
        get("/api/queues/no-such-vhost", 404);
        get("/api/exchanges/%2F/nope", 404);
        get("/api/vhosts/nope", 404);
    }

    @Test
    void exchangesIncludeTheDefaultAndPredeclaredOnes() throws Exception {
        JsonNode all = get("/api/exchanges/%2F", 200);
        assertThat(named(all, "").get("type").asText()).isEqualTo("direct");
        assertThat(named(all, "amq.topic").get("type").asText()).isEqualTo("topic");
        JsonNode x = get("/api/exchanges/%2F/orders-x", 200);
        assertThat(x.get("type").asText()).isEqualTo("topic");
        assertThat(x.get("durable").asBoolean()).isTrue();
        assertThat(x.get("internal").asBoolean()).isFalse();
        assertThat(x.get("arguments").isObject()).isTrue();
    }

    @Test
    void bindingsListTheDefaultExchangesImplicitOnesAndDeclaredOnes() throws Exception {
        JsonNode bindings = get("/api/bindings/%2F", 200);
        boolean implicit = false;
        boolean declared = false;
        for (JsonNode b : bindings) {
            implicit |= b.get("source").asText().isEmpty() && b.get("destination").asText().equals("orders")
                    && b.get("routing_key").asText().equals("orders");
            declared |= b.get("source").asText().equals("orders-x") && b.get("destination").asText().equals("orders")
                    && b.get("destination_type").asText().equals("queue") && b.get("routing_key").asText().equals("eu.#")
                    && b.get("properties_key").asText().equals("eu.#");
        }
        assertThat(implicit).as("default exchange binding in %s", bindings).isTrue();
        assertThat(declared).as("orders-x binding in %s", bindings).isTrue();
    }

    @Test
    void overviewAndVhostsCountWhatTheBrokerHolds() throws Exception {
        JsonNode overview = get("/api/overview", 200);
        assertThat(overview.get("rabbitmq_version").asText()).isNotEmpty();
        assertThat(overview.get("object_totals").get("queues").asInt()).isEqualTo(2);
        assertThat(overview.get("object_totals").get("connections").asInt()).isEqualTo(1);
        assertThat(overview.get("queue_totals").get("messages").asLong()).isEqualTo(3);
        JsonNode vhost = named(get("/api/vhosts", 200), "/");
        assertThat(vhost.get("messages_ready").asLong()).isEqualTo(2);
        assertThat(get("/api/vhosts/%2F", 200)).isEqualTo(vhost);
    }

    @Test
    void alarmHealthCheckIsOkWithoutAlarms() throws Exception {
        assertThat(get("/api/health/checks/alarms", 200).get("status").asText()).isEqualTo("ok");
    }

    @Test
    void aMethodAPathDoesNotTakeIsNotAllowedAndTheAnswerSaysWhichAre() throws Exception {
        HttpResponse<String> r = Management.request(broker, "DELETE", "/api/overview");
        assertThat(r.statusCode()).isEqualTo(405);
        assertThat(r.headers().firstValue("Allow")).hasValue("GET, HEAD");
        assertThat(JSON.readTree(r.body()).get("error").asText()).isEqualTo("method_not_allowed");
        r = Management.request(broker, "POST", "/api/queues/%2F/orders");
        assertThat(r.statusCode()).isEqualTo(405);
        assertThat(r.headers().firstValue("Allow")).hasValue("GET, PUT, DELETE, HEAD");
        assertThat(get("/api/queues/%2F/orders", 200).get("messages").asLong()).isEqualTo(3);
    }
}
