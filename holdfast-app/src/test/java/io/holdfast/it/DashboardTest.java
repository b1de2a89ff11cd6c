package io.holdfast.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 11 item 6: the web dashboard, loaded in a real headless Chromium against a broker with traffic (two queues
 * with messages, some unacked under a consumer, a third whose journal has a corrupt record) and logged in on its
 * form; the numbers it shows are the API's. Screenshots go to {@code target/dashboard-screenshots/}. Needs
 * Debian's {@code chromium} (CI installs it); without it the test fails saying so, rather than pass unseen.
 */
class DashboardTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Path SCREENSHOTS = Path.of("target", "dashboard-screenshots");
    private static final Duration SHOWN = Duration.ofSeconds(15);
    private static final AMQP.BasicProperties PERSISTENT = new AMQP.BasicProperties.Builder().deliveryMode(2).build();

    @TempDir
    static Path dir;
    static RunningBroker broker;
    static Connection publisher;
    static Channel publish;
    static Connection consumer;
    static Chromium chromium;

    @BeforeAll
    static void start() throws Exception {
        try (RunningBroker first = RunningBroker.start(dir); Connection c = first.connect()) {
            Channel ch = c.createChannel();
            ch.queueDeclare("dash-damaged", true, false, false, null);
            ch.confirmSelect();
            for (int i = 0; i < 5; i++) {
                ch.basicPublish("", "dash-damaged", PERSISTENT, ("m" + i).getBytes(StandardCharsets.UTF_8));
            }
            ch.waitForConfirmsOrDie(10_000);
        }
        JournalFiles.corruptRecord(dir.resolve("journal"), 2);
        broker = RunningBroker.start(dir);
        publisher = broker.connect();
        publish = publisher.createChannel();
        publish.queueDeclare("dash-a", false, false, false, null);
        publish.queueDeclare("dash-b", false, false, false, null);
        publishTo("dash-a", 7);
        publishTo("dash-b", 5);
        publish.queueDeclare("dash-poison", false, false, false, Map.of("x-delivery-limit", 0));
        publishTo("dash-poison", 2);
        for (int i = 0; i < 2; i++) { // past the limit at once: both go to holdfast.quarantine
            publish.basicNack(publish.basicGet("dash-poison", false).getEnvelope().getDeliveryTag(), false, true);
        }
        assertThat(publish.queueDeclarePassive("holdfast.quarantine").getMessageCount()).isEqualTo(2);
        consumer = broker.connect();
        Channel c = consumer.createChannel();
        c.basicQos(3);
        c.basicConsume("dash-b", false, (tag, delivery) -> { }, tag -> { }); // never acks: 3 stay unacked
        await().atMost(SHOWN).until(() -> api("/api/queues/%2F/dash-b").get("messages_unacknowledged").asInt() == 3);
        chromium = Chromium.start(dir.resolve("chromium-profile"));
    }

    @AfterAll
    static void stop() throws Exception {
        try {
            if (chromium != null) {
                assertThat(chromium.scriptErrors).as("exceptions thrown by the dashboard's script").isEmpty();
                chromium.close();
            }
        } finally {
            consumer.abort();
            publisher.abort();
            broker.close();
        }
    }

    @AfterEach
    void closeTabs() throws Exception {
        chromium.closeTabs();
    }

    private static void publishTo(String queue, int messages) throws Exception {
        publish.confirmSelect();
        for (int i = 0; i < messages; i++) {
            publish.basicPublish("", queue, null, ("x" + i).getBytes(StandardCharsets.UTF_8));
        }
        publish.waitForConfirmsOrDie(10_000);
    }

    private static JsonNode api(String path) throws Exception {
        HttpResponse<String> r = Management.request(broker, "GET", path);
        assertThat(r.statusCode()).as("%s: %s", path, r.body()).isIn(200, 503);
        return JSON.readTree(r.body());
    }

    /** What the page shows for an API number: the number, or "–" where the API has no such field. */
    private static String shown(JsonNode value) {
        return value.isMissingNode() || value.isNull() ? "–" : value.asText();
    }

    private static String url() {
        return "http://127.0.0.1:" + broker.managementPort() + "/?refresh=1";
    }

    /** A new tab (its own sessionStorage), logged in on the dashboard's form as guest. */
    private static Chromium.Tab loggedIn() throws Exception {
        Chromium.Tab tab = chromium.open();
        tab.navigate(url());
        logIn(tab, "guest", "guest");
        await("logged in: the menu shown, the form gone").atMost(SHOWN).until(() -> tab.evaluate(
                "document.getElementById('nav').checkVisibility()"
                        + " && !document.getElementById('login').checkVisibility()").asBoolean());
        return tab;
    }

    private static void logIn(Chromium.Tab tab, String user, String password) throws Exception {
        await("login form").atMost(SHOWN).until(() -> tab.evaluate(
                "document.getElementById('login').checkVisibility()").asBoolean());
        tab.evaluate("(() => { const f = document.getElementById('login'); f.username.value = "
                + JSON.writeValueAsString(user) + "; f.password.value = " + JSON.writeValueAsString(password)
                + "; f.requestSubmit(); })()");
    }

    private static void awaitShown(Chromium.Tab tab, String selector, String expected) {
        await(selector + " shows " + expected).atMost(SHOWN).untilAsserted(() ->
                assertThat(tab.text(selector)).as(selector).isEqualTo(expected));
    }

    @Test
    void overviewShowsTheApisTotalsAndAlarmsAndAcknowledgesDamage() throws Exception {
        Chromium.Tab tab = loggedIn();
        JsonNode overview = api("/api/overview");
        for (String f : new String[] {"queue_totals.messages", "queue_totals.messages_ready",
                "queue_totals.messages_unacknowledged", "object_totals.connections", "object_totals.channels",
                "object_totals.queues", "object_totals.exchanges", "object_totals.consumers"}) {
            String[] at = f.split("\\.");
            awaitShown(tab, "[data-field='" + f + "']", shown(overview.path(at[0]).path(at[1])));
        }
        assertThat(tab.text("[data-field='queue_totals.messages_unacknowledged']")).isEqualTo("3");
        if (overview.has("message_stats")) { // a rate moves between two reads: check its form
            String form = overview.path("message_stats").has("publish_details") ? "\\d+\\.\\d/s" : "–";
            await().atMost(SHOWN).untilAsserted(() -> assertThat(tab.text(
                    "[data-field='message_stats.publish_details']")).matches(form));
        } else {
            assertThat(tab.text("[data-field='message_stats']")).contains("does not report message rates");
        }
        assertThat(tab.text("[data-field='alarms']")).isEqualTo("none");
        JsonNode health = api("/api/health");
        assertThat(health.get("status").asText()).isEqualTo("degraded");
        awaitShown(tab, "[data-field='health.status']", "degraded");
        assertThat(tab.text("[data-field='health.corrupt_records_skipped']")).isEqualTo("1");
        assertThat(tab.text("[data-field='health.damage']")).isEqualTo(health.get("damage").get(0).asText());
        tab.screenshot(SCREENSHOTS.resolve("overview.png"));

        tab.evaluate("document.getElementById('acknowledge').click()");
        awaitShown(tab, "[data-field='health.status']", "ok");
        assertThat(api("/api/health").get("acknowledged").asBoolean()).isTrue();
        assertThat(tab.text("#acknowledge")).isNull();
    }

    @Test
    void queueListShowsEachQueueAsTheApiDoes() throws Exception {
        Chromium.Tab tab = loggedIn();
        tab.evaluate("location.hash = '#/queues'");
        JsonNode queues = api("/api/queues");
        assertThat(queues.size()).isGreaterThanOrEqualTo(3);
        for (JsonNode q : queues) {
            String row = "[data-queue='" + q.get("vhost").asText() + "/" + q.get("name").asText() + "'] ";
            for (String f : new String[] {"name", "vhost", "type", "state", "messages_ready",
                    "messages_unacknowledged", "consumers", "messages_held"}) {
                awaitShown(tab, row + "[data-field='" + f + "']", shown(q.path(f)));
            }
        }
        assertThat(tab.text("[data-queue='//dash-b'] [data-field='messages_ready']")).isEqualTo("2");
        tab.screenshot(SCREENSHOTS.resolve("queues.png"));
    }

    @Test
    void queuePageSamplesDepthWhileOpenAndShowsConsumers() throws Exception {
        Chromium.Tab tab = loggedIn();
        tab.evaluate("location.hash = '#/queues'");
        await().atMost(SHOWN).until(() -> tab.text("[data-queue='//dash-b'] a") != null);
        tab.evaluate("document.querySelector(\"[data-queue='//dash-b'] a\").click()");
        awaitShown(tab, "[data-field='queue.name']", "dash-b");
        JsonNode q = api("/api/queues/%2F/dash-b");
        awaitShown(tab, "[data-field='messages_ready']", q.get("messages_ready").asText());
        assertThat(tab.text("[data-field='messages_unacknowledged']")).isEqualTo("3");
        assertThat(tab.text("[data-field='consumers']")).isEqualTo(q.get("consumers").asText()).isEqualTo("1");
        assertThat(tab.text("[data-field='messages_held']")).isEqualTo(q.get("messages_held").asText());
        assertThat(tab.text("[data-field='quarantine']")).as("the vhost's quarantine holds others' messages only")
                .isEqualTo("0");

        int before = q.get("messages_ready").asInt();
        publishTo("dash-b", 4);
        awaitShown(tab, "[data-field='messages_ready']", String.valueOf(before + 4));
        assertThat(api("/api/queues/%2F/dash-b").get("messages_ready").asInt()).isEqualTo(before + 4);
        await("depth samples").atMost(SHOWN).until(() ->
                tab.evaluate("Number(document.querySelector('svg.chart').dataset.samples)").asInt() >= 3);
        tab.screenshot(SCREENSHOTS.resolve("queue.png"));

        tab.evaluate("location.hash = '#/queues/%2F/dash-poison'");
        awaitShown(tab, "[data-field='queue.name']", "dash-poison");
        JsonNode fromPoison = api("/api/holdfast/quarantine/%2F?queue=dash-poison&limit=0");
        assertThat(fromPoison.get("messages_from_queue").asInt()).isEqualTo(2);
        awaitShown(tab, "[data-field='quarantine']", "2");
    }

    @Test
    void connectionsListShowsEachConnectionAsTheApiDoes() throws Exception {
        Chromium.Tab tab = loggedIn();
        tab.evaluate("location.hash = '#/connections'");
        JsonNode connections = api("/api/connections");
        assertThat(connections.size()).isEqualTo(2);
        for (JsonNode c : connections) {
            String row = "[data-connection='" + c.get("name").asText() + "'] ";
            awaitShown(tab, row + "[data-field='user']", c.get("user").asText());
            assertThat(tab.text(row + "[data-field='vhost']")).isEqualTo(c.get("vhost").asText());
            assertThat(tab.text(row + "[data-field='channels']")).isEqualTo(c.get("channels").asText());
        }
        assertThat(tab.evaluate("document.querySelectorAll('[data-connection]').length").asInt()).isEqualTo(2);
        tab.screenshot(SCREENSHOTS.resolve("connections.png"));
    }

    /**
     * Fields this broker does not report yet (rates, channel counts, the consumers API), added to the API's real
     * answers inside the page with RabbitMQ's shapes: the page shows them once the broker sends them.
     */
    @Test
    void fieldsTheBrokerAddsLaterAreShownWithoutAChangeToThePage() throws Exception {
        Chromium.Tab tab = chromium.open();
        tab.beforeEachDocument("""
                const realFetch = window.fetch;
                const stats = { publish_details: { rate: 12.5 }, deliver_get_details: { rate: 3 } };
                window.fetch = async (url, init) => {
                  if (url === 'api/consumers/%2F') {
                    return new Response(JSON.stringify([{ consumer_tag: 'amq.ctag-1', ack_required: true,
                      prefetch_count: 3, queue: { name: 'dash-b', vhost: '/' }, channel_details: { name: 'ch 1' } }]));
                  }
                  const r = await realFetch(url, init);
                  if (url !== 'api/overview' && url !== 'api/queues') {
                    return r;
                  }
                  const body = await r.json();
                  if (Array.isArray(body)) {
                    body.forEach(q => { q.message_stats = stats; });
                  } else {
                    body.message_stats = stats;
                    body.object_totals.channels = 4;
                  }
                  return new Response(JSON.stringify(body), { status: r.status });
                };
                """);
        tab.navigate(url());
        logIn(tab, "guest", "guest");
        awaitShown(tab, "[data-field='message_stats.publish_details']", "12.5/s");
        assertThat(tab.text("[data-field='message_stats.deliver_get_details']")).isEqualTo("3.0/s");
        assertThat(tab.text("[data-field='message_stats.ack_details']")).isEqualTo("–");
        assertThat(tab.text("[data-field='object_totals.channels']")).isEqualTo("4");
        tab.evaluate("location.hash = '#/queues'");
        awaitShown(tab, "[data-queue='//dash-a'] [data-field='publish_rate']", "12.5/s");
        tab.evaluate("location.hash = '#/queues/%2F/dash-b'");
        awaitShown(tab, "[data-field='consumer_tag']", "amq.ctag-1");
        assertThat(tab.text("[data-field='prefetch_count']")).isEqualTo("3");
    }

    @Test
    void aWrongPasswordIsRefusedPlainlyOnTheLoginForm() throws Exception {
        Chromium.Tab tab = chromium.open();
        tab.navigate(url());
        logIn(tab, "guest", "not-the-password");
        await().atMost(SHOWN).untilAsserted(() -> assertThat(tab.text("#error"))
                .isEqualTo("Login failed: GET /api/whoami: 401 Login failed"));
        assertThat(tab.evaluate("document.getElementById('nav').checkVisibility()").asBoolean()).isFalse();
        assertThat(tab.evaluate("document.getElementById('login').checkVisibility()").asBoolean()).isTrue();
        assertThat(tab.evaluate("document.getElementById('error').checkVisibility()").asBoolean()).isTrue();
        assertThat(tab.evaluate("sessionStorage.length").asInt()).isZero();
    }
}
