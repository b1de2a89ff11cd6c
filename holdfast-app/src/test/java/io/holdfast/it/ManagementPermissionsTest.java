package io.holdfast.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The management API as RabbitMQ's plugin authorises it, through a real HTTP client, with a user of each tag:
 * a {@code management} user sees and changes only the vhosts they have permissions in, each operation checked
 * against their configure / write / read expressions as the AMQP method would be; {@code monitoring} reads
 * every vhost and changes nothing there without permissions; {@code administrator} reads everything but its
 * changes in a vhost still need permissions there; a user without a management tag gets nothing. Every
 * refusal is RabbitMQ's 401 {@code not_authorised} with its reason, and changes nothing.
 */
class ManagementPermissionsTest extends SharedBrokerTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String MGMT = "mp-mgmt";
    private static final String A = "/api/%s/mp-a";
    private static final String B = "/api/%s/mp-b";

    private static HttpResponse<String> as(String user, String method, String path, String body) throws Exception {
        return Management.request(broker, method, path, user, "pw-" + user, body);
    }

    private static HttpResponse<String> guest(String method, String path, String body) throws Exception {
        HttpResponse<String> r = Management.request(broker, method, path, "guest", "guest", body);
        assertThat(r.statusCode()).as("%s %s: %s", method, path, r.body()).isLessThan(300);
        return r;
    }

    private static void user(String name, String tags) throws Exception {
        guest("PUT", "/api/users/" + name, "{\"password\":\"pw-" + name + "\",\"tags\":\"" + tags + "\"}");
    }

    /** Asserts RabbitMQ's refusal of a logged-in user: 401, {@code not_authorised}, and the reason. */
    private static void refused(HttpResponse<String> r, String reason) throws Exception {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(401);
        JsonNode body = JSON.readTree(r.body());
        assertThat(body.get("error").asText()).isEqualTo("not_authorised");
        assertThat(body.get("reason").asText()).isEqualTo(reason);
        assertThat(r.headers().firstValue("WWW-Authenticate")).isEmpty();
    }

    private static List<String> field(HttpResponse<String> r, String name) throws Exception {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        List<String> out = new ArrayList<>();
        JSON.readTree(r.body()).forEach(n -> out.add(n.get(name).asText()));
        return out;
    }

    private static boolean queueExists(String vhost, String name) throws Exception {
        return Management.request(broker, "GET", "/api/queues/" + vhost + "/" + name).statusCode() == 200;
    }

    @BeforeAll
    static void users() throws Exception {
        guest("PUT", "/api/vhosts/mp-a", null);
        guest("PUT", "/api/vhosts/mp-b", null);
        guest("PUT", "/api/permissions/mp-a/guest", "{\"configure\":\".*\",\"write\":\".*\",\"read\":\".*\"}");
        guest("PUT", "/api/permissions/mp-b/guest", "{\"configure\":\".*\",\"write\":\".*\",\"read\":\".*\"}");
        guest("PUT", "/api/queues/mp-a/mp-other", "{}");
        guest("PUT", "/api/queues/mp-b/mp-hidden", "{}");
        user(MGMT, "management");
        guest("PUT", "/api/permissions/mp-a/" + MGMT, "{\"configure\":\"^mp-own\",\"write\":\"^mp-own|amq.default\","
                + "\"read\":\"^mp-own\"}");
        user("mp-policy", "policymaker");
        guest("PUT", "/api/permissions/mp-b/mp-policy", "{\"configure\":\".*\",\"write\":\".*\",\"read\":\".*\"}");
        user("mp-monitor", "monitoring");
        user("mp-admin", "administrator");
        user("mp-none", "");
        guest("PUT", "/api/permissions/mp-a/mp-none", "{\"configure\":\".*\",\"write\":\".*\",\"read\":\".*\"}");
    }

    @Test
    void aUserWithoutAManagementTagGetsNothing() throws Exception {
        refused(as("mp-none", "GET", "/api/whoami", null), "Not management user");
        refused(as("mp-none", "GET", "/api/queues/mp-a", null), "Not management user");
        refused(as("mp-none", "PUT", "/api/queues/mp-a/mp-none-q", "{}"), "Not management user");
        assertThat(queueExists("mp-a", "mp-none-q")).isFalse();
    }

    @Test
    void aManagementUserSeesOnlyTheVhostsItHasPermissionsIn() throws Exception {
        HttpResponse<String> me = as(MGMT, "GET", "/api/whoami", null);
        assertThat(me.statusCode()).isEqualTo(200);
        assertThat(JSON.readTree(me.body()).get("name").asText()).isEqualTo(MGMT);
        assertThat(field(as(MGMT, "GET", "/api/vhosts", null), "name")).containsExactly("mp-a");
        assertThat(field(as(MGMT, "GET", "/api/queues", null), "vhost")).isNotEmpty().containsOnly("mp-a");
        assertThat(field(as(MGMT, "GET", "/api/exchanges", null), "vhost")).isNotEmpty().containsOnly("mp-a");
        assertThat(field(as(MGMT, "GET", "/api/bindings", null), "vhost")).isNotEmpty().containsOnly("mp-a");
        assertThat(field(as(MGMT, "GET", String.format(A, "queues"), null), "name")).contains("mp-other");
        refused(as(MGMT, "GET", String.format(B, "queues"), null), "User not authorised to access virtual host");
        refused(as(MGMT, "GET", "/api/queues/mp-b/mp-hidden", null), "User not authorised to access virtual host");
        refused(as(MGMT, "GET", "/api/vhosts/mp-b", null), "User not authorised to access virtual host");
        refused(as(MGMT, "GET", "/api/users", null), "Not administrator user");
        // A vhost that does not exist is the route's 404, as RabbitMQ.
        assertThat(as(MGMT, "GET", "/api/queues/mp-nowhere", null).statusCode()).isEqualTo(404);
    }

    @Test
    void aManagementUserChangesOnlyWhatItsExpressionsAllow() throws Exception {
        assertThat(as(MGMT, "PUT", "/api/queues/mp-a/mp-own-1", "{\"durable\":true}").statusCode()).isEqualTo(201);
        refused(as(MGMT, "PUT", "/api/queues/mp-a/theirs", "{}"),
                "ACCESS_REFUSED - configure access to queue 'theirs' in vhost 'mp-a' refused for user 'mp-mgmt'");
        assertThat(queueExists("mp-a", "theirs")).isFalse();
        refused(as(MGMT, "PUT", "/api/queues/mp-b/mp-own-1", "{}"), "User not authorised to access virtual host");
        assertThat(queueExists("mp-b", "mp-own-1")).isFalse();
        refused(as(MGMT, "DELETE", "/api/queues/mp-a/mp-other", null),
                "ACCESS_REFUSED - configure access to queue 'mp-other' in vhost 'mp-a' refused for user 'mp-mgmt'");
        assertThat(queueExists("mp-a", "mp-other")).isTrue();
        assertThat(as(MGMT, "PUT", "/api/exchanges/mp-a/mp-own-x", "{\"type\":\"direct\"}").statusCode()).isEqualTo(201);
        refused(as(MGMT, "PUT", "/api/exchanges/mp-a/x-theirs", "{\"type\":\"direct\"}"),
                "ACCESS_REFUSED - configure access to exchange 'x-theirs' in vhost 'mp-a' refused for user 'mp-mgmt'");
        assertThat(as(MGMT, "DELETE", "/api/queues/mp-a/mp-own-1", null).statusCode()).isEqualTo(204);
    }

    @Test
    void publishNeedsWriteAndGetAndPurgeNeedRead() throws Exception {
        guest("PUT", "/api/queues/mp-a/mp-own-2", "{}");
        String publish = "{\"properties\":{},\"routing_key\":\"%s\",\"payload\":\"hi\",\"payload_encoding\":\"string\"}";
        HttpResponse<String> ok = as(MGMT, "POST", "/api/exchanges/mp-a/amq.default/publish",
                String.format(publish, "mp-own-2"));
        assertThat(ok.statusCode()).as(ok.body()).isEqualTo(200);
        assertThat(JSON.readTree(ok.body()).get("routed").asBoolean()).isTrue();
        refused(as(MGMT, "POST", "/api/exchanges/mp-a/amq.direct/publish", String.format(publish, "mp-own-2")),
                "ACCESS_REFUSED - write access to exchange 'amq.direct' in vhost 'mp-a' refused for user 'mp-mgmt'");
        String get = "{\"count\":5,\"ackmode\":\"ack_requeue_false\",\"encoding\":\"auto\"}";
        HttpResponse<String> got = as(MGMT, "POST", "/api/queues/mp-a/mp-own-2/get", get);
        assertThat(field(got, "payload")).containsExactly("hi");
        guest("POST", "/api/exchanges/mp-a/amq.default/publish", String.format(publish, "mp-other"));
        refused(as(MGMT, "POST", "/api/queues/mp-a/mp-other/get", get),
                "ACCESS_REFUSED - read access to queue 'mp-other' in vhost 'mp-a' refused for user 'mp-mgmt'");
        refused(as(MGMT, "DELETE", "/api/queues/mp-a/mp-other/contents", null),
                "ACCESS_REFUSED - read access to queue 'mp-other' in vhost 'mp-a' refused for user 'mp-mgmt'");
        assertThat(JSON.readTree(guest("GET", "/api/queues/mp-a/mp-other", null).body()).get("messages").asInt())
                .isEqualTo(1);
    }

    @Test
    void bindingNeedsWriteOnTheDestinationAndReadOnTheSource() throws Exception {
        guest("PUT", "/api/queues/mp-a/mp-own-3", "{}");
        guest("PUT", "/api/exchanges/mp-a/mp-own-src", "{\"type\":\"direct\"}");
        refused(as(MGMT, "POST", "/api/bindings/mp-a/e/amq.direct/q/mp-own-3", "{\"routing_key\":\"k\"}"),
                "ACCESS_REFUSED - read access to exchange 'amq.direct' in vhost 'mp-a' refused for user 'mp-mgmt'");
        refused(as(MGMT, "POST", "/api/bindings/mp-a/e/mp-own-src/q/mp-other", "{\"routing_key\":\"k\"}"),
                "ACCESS_REFUSED - write access to queue 'mp-other' in vhost 'mp-a' refused for user 'mp-mgmt'");
        HttpResponse<String> made = as(MGMT, "POST", "/api/bindings/mp-a/e/mp-own-src/q/mp-own-3",
                "{\"routing_key\":\"k\"}");
        assertThat(made.statusCode()).as(made.body()).isEqualTo(201);
        assertThat(field(as(MGMT, "GET", "/api/bindings/mp-a/e/mp-own-src/q/mp-own-3", null), "routing_key"))
                .containsExactly("k");
        assertThat(as(MGMT, "DELETE", "/api/bindings/mp-a/e/mp-own-src/q/mp-own-3/k", null).statusCode())
                .isEqualTo(204);
    }

    @Test
    void monitoringReadsEveryVhostButChangesNoneWithoutPermissions() throws Exception {
        assertThat(field(as("mp-monitor", "GET", "/api/vhosts", null), "name")).contains("/", "mp-a", "mp-b");
        assertThat(field(as("mp-monitor", "GET", String.format(B, "queues"), null), "name")).contains("mp-hidden");
        refused(as("mp-monitor", "PUT", "/api/queues/mp-b/mp-mon-q", "{}"), "User not authorised to access virtual host");
        refused(as("mp-monitor", "DELETE", "/api/queues/mp-b/mp-hidden", null),
                "User not authorised to access virtual host");
        assertThat(queueExists("mp-b", "mp-hidden")).isTrue();
        refused(as("mp-monitor", "GET", "/api/permissions", null), "Not administrator user");
    }

    @Test
    void aPolicymakerIsAManagementUserInItsVhosts() throws Exception {
        assertThat(field(as("mp-policy", "GET", "/api/vhosts", null), "name")).containsExactly("mp-b");
        assertThat(as("mp-policy", "PUT", "/api/queues/mp-b/mp-policy-q", "{}").statusCode()).isEqualTo(201);
        refused(as("mp-policy", "PUT", "/api/queues/mp-a/mp-policy-q", "{}"), "User not authorised to access virtual host");
        // Holdfast has no policies (README says so): the endpoints a policymaker would use are not there.
        assertThat(as("mp-policy", "GET", "/api/policies/mp-b", null).statusCode()).isEqualTo(404);
        assertThat(as("mp-policy", "PUT", "/api/policies/mp-b/p", "{\"pattern\":\".*\",\"definition\":{}}")
                .statusCode()).isEqualTo(404);
    }

    @Test
    void anAdministratorReadsEverythingButChangesAVhostOnlyWithPermissionsThere() throws Exception {
        assertThat(field(as("mp-admin", "GET", String.format(B, "queues"), null), "name")).contains("mp-hidden");
        refused(as("mp-admin", "PUT", "/api/queues/mp-b/mp-admin-q", "{}"),
                "ACCESS_REFUSED - configure access to queue 'mp-admin-q' in vhost 'mp-b' refused for user 'mp-admin'");
        assertThat(queueExists("mp-b", "mp-admin-q")).isFalse();
        guest("PUT", "/api/permissions/mp-b/mp-admin", "{\"configure\":\".*\",\"write\":\".*\",\"read\":\".*\"}");
        assertThat(as("mp-admin", "PUT", "/api/queues/mp-b/mp-admin-q", "{}").statusCode()).isEqualTo(201);
    }

    @Test
    void aManagementUserSeesAndClosesOnlyItsOwnConnections() throws Exception {
        try (Connection mine = managementUsersConnection()) {
            List<String> all = field(guest("GET", "/api/connections", null), "name");
            List<String> seen = field(as(MGMT, "GET", "/api/connections", null), "user");
            assertThat(seen).containsOnly(MGMT).hasSize(1);
            assertThat(all.size()).isGreaterThan(1);
            String theirs = null;
            for (JsonNode c : JSON.readTree(guest("GET", "/api/connections", null).body())) {
                if (!c.get("user").asText().equals(MGMT)) {
                    theirs = c.get("name").asText();
                }
            }
            String path = "/api/connections/" + segment(theirs);
            refused(as(MGMT, "DELETE", path, null), "User not authorised to access object");
            refused(as("mp-monitor", "DELETE", path, null), "User not authorised to access object");
            assertThat(conn.isOpen()).isTrue();
            assertThat(mine.isOpen()).isTrue();
        }
    }

    /** As RabbitMQ's is_authorized_user: another user's connection or channel, asked for by name, is 401, not 404. */
    @Test
    void anotherUsersConnectionByNameIsNotAuthorisedForAManagementUser() throws Exception {
        try (Connection mine = managementUsersConnection()) {
            mine.createChannel();
            String own = null;
            String theirs = null;
            for (JsonNode c : JSON.readTree(guest("GET", "/api/connections", null).body())) {
                if (c.get("user").asText().equals(MGMT)) {
                    own = c.get("name").asText();
                } else if (c.get("user").asText().equals("guest")) {
                    theirs = c.get("name").asText();
                }
            }
            assertThat(own).isNotNull();
            assertThat(theirs).isNotNull();
            HttpResponse<String> ownOne = as(MGMT, "GET", "/api/connections/" + segment(own), null);
            assertThat(ownOne.statusCode()).as(ownOne.body()).isEqualTo(200);
            assertThat(JSON.readTree(ownOne.body()).get("user").asText()).isEqualTo(MGMT);
            assertThat(field(as(MGMT, "GET", "/api/connections/" + segment(own) + "/channels", null), "user"))
                    .containsExactly(MGMT);
            refused(as(MGMT, "GET", "/api/connections/" + segment(theirs), null), "User not authorised to access object");
            refused(as(MGMT, "GET", "/api/connections/" + segment(theirs) + "/channels", null),
                    "User not authorised to access object");
            refused(as(MGMT, "GET", "/api/channels/" + segment(theirs + " (1)"), null),
                    "User not authorised to access object");
            HttpResponse<String> monitored = as("mp-monitor", "GET", "/api/connections/" + segment(theirs), null);
            assertThat(monitored.statusCode()).as(monitored.body()).isEqualTo(200);
            assertThat(JSON.readTree(monitored.body()).get("user").asText()).isEqualTo("guest");
            assertThat(as(MGMT, "GET", "/api/connections/" + segment("127.0.0.1:1 -> 127.0.0.1:2"), null).statusCode())
                    .isEqualTo(404);
        }
    }

    /**
     * As RabbitMQ's overview for a user without monitoring: queue_totals, object_totals and message_stats count only
     * the vhosts the user has permissions in; a monitor's count every vhost.
     */
    @Test
    void overviewTotalsCountOnlyTheVhostsAManagementUserSees() throws Exception {
        String publish = "{\"properties\":{},\"routing_key\":\"%s\",\"payload\":\"x\",\"payload_encoding\":\"string\"}";
        guest("POST", "/api/exchanges/mp-b/amq.default/publish", String.format(publish, "mp-hidden"));
        guest("PUT", "/api/queues/mp-a/mp-overview", "{}");
        guest("POST", "/api/exchanges/mp-a/amq.default/publish", String.format(publish, "mp-overview"));
        JsonNode mine = JSON.readTree(as(MGMT, "GET", "/api/overview", null).body());
        JsonNode all = JSON.readTree(as("mp-monitor", "GET", "/api/overview", null).body());
        JsonNode queuesA = JSON.readTree(guest("GET", String.format(A, "queues"), null).body());
        long messagesA = 0;
        long publishedA = 0;
        for (JsonNode q : queuesA) {
            messagesA += q.get("messages").asLong();
            publishedA += q.get("message_stats").get("publish").asLong();
        }
        assertThat(mine.get("object_totals").get("queues").asInt()).isEqualTo(queuesA.size());
        assertThat(mine.get("object_totals").get("exchanges").asInt())
                .isEqualTo(JSON.readTree(guest("GET", String.format(A, "exchanges"), null).body()).size());
        assertThat(mine.get("object_totals").get("connections").asInt())
                .isLessThan(all.get("object_totals").get("connections").asInt());
        assertThat(mine.get("queue_totals").get("messages").asLong()).isEqualTo(messagesA).isPositive();
        // The publish into mp-b's queue is not in it: only mp-a's queues are summed.
        assertThat(mine.get("message_stats").get("publish").asLong()).isEqualTo(publishedA).isPositive();
        assertThat(mine.get("message_stats").has("confirm")).isFalse();
        assertThat(all.get("object_totals").get("queues").asInt())
                .isEqualTo(JSON.readTree(guest("GET", "/api/queues", null).body()).size());
        assertThat(all.get("queue_totals").get("messages").asLong()).isGreaterThan(messagesA);
        assertThat(all.get("message_stats").has("confirm")).isTrue(); // the broker-wide counters
    }

    /** An AMQP connection of the management user, to its vhost mp-a. */
    private static Connection managementUsersConnection() throws Exception {
        ConnectionFactory f = broker.factory();
        f.setUsername(MGMT);
        f.setPassword("pw-" + MGMT);
        f.setVirtualHost("mp-a");
        return f.newConnection();
    }

    private static String segment(String name) {
        return java.net.URLEncoder.encode(name, java.nio.charset.StandardCharsets.UTF_8).replace("+", "%20");
    }
}
