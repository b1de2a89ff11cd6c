package io.holdfast.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.GetResponse;
import com.rabbitmq.client.MessageProperties;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.SortedSet;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/** Queue length limits ({@code x-max-length}, {@code x-max-length-bytes}, {@code x-overflow}) through the Java client. */
class QueueLengthLimitTest extends SharedBrokerTest {
    @Test
    void dropHeadKeepsTheNewestMessages() throws Exception {
        ch.queueDeclare("limit-drop-head", true, false, false, Map.of("x-max-length", 3));
        ch.confirmSelect();
        for (int i = 1; i <= 10; i++) {
            ch.basicPublish("", "limit-drop-head", MessageProperties.PERSISTENT_BASIC, body("m" + i));
        }
        // drop-head never refuses a publish: every confirm is an ack.
        assertThat(ch.waitForConfirms(10_000)).isTrue();

        assertThat(drain("limit-drop-head")).containsExactly("m8", "m9", "m10");
    }

    @Test
    void aRequeueOverTheLimitDropsTheHeadWhichIsTheRequeuedMessage() throws Exception {
        ch.queueDeclare("limit-requeue", false, false, false, Map.of("x-max-length", 2));
        ch.basicPublish("", "limit-requeue", null, body("a"));
        GetResponse a = ch.basicGet("limit-requeue", false);
        ch.basicPublish("", "limit-requeue", null, body("b"));
        ch.basicPublish("", "limit-requeue", null, body("c"));

        ch.basicNack(a.getEnvelope().getDeliveryTag(), false, true);

        assertThat(drain("limit-requeue")).as("a is back at the head, and drop-head takes it").containsExactly("b", "c");
    }

    @Test
    void aRequeueOverTheLimitDeadLettersTheHeadAsMaxlen() throws Exception {
        ch.queueDeclare("limit-requeue-dlq", false, false, false, null);
        ch.queueDeclare("limit-requeue-dlx", false, false, false, Map.of("x-max-length", 1,
                "x-dead-letter-exchange", "", "x-dead-letter-routing-key", "limit-requeue-dlq"));
        ch.basicPublish("", "limit-requeue-dlx", null, body("a"));
        GetResponse a = ch.basicGet("limit-requeue-dlx", false);
        ch.basicPublish("", "limit-requeue-dlx", null, body("b"));

        ch.basicReject(a.getEnvelope().getDeliveryTag(), true);

        assertThat(drain("limit-requeue-dlx")).containsExactly("b");
        GetResponse dead = ch.basicGet("limit-requeue-dlq", true);
        assertThat(new String(dead.getBody(), StandardCharsets.UTF_8)).isEqualTo("a");
        assertThat(dead.getProps().getHeaders().get("x-first-death-reason")).hasToString("maxlen");
    }

    @Test
    void rejectPublishNacksWhileTheQueueIsFull() throws Exception {
        ch.queueDeclare("limit-reject", true, false, false,
                Map.of("x-max-length", 2, "x-overflow", "reject-publish"));
        SortedSet<Long> nacked = Collections.synchronizedSortedSet(new TreeSet<>());
        ch.addConfirmListener((tag, multiple) -> {}, (tag, multiple) -> nacked.add(tag));
        ch.confirmSelect();
        for (int i = 1; i <= 5; i++) {
            ch.basicPublish("", "limit-reject", MessageProperties.PERSISTENT_BASIC, body("m" + i));
        }

        assertThat(ch.waitForConfirms(10_000)).isFalse();
        await().atMost(Duration.ofSeconds(5)).until(() -> nacked.size() == 3);
        assertThat(nacked).containsExactly(3L, 4L, 5L);
        assertThat(ch.queueDeclarePassive("limit-reject").getMessageCount()).isEqualTo(2);
        assertThat(drain("limit-reject")).containsExactly("m1", "m2");
    }

