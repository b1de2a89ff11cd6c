package io.holdfast.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A persistent message published over the management API to a durable queue is on disk when the 200 answers,
 * as a confirmed AMQP publish is when its ack arrives: a kill -9 right after the answers loses none of them,
 * nor the queue declared over HTTP just before.
 */
class ManagementPublishCrashTest {
    private static final int MESSAGES = 20;

    @TempDir
    Path dir;

    @Test
    void publishedOverHttpMeansStored() throws Exception {
        Path data = dir.resolve("data");
        try (ChildBroker broker = ChildBroker.spawnWithManagement(data, dir, dir.resolve("first.log"))) {
            int port = broker.managementPort();
            assertThat(Management.request(port, "PUT", "/api/queues/%2F/http-durable", "guest", "guest",
                    "{\"durable\":true}").statusCode()).isEqualTo(201);
            for (int i = 0; i < MESSAGES; i++) {
                HttpResponse<String> r = Management.request(port, "POST", "/api/exchanges/%2F/amq.default/publish",
                        "guest", "guest", "{\"properties\":{\"delivery_mode\":2},\"routing_key\":\"http-durable\","
                                + "\"payload\":\"m" + i + "\",\"payload_encoding\":\"string\"}");
                assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
                assertThat(r.body()).isEqualTo("{\"routed\":true}");
            }
            broker.kill();
        }
        try (ChildBroker broker = ChildBroker.spawn(data, ChildBroker.testConfig(dir), dir.resolve("second.log"))) {
            broker.awaitListening(60);
            try (Connection conn = broker.connect("check")) {
                Channel ch = conn.createChannel();
                assertThat(ch.queueDeclarePassive("http-durable").getMessageCount()).isEqualTo(MESSAGES);
                assertThat(new String(ch.basicGet("http-durable", true).getBody(), StandardCharsets.UTF_8))
                        .isEqualTo("m0");
            }
        }
    }
}
