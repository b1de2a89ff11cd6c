package io.holdfast.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.rabbitmq.client.Connection;
import io.holdfast.app.Main;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Seeded fuzzing of what an administrator can type: the management API's users, vhosts, permissions and
 * limits (random names, regular expressions, JSON bodies of the wrong shape) and the same through
 * {@code holdfast ctl}'s arguments. Invariant: every HTTP answer is a 2xx, or a 4xx with a JSON reason, never a
 * 5xx; ctl exits 0 or with a usage/data error, never a software error or a Java exception; the broker logs
 * no error and goes on serving AMQP and HTTP.
 *
 * <p>The seed is printed; {@code -Dholdfast.fuzz.seed=N} replays it.
 */
class AccessFuzzTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int HTTP_OPERATIONS = 400;
    private static final int CTL_OPERATIONS = 120;
    private static final String[] NAME_PARTS = {"alice", "orders", "/", "%", "+", " ", "é", "名前", "..", "a/b", "*",
            "\\", "\"", "'", "{}", "?x=1", "#", ";", "\u0001", "\u007f", "CN=x,O=y"}; // never "guest": the fuzzer logs in as guest
    private static final String[] REGEXES = {".*", "", "^alice\\.", "(", "[", "*", "a{2,1}", "(?<n>x)\\k<n>",
            "\\", "^$", "[[:alpha:]]", "(a|b)+c?", "\\Q.*\\E", "x{99999}", "(?i)AMQ\\.default"};
    private static final String[] LIMITS = {"max-connections", "max-queues", "max-channels", "bogus", ""};

    @TempDir
    Path dataDir;

    private static String pick(Random r, String[] from) {
        return from[r.nextInt(from.length)];
    }

    private static String name(Random r) {
        if (r.nextInt(20) == 0) {
            return "n".repeat(200 + r.nextInt(100)); // around the 255-byte limit
        }
        StringBuilder b = new StringBuilder();
        for (int i = 1 + r.nextInt(3); i > 0; i--) {
            b.append(pick(r, NAME_PARTS));
        }
        return b.toString();
    }

    private static String seg(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }

    /** A JSON value of any shape, sometimes the expected one. */
    private static Object value(Random r, Object expected) {
        return switch (r.nextInt(8)) {
            case 0 -> r.nextInt(2000) - 1000;
            case 1 -> List.of(pick(r, REGEXES), r.nextBoolean());
            case 2 -> Map.of("nested", pick(r, REGEXES));
            case 3 -> r.nextBoolean();
            case 4 -> pick(r, REGEXES);
            default -> expected;
        };
    }

    private static String body(Random r, Map<String, Object> expected) throws Exception {
        switch (r.nextInt(10)) {
            case 0:
                return "";
            case 1:
                return "{\"unterminated\": ";
            case 2:
                return "[1, 2, 3]";
            case 3:
                return "null";
            default:
                Map<String, Object> m = new TreeMap<>();
                for (Map.Entry<String, Object> e : expected.entrySet()) {
                    if (r.nextInt(6) != 0) {
                        m.put(e.getKey(), value(r, e.getValue()));
                    }
                }
                if (r.nextInt(4) == 0) {
                    m.put(name(r), value(r, 1));
                }
                return JSON.writeValueAsString(m);
        }
    }

    private record Call(String method, String path, String body) {}

    private static Call httpCall(Random r) throws Exception {
        String user = name(r);
        String vhost = r.nextInt(3) == 0 ? "/" : name(r);
        Map<String, Object> permissions = Map.of("configure", pick(r, REGEXES), "write", pick(r, REGEXES), "read",
                pick(r, REGEXES));
        return switch (r.nextInt(9)) {
            case 0, 1 -> new Call("PUT", "/api/users/" + seg(user), body(r, Map.of("password", name(r), "tags",
                    r.nextBoolean() ? "administrator,monitoring" : "management")));
            case 2 -> new Call("PUT", "/api/vhosts/" + seg(vhost.equals("/") ? name(r) : vhost),
                    body(r, Map.of("description", name(r), "tags", "x")));
            case 3, 4 -> new Call("PUT", "/api/permissions/" + seg(vhost) + "/" + seg(user), body(r, permissions));
            case 5 -> new Call("PUT", "/api/vhost-limits/" + seg(vhost) + "/" + seg(pick(r, LIMITS)),
                    body(r, Map.of("value", r.nextInt(200) - 20)));
            case 6 -> new Call("PUT", "/api/user-limits/" + seg(user) + "/" + seg(pick(r, LIMITS)),
                    body(r, Map.of("value", r.nextInt(200) - 20)));
            case 7 -> new Call("DELETE", r.nextBoolean() ? "/api/users/" + seg(user)
                    : "/api/permissions/" + seg(vhost) + "/" + seg(user), null);
            default -> new Call("GET", pick(r, new String[] {"/api/users/" + seg(user), "/api/permissions",
                    "/api/vhost-limits/" + seg(vhost), "/api/users/" + seg(user) + "/permissions", "/api/audit"}), null);
        };
    }

    private static List<String> ctlArgs(Random r) {
        String user = name(r);
        String vhost = r.nextInt(3) == 0 ? "/" : name(r);
        List<String> a = new ArrayList<>(switch (r.nextInt(11)) {
            case 0 -> List.of("add_user", user, name(r));
            case 1 -> List.of("set_permissions", "-p", vhost, user, pick(r, REGEXES), pick(r, REGEXES), pick(r, REGEXES));
            case 2 -> List.of("set_user_tags", user, pick(r, NAME_PARTS), "administrator");
            case 3 -> List.of("add_vhost", vhost.equals("/") ? name(r) : vhost);
            case 4 -> List.of("set_vhost_limits", "-p", vhost, r.nextBoolean() ? "{\"max-queues\": "
                    + (r.nextInt(50) - 5) + "}" : pick(r, REGEXES));
            // Not authenticate_user: its wrong passwords would throttle every later call from 127.0.0.1.
            case 5 -> List.of("delete_user", user);
            case 6 -> List.of("clear_permissions", "-p", vhost, user);
            case 7 -> List.of("set_topic_permissions", "-p", vhost, user, name(r), pick(r, REGEXES), pick(r, REGEXES));
            case 8 -> List.of("clear_topic_permissions", "-p", vhost, user, name(r));
            case 9 -> List.of("clear_password", user);
            default -> List.of(r.nextBoolean() ? "list_user_permissions" : "list_user_topic_permissions", user);
        });
        if (r.nextInt(8) == 0) {
            a.remove(a.size() - 1); // a missing argument
        } else if (r.nextInt(8) == 0) {
            a.add(name(r)); // one too many
        }
        return a;
    }

    @Test
    void randomAccessControlInputGetsA2xxOrA4xxWithAReasonAndTheBrokerGoesOn() throws Exception {
        long seed = Long.getLong("holdfast.fuzz.seed", new Random().nextLong());
        System.out.println("AccessFuzzTest seed " + seed + " (replay: -Dholdfast.fuzz.seed=" + seed + ")");
        Random r = new Random(seed);
        try (BrokerErrorLog errors = BrokerErrorLog.attach(); RunningBroker b = RunningBroker.start(dataDir)) {
            Map<Integer, Integer> statuses = new TreeMap<>();
            for (int i = 0; i < HTTP_OPERATIONS; i++) {
                Call c = httpCall(r);
                HttpResponse<String> res = Management.request(b, c.method(), c.path(), "guest", "guest", c.body());
                String what = "seed " + seed + ", call " + i + ": " + c;
                statuses.merge(res.statusCode(), 1, Integer::sum);
                assertThat(res.statusCode()).as(what).isBetween(200, 499)
                        .matches(s -> s < 300 || s >= 400, "a 2xx or a 4xx");
                if (res.statusCode() >= 400) {
                    JsonNode reason = JSON.readTree(res.body());
                    assertThat(reason.path("reason").isTextual()).as(what + " -> " + res.body()).isTrue();
                }
            }
            Map<Integer, Integer> exits = new TreeMap<>();
            for (int i = 0; i < CTL_OPERATIONS; i++) {
                List<String> args = ctlArgs(r);
                StringWriter out = new StringWriter();
                StringWriter err = new StringWriter();
                List<String> all = new ArrayList<>(List.of("ctl", "--management-port",
                        String.valueOf(b.managementPort()), "-t", "5"));
                all.addAll(args);
                int code = new CommandLine(new Main()).setOut(new PrintWriter(out)).setErr(new PrintWriter(err))
                        .execute(all.toArray(String[]::new));
                String what = "seed " + seed + ", ctl " + args + " -> " + code + ": " + err;
                exits.merge(code, 1, Integer::sum);
                // 0 done, 2 picocli's usage error, 64 usage, 65 data (not found, refused as invalid)
                assertThat(code).as(what).isIn(0, 2, 64, 65);
                assertThat(err.toString()).as(what).doesNotContain("Exception");
            }
            System.out.printf("AccessFuzzTest seed %d: HTTP statuses %s, ctl exit codes %s%n", seed, statuses, exits);
            assertThat(statuses.keySet()).as("some calls are accepted, some refused").anyMatch(s -> s < 300)
                    .anyMatch(s -> s >= 400);
            try (Connection c = b.connect()) {
                assertThat(c.isOpen()).isTrue();
            }
            assertThat(Management.request(b, "GET", "/api/overview").statusCode()).isEqualTo(200);
            assertThat(errors.drain()).as("errors the broker logged (seed " + seed + ")").isEmpty();
        }
    }
}