    @Test
    void rejectPublishWithoutConfirmsDropsSilentlyAndMandatoryGetsNoReturn() throws Exception {
        ch.queueDeclare("limit-reject-quiet", false, false, false,
                Map.of("x-max-length", 1, "x-overflow", "reject-publish-dlx"));
        List<String> returned = Collections.synchronizedList(new ArrayList<>());
        ch.addReturnListener(r -> returned.add(new String(r.getBody(), StandardCharsets.UTF_8)));
        ch.basicPublish("", "limit-reject-quiet", true, MessageProperties.BASIC, body("kept"));
        ch.basicPublish("", "limit-reject-quiet", true, MessageProperties.BASIC, body("refused"));
        ch.basicPublish("", "no-such-queue", true, MessageProperties.BASIC, body("unroutable"));

        await().atMost(Duration.ofSeconds(5)).until(() -> returned.size() == 1);
        assertThat(returned).containsExactly("unroutable");
        assertThat(drain("limit-reject-quiet")).containsExactly("kept");
        assertThat(ch.isOpen()).isTrue();
    }

    @Test
    void bytesLimitCountsMessageBodies() throws Exception {
        ch.queueDeclare("limit-bytes", false, false, false, Map.of("x-max-length-bytes", 10));
        AMQP.BasicProperties withHeaders = new AMQP.BasicProperties.Builder()
                .headers(Map.of("padding", "x".repeat(200))).build();
        ch.confirmSelect();
        ch.basicPublish("", "limit-bytes", withHeaders, body("aaaa"));
        ch.basicPublish("", "limit-bytes", withHeaders, body("bbbb"));
        ch.basicPublish("", "limit-bytes", withHeaders, body("cccc"));
        assertThat(ch.waitForConfirms(10_000)).isTrue();

        assertThat(drain("limit-bytes")).containsExactly("bbbb", "cccc");
    }

    @Test
    void limitsSurviveARestart() throws Exception {
        ch.queueDeclare("limit-durable", true, false, false, Map.of("x-max-length", 2));
        ch.queueDeclare("limit-durable-reject", true, false, false,
                Map.of("x-max-length-bytes", 6, "x-overflow", "reject-publish"));
        ch.confirmSelect();
        for (int i = 1; i <= 4; i++) {
            ch.basicPublish("", "limit-durable", MessageProperties.PERSISTENT_BASIC, body("m" + i));
        }
        ch.basicPublish("", "limit-durable-reject", MessageProperties.PERSISTENT_BASIC, body("abc"));
        assertThat(ch.waitForConfirms(10_000)).isTrue();
        conn.close();

        broker.restart();
        conn = broker.connect();
        ch = conn.createChannel();
        // The dropped messages stayed dropped; the limit is still there.
        assertThat(ch.queueDeclarePassive("limit-durable").getMessageCount()).isEqualTo(2);
        ch.confirmSelect();
        ch.basicPublish("", "limit-durable", MessageProperties.PERSISTENT_BASIC, body("m5"));
        assertThat(ch.waitForConfirms(10_000)).isTrue();
        ch.basicPublish("", "limit-durable-reject", MessageProperties.PERSISTENT_BASIC, body("def"));
        assertThat(ch.waitForConfirms(10_000)).isTrue();
        ch.basicPublish("", "limit-durable-reject", MessageProperties.PERSISTENT_BASIC, body("g"));
        assertThat(ch.waitForConfirms(10_000)).isFalse();

        assertThat(drain("limit-durable")).containsExactly("m4", "m5");
        assertThat(drain("limit-durable-reject")).containsExactly("abc", "def");
    }

    /** Takes every ready message with basic.get (auto-ack); returns their bodies in order. */
    private List<String> drain(String queue) throws IOException {
        List<String> out = new ArrayList<>();
        for (GetResponse r = ch.basicGet(queue, true); r != null; r = ch.basicGet(queue, true)) {
            out.add(new String(r.getBody(), StandardCharsets.UTF_8));
        }
        return out;
    }

    private static byte[] body(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
