package io.holdfast.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.GetResponse;
import com.rabbitmq.client.MessageProperties;
import io.holdfast.it.RunningBroker;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code holdfast ctl}: rabbitmqctl's verbs, output and exit codes against a running broker. */
class CtlTest {
    @TempDir
    static Path dataDir;
    static RunningBroker broker;

    private String out;
    private String err;

    @BeforeAll
    static void start() throws Exception {
        broker = RunningBroker.start(dataDir);
        try (Connection c = broker.connect(); Channel ch = c.createChannel()) {
            ch.exchangeDeclare("events", "fanout", true);
            ch.queueDeclare("audit", true, false, false, Map.of("x-max-length", 100));
            ch.queueBind("audit", "events", "");
            ch.confirmSelect();
            for (int i = 0; i < 3; i++) {
                ch.basicPublish("events", "", MessageProperties.PERSISTENT_BASIC, ("e" + i).getBytes());
            }
            ch.waitForConfirmsOrDie(10_000);
        }
    }

    @AfterAll
    static void stop() throws Exception {
        broker.close();
    }

    private int ctl(int port, String... args) {
        StringWriter o = new StringWriter();
        StringWriter e = new StringWriter();
        List<String> all = new ArrayList<>(List.of("ctl", "--management-port", String.valueOf(port)));
        if (!List.of(args).contains("-t")) {
            all.addAll(List.of("-t", "5"));
        }
        all.addAll(List.of(args));
        int code = new CommandLine(new Main()).setOut(new PrintWriter(o)).setErr(new PrintWriter(e))
                .execute(all.toArray(String[]::new));
        out = o.toString();
        err = e.toString();
        return code;
    }

    private int ctl(String... args) {
        return ctl(broker.managementPort(), args);
    }

    @Test
    void listQueuesPrintsTheDefaultItemsUnderAHeaderAsRabbitmqctlDoes() {
        assertThat(ctl("list_queues")).isZero();
        assertThat(out).contains("Listing queues for vhost / ...\nname\tmessages\n").contains("audit\t3\n");
        assertThat(ctl("-q", "list_queues", "name", "durable", "arguments", "messages_ready")).isZero();
        assertThat(out).startsWith("name\tdurable\targuments\tmessages_ready\n")
                .contains("audit\ttrue\t[{\"x-max-length\",100}]\t3\n").doesNotContain("Listing");
    }

    @Test
    void purgeQueueAndDeleteQueueAsRabbitmqctlDoes() throws Exception {
        try (Connection c = broker.connect(); Channel ch = c.createChannel()) {
            ch.queueDeclare("ctl-work", true, false, false, null);
            ch.confirmSelect();
            for (int i = 0; i < 4; i++) {
                ch.basicPublish("", "ctl-work", MessageProperties.PERSISTENT_BASIC, "w".getBytes());
            }
            ch.waitForConfirmsOrDie(10_000);
            assertThat(ctl("delete_queue", "--if-empty", "ctl-work")).isEqualTo(64);
            assertThat(out).contains("Deleting queue 'ctl-work' on vhost '/' if queue is empty ...");
            assertThat(err).contains("Error: Queue is not empty");
            Channel consumer = c.createChannel();
            consumer.basicConsume("ctl-work", false, (t, d) -> { }, t -> { });
            assertThat(ctl("delete_queue", "--if-unused", "ctl-work")).isEqualTo(64);
            assertThat(err).contains("Error: Queue is in use");
            consumer.close(); // its unacked deliveries go back to the queue
            assertThat(ch.queueDeclarePassive("ctl-work").getMessageCount()).isEqualTo(4);

            assertThat(ctl("purge_queue", "ctl-work")).isZero();
            assertThat(out).contains("Purging queue 'ctl-work' in vhost '/' ...");
            assertThat(ch.queueDeclarePassive("ctl-work").getMessageCount()).isZero();
            ch.basicPublish("", "ctl-work", MessageProperties.PERSISTENT_BASIC, "w".getBytes());
            ch.waitForConfirmsOrDie(10_000);

            assertThat(ctl("delete_queue", "ctl-work")).isZero();
            assertThat(out).contains("Deleting queue 'ctl-work' on vhost '/' ...")
                    .contains("Queue was successfully deleted with 1 ready messages");
        }
        try (Connection c = broker.connect()) {
            Channel ch = c.createChannel();
            assertThat(ch.queueDeclare("ctl-work", true, false, false, null).getMessageCount())
                    .as("gone, so declared afresh").isZero();
            ch.queueDelete("ctl-work");
        }
        assertThat(ctl("purge_queue", "-p", "/", "ctl-missing")).isEqualTo(64);
        assertThat(err).contains("Error: Queue not found");
        assertThat(ctl("delete_queue", "ctl-missing")).isEqualTo(64);
        assertThat(err).contains("Error: Queue not found");
        assertThat(ctl("purge_queue", "-p", "no-vhost", "ctl-work")).isEqualTo(64);
    }

    @Test
    void exportAndImportDefinitions() throws Exception {
        Path file = dataDir.resolve("export.json");
        assertThat(ctl("export_definitions", file.toString())).isZero();
        assertThat(out).contains("Exporting definitions in JSON to a file at \"" + file + "\" ...");
        JsonNode exported = new ObjectMapper().readTree(Files.readString(file));
        assertThat(exported.get("queues")).anySatisfy(q -> assertThat(q.get("name").asText()).isEqualTo("audit"));
        assertThat(ctl("-q", "export_definitions", "-")).isZero();
        assertThat(new ObjectMapper().readTree(out).get("exchanges")).isNotEmpty();

        Path defs = dataDir.resolve("import.json");
        Files.writeString(defs, "{\"queues\":[{\"name\":\"ctl-imported\",\"vhost\":\"/\",\"durable\":true,"
                + "\"arguments\":{}}],\"bindings\":[{\"source\":\"events\",\"vhost\":\"/\",\"destination\":"
                + "\"ctl-imported\",\"destination_type\":\"queue\",\"routing_key\":\"\"}]}");
        assertThat(ctl("import_definitions", defs.toString())).isZero();
        assertThat(out).contains("Importing definitions in JSON from a file at \"" + defs + "\" ...")
                .contains("  1 queues\n  1 bindings\n").contains("Successfully imported definitions.");
        try (Connection c = broker.connect(); Channel ch = c.createChannel()) {
            assertThat(ch.queueDeclarePassive("ctl-imported").getQueue()).isEqualTo("ctl-imported");
            ch.queueDelete("ctl-imported");
        }
        Files.writeString(defs, "{\"queues\":[{\"name\":\"q\",\"vhost\":\"nowhere\"}]}");
        assertThat(ctl("import_definitions", defs.toString())).isEqualTo(65);
        assertThat(err).contains("Error: queues[0]: no vhost 'nowhere' in the broker or the file");
        assertThat(ctl("import_definitions", dataDir.resolve("missing.json").toString())).isEqualTo(66);
    }

    @Test
    void importOfADefinitionsFileOverOneMebibyteImportsAndShowsItsProgress() throws Exception {
        StringBuilder queues = new StringBuilder();
        int count = 12_000;
        for (int i = 0; i < count; i++) {
            queues.append(i == 0 ? "" : ",").append("{\"name\":\"bulk-").append(i).append("-")
                    .append("x".repeat(40)).append("\",\"vhost\":\"bulk\",\"durable\":true,\"arguments\":{}}");
        }
        Path defs = dataDir.resolve("bulk.json");
        Files.writeString(defs, "{\"vhosts\":[{\"name\":\"bulk\"}],\"queues\":[" + queues + "]}");
        assertThat(Files.size(defs)).isGreaterThan(1024 * 1024);
        try {
            assertThat(ctl("-t", "60", "import_definitions", defs.toString())).as(err).isZero();
            assertThat(out).contains("  " + count + " queues\n").contains("Successfully imported definitions.");
            List<String> progress = err.lines().filter(l -> l.startsWith("Sending definitions: ")).toList();
            assertThat(progress).hasSizeBetween(2, 10).last().asString()
                    .startsWith("Sending definitions: 100% (" + Files.size(defs) + " of " + Files.size(defs) + " bytes)");
            // The broker's side, read while the POST waits: at least the last line of applying, after the sending.
            List<String> applying = err.lines().filter(l -> l.startsWith("Applying definitions: ")).toList();
            assertThat(applying).hasSizeBetween(1, 10).last().asString()
                    .isEqualTo("Applying definitions: 100% (" + (count + 1) + " of " + (count + 1) + " entries)");
            assertThat(err.lines().filter(l -> l.startsWith("Checking definitions: ")).toList()).hasSizeBetween(0, 10)
                    .allSatisfy(l -> assertThat(l).endsWith(" of " + count + " entries)"));
            assertThat(err.indexOf("Sending definitions: 100%")).isLessThan(err.indexOf("Applying definitions: 100%"));
            assertThat(ctl("-q", "list_queues", "-p", "bulk", "--no-table-headers", "name")).isZero();
            assertThat(out).contains("bulk-11999-");
            assertThat(out.lines().count()).isEqualTo(count);
        } finally {
            assertThat(ctl("delete_vhost", "bulk")).isZero();
        }
    }

    @Test
    void listConnectionsAndCloseConnection() throws Exception {
        Connection c = broker.connect();
        try {
            int port = ((com.rabbitmq.client.impl.NetworkConnection) c).getLocalPort();
            assertThat(ctl("list_connections")).isZero();
            assertThat(out).contains("Listing connections ...\nuser\tpeer_host\tpeer_port\tstate\n")
                    .contains("guest\t127.0.0.1\t" + port + "\trunning\n");
            String name = "127.0.0.1:" + port + " -> 127.0.0.1:" + broker.port();
            assertThat(ctl("-q", "list_connections", "name", "vhost", "channels")).isZero();
            assertThat(out).contains(name + "\t/\t0\n");
            assertThat(ctl("close_connection", name, "go away")).isZero();
            assertThat(out).contains("Closing connection " + name + ", reason: go away...");
            org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10)).until(() -> !c.isOpen());
            assertThat(c.getCloseReason().getMessage()).contains("CONNECTION_FORCED - Closed via management plugin");
            assertThat(ctl("close_connection", name)).isEqualTo(65);
            assertThat(err).contains("Error: no connection named '" + name + "'");
        } finally {
            c.abort();
        }
    }

    /** A vhost of its own, so the quarantine tests leave "/" (whose counts other tests check) alone. */
    private Connection vhostWithGuest(String vhost) throws Exception {
        assertThat(ctl("add_vhost", vhost)).isZero();
        assertThat(ctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")).isZero();
        com.rabbitmq.client.ConnectionFactory f = broker.factory();
        f.setVirtualHost(vhost);
        return f.newConnection();
    }

    /** Messages ready in the vhost's quarantine queue, 0 while it does not exist. */
    private static long quarantined(Connection c) throws Exception {
        try (Channel probe = c.createChannel()) {
            return probe.queueDeclarePassive("holdfast.quarantine").getMessageCount();
        } catch (java.io.IOException e) {
            return 0;
        }
    }

    /** basic.get and nack with requeue until the queue is empty: every message goes over its delivery limit. */
    private static void poison(Channel ch, String queue) throws Exception {
        for (GetResponse g; (g = ch.basicGet(queue, false)) != null; ) {
            ch.basicNack(g.getEnvelope().getDeliveryTag(), false, true);
        }
    }

    @Test
    void quarantineListRepublishAndPurgeCloseThePoisonMessageLoop() throws Exception {
        try (Connection c = vhostWithGuest("poison")) {
            Channel ch = c.createChannel();
            ch.queueDeclare("work", true, false, false, Map.of("x-delivery-limit", 1));
            ch.confirmSelect();
            com.rabbitmq.client.AMQP.BasicProperties props = MessageProperties.PERSISTENT_TEXT_PLAIN.builder()
                    .messageId("order-7").headers(Map.of("kind", "poison", "attempt", 7)).build();
            ch.basicPublish("", "work", props, "bad order".getBytes());
            ch.waitForConfirmsOrDie(10_000);
            poison(ch, "work");
            assertThat(quarantined(c)).isEqualTo(1);

            assertThat(ctl("quarantine", "list", "-p", "poison")).as(err).isZero();
            assertThat(out).contains("Listing quarantined messages for vhost poison ...\n"
                    + "position\tqueue\treason\tdelivery_count\texchange\trouting_key\tpayload_bytes\theaders\n")
                    .containsPattern("\\d+\twork\tdelivery_limit\t2\t\twork\t9\t\\[.*\\{\"kind\",\"poison\"\\}.*\\]\n")
                    .contains("{\"attempt\",7}").contains("1 shown of 1 messages in quarantine");
            assertThat(ctl("-q", "quarantine", "list", "-p", "poison", "--queue", "other", "--no-table-headers"))
                    .isZero();
            assertThat(out).isEqualTo("");

            assertThat(ctl("quarantine", "republish", "-p", "poison")).as(err).isZero();
            assertThat(out).contains("Republishing quarantined messages in vhost 'poison' ...")
                    .contains("Republished 1 messages");
            assertThat(err).contains("Republishing: 100% (1 of 1 messages)");
            assertThat(quarantined(c)).isZero();
            GetResponse back = ch.basicGet("work", false);
            assertThat(back).isNotNull();
            assertThat(new String(back.getBody())).isEqualTo("bad order");
            assertThat(back.getProps().getMessageId()).isEqualTo("order-7");
            assertThat(back.getProps().getDeliveryMode()).isEqualTo(2);
            assertThat(back.getProps().getHeaders()).containsEntry("attempt", 7)
                    .hasEntrySatisfying("kind", v -> assertThat(v).hasToString("poison"))
                    .hasEntrySatisfying("x-quarantine-queue", v -> assertThat(v).hasToString("work"))
                    .doesNotContainKey("x-delivery-count"); // a fresh start against the delivery limit
            ch.basicNack(back.getEnvelope().getDeliveryTag(), false, true);
            poison(ch, "work");
            assertThat(quarantined(c)).isEqualTo(1);

            assertThat(ctl("quarantine", "purge", "-p", "poison")).isZero();
            assertThat(out).contains("Purging the quarantine queue in vhost 'poison' ...").contains("Purged 1 messages");
            assertThat(quarantined(c)).isZero();
            assertThat(ctl("quarantine", "list", "-p", "nowhere")).isEqualTo(65);
            assertThat(err).contains("Error: virtual host 'nowhere' does not exist");
            assertThat(ctl("quarantine")).isEqualTo(2);
        } finally {
            ctl("delete_vhost", "poison");
        }
    }

    @Test
    void republishOfThousandsByQueueOrCountShowsItsProgressALinePerTenth() throws Exception {
        try (Connection c = vhostWithGuest("poison-bulk")) {
            Channel ch = c.createChannel();
            ch.confirmSelect();
            for (String q : List.of("a", "b")) {
                ch.queueDeclare(q, true, false, false, Map.of("x-delivery-limit", 0));
            }
            for (int i = 0; i < 3000; i++) {
                ch.basicPublish("", i % 5 == 0 ? "b" : "a", MessageProperties.PERSISTENT_BASIC, ("m" + i).getBytes());
            }
            ch.waitForConfirmsOrDie(30_000);
            poison(ch, "a");
            poison(ch, "b");
            assertThat(quarantined(c)).isEqualTo(3000);

            assertThat(ctl("quarantine", "republish", "-p", "poison-bulk", "--queue", "b")).as(err).isZero();
            assertThat(out).contains("Republished 600 messages");
            List<String> progress = err.lines().filter(l -> l.startsWith("Republishing: ")).toList();
            assertThat(progress).hasSizeBetween(2, 10).last().isEqualTo("Republishing: 100% (3000 of 3000 messages)");
            assertThat(ch.queueDeclarePassive("b").getMessageCount()).isEqualTo(600);

            assertThat(ctl("quarantine", "republish", "-p", "poison-bulk", "--count", "1000")).as(err).isZero();
            assertThat(out).contains("Republished 1000 messages");
            progress = err.lines().filter(l -> l.startsWith("Republishing: ")).toList();
            assertThat(progress).hasSizeBetween(1, 10).last().isEqualTo("Republishing: 100% (1000 of 1000 messages)");
            assertThat(ch.queueDeclarePassive("a").getMessageCount()).isEqualTo(1000);
            assertThat(new String(ch.basicGet("a", true).getBody())).as("oldest first").isEqualTo("m1");

            assertThat(ctl("-q", "quarantine", "republish", "-p", "poison-bulk")).isZero();
            assertThat(out).contains("Republished 1400 messages");
            assertThat(quarantined(c)).isZero();
            assertThat(ch.queueDeclarePassive("a").getMessageCount()).isEqualTo(2399);
        } finally {
            ctl("delete_vhost", "poison-bulk");
        }
    }

    @Test
    void listChannelsAndListConsumersAsRabbitmqctlDoes() throws Exception {
        try (Connection c = broker.connect()) {
            Channel ch = c.createChannel();
            ch.queueDeclare("ctl-consumed", false, false, false, null);
            ch.basicQos(7);
            ch.basicConsume("ctl-consumed", false, "ctl-tag", (t, d) -> { }, t -> { });
            String name = "127.0.0.1:" + ((com.rabbitmq.client.impl.NetworkConnection) c).getLocalPort()
                    + " -> 127.0.0.1:" + broker.port() + " (" + ch.getChannelNumber() + ")";
            assertThat(ctl("list_channels")).isZero();
            assertThat(out).contains("Listing channels ...\nname\tuser\tconsumer_count\tmessages_unacknowledged\n")
                    .contains(name + "\tguest\t1\t0\n");
            assertThat(ctl("-q", "list_channels", "number", "prefetch_count", "confirm", "transactional")).isZero();
            assertThat(out).contains(ch.getChannelNumber() + "\t7\tfalse\tfalse\n");
            Channel tx = c.createChannel();
            tx.txSelect();
            tx.basicPublish("", "ctl-consumed", null, "uncommitted".getBytes());
            tx.queueDeclarePassive("ctl-consumed"); // a synchronous call: the publish is in the broker's hands
            assertThat(ctl("-q", "list_channels", "number", "transactional", "messages_uncommitted",
                    "acks_uncommitted")).isZero();
            assertThat(out).contains(tx.getChannelNumber() + "\ttrue\t1\t0\n");
            tx.close();
            assertThat(ctl("list_consumers")).isZero();
            assertThat(out).contains("Listing consumers in vhost / ...\nqueue_name\tchannel_pid\tconsumer_tag\t"
                    + "ack_required\tprefetch_count\tactive\tactivity_status\targuments\n")
                    .contains("ctl-consumed\t" + name + "\tctl-tag\ttrue\t7\ttrue\tup\t[]\n");
            assertThat(ctl("list_consumers", "-p", "nowhere")).isEqualTo(65);
            ch.queueDelete("ctl-consumed");
        }
    }

    @Test
    void listExchangesBindingsAndVhosts() {
        assertThat(ctl("-q", "list_exchanges")).isZero();
        assertThat(out).contains("events\tfanout\n").contains("amq.topic\ttopic\n");
        assertThat(ctl("-q", "list_bindings", "--no-table-headers")).isZero();
        assertThat(out).contains("events\texchange\taudit\tqueue\t\t[]\n");
        assertThat(ctl("-q", "list_vhosts", "name", "messages")).isZero();
        assertThat(out).contains("/\t3\n");
    }

    @Test
    void statusPingHealthAndAwaitStartupAnswerWhileTheBrokerRuns() {
        assertThat(ctl("status")).isZero();
        assertThat(out).contains("Health: ok").contains("Alarms: (none)").contains("Messages: 3 (ready 3");
        assertThat(ctl("ping")).isZero();
        assertThat(out).contains("Ping succeeded");
        assertThat(ctl("health")).isZero();
        assertThat(out).startsWith("ok");
        assertThat(ctl("await_startup")).isZero();
    }

    @Test
    void anUnknownInfoItemOrVhostIsAClearErrorWithRabbitmqctlsExitCode() {
        assertThat(ctl("list_queues", "name", "colour")).isEqualTo(64);
        assertThat(err).contains("Error: info key 'colour' is not supported by list_queues; valid: name,");
        assertThat(ctl("list_queues", "-p", "nowhere")).isEqualTo(65);
        assertThat(err).contains("Error: virtual host 'nowhere' does not exist");
    }

    @Test
    void usersVhostsAndPermissionsWithRabbitmqctlsVerbs() {
        assertThat(ctl("add_user", "carol", "pw-1")).isZero();
        assertThat(out).contains("Adding user \"carol\" ...");
        assertThat(ctl("add_user", "carol", "pw-2")).isEqualTo(65);
        assertThat(err).contains("Error: user 'carol' already exists");
        assertThat(ctl("authenticate_user", "carol", "pw-1")).isZero();
        assertThat(out).contains("Success");
        assertThat(ctl("authenticate_user", "carol", "wrong")).isEqualTo(77);
        assertThat(err).contains("failed to authenticate user \"carol\"");
        assertThat(ctl("add_vhost", "billing")).isZero();
        assertThat(ctl("set_permissions", "-p", "billing", "carol", "^carol-", ".*", ".*")).isZero();
        assertThat(ctl("-q", "list_permissions", "-p", "billing")).isZero();
        assertThat(out).isEqualTo("user\tconfigure\twrite\tread\ncarol\t^carol-\t.*\t.*\n");
        assertThat(ctl("set_permissions", "carol", "(", ".*", ".*")).isEqualTo(65);
        assertThat(err).contains("invalid configure regular expression '('");
        assertThat(ctl("set_user_tags", "carol", "monitoring")).isZero();
        assertThat(ctl("-q", "list_users")).isZero();
        assertThat(out).contains("carol\t[monitoring]\n").contains("guest\t[administrator]\n");
        assertThat(ctl("-q", "list_user_permissions", "carol")).isZero();
        assertThat(out).contains("billing\t^carol-\t.*\t.*\n");
        assertThat(ctl("set_vhost_limits", "-p", "billing", "{\"max-connections\": 5}")).isZero();
        assertThat(ctl("-q", "audit")).isZero();
        assertThat(out).contains("\tguest\t127.0.0.1\tadd_user\t{tags=, user=carol}")
                .contains("set_vhost_limits");
        assertThat(ctl("delete_vhost", "billing")).isZero();
        assertThat(ctl("delete_user", "carol")).isZero();
        assertThat(ctl("delete_user", "carol")).isEqualTo(65);
        assertThat(err).contains("Error: no such user 'carol'");
        assertThat(ctl("--password", "wrong", "list_users")).isEqualTo(77);
        assertThat(err).contains("refused the credentials");
    }

    @Test
    void topicPermissionsAndClearPasswordWithRabbitmqctlsVerbs() {
        assertThat(ctl("add_user", "dave", "pw-d")).isZero();
        assertThat(ctl("set_topic_permissions", "dave", "amq.topic", "^dave\\.", "^public\\.")).isZero();
        assertThat(out).contains("Setting topic permissions on \"amq.topic\" for user \"dave\" in vhost \"/\" ...");
        assertThat(ctl("set_topic_permissions", "dave", "events", "^{username}\\.", ".*")).isZero();
        assertThat(ctl("-q", "list_topic_permissions")).isZero();
        assertThat(out).contains("user\texchange\twrite\tread\n").contains("dave\tamq.topic\t^dave\\.\t^public\\.\n")
                .contains("dave\tevents\t^{username}\\.\t.*\n");
        assertThat(ctl("clear_topic_permissions", "dave", "events")).isZero();
        assertThat(ctl("-q", "list_user_topic_permissions", "dave")).isZero();
        assertThat(out).isEqualTo("vhost\texchange\twrite\tread\n/\tamq.topic\t^dave\\.\t^public\\.\n");
        assertThat(ctl("clear_topic_permissions", "dave")).isZero();
        assertThat(ctl("-q", "list_user_topic_permissions", "dave")).isZero();
        assertThat(out).isEqualTo("vhost\texchange\twrite\tread\n");
        assertThat(ctl("set_topic_permissions", "nobody", "amq.topic", ".*", ".*")).isEqualTo(65);
        assertThat(err).contains("no such user 'nobody' or virtual host '/'");
        assertThat(ctl("set_topic_permissions", "dave", "amq.topic", "(", ".*")).isEqualTo(65);
        assertThat(err).contains("invalid write regular expression '('");

        assertThat(ctl("set_user_tags", "dave", "management")).isZero();
        assertThat(ctl("authenticate_user", "dave", "pw-d")).as("set_user_tags keeps the password").isZero();
        assertThat(ctl("clear_password", "dave")).isZero();
        assertThat(out).contains("Clearing password for user \"dave\" ...");
        assertThat(ctl("authenticate_user", "dave", "pw-d")).isEqualTo(77);
        assertThat(ctl("authenticate_user", "dave", "")).isEqualTo(77);
        assertThat(ctl("-q", "audit")).isZero();
        assertThat(out).contains("set_topic_permissions").contains("clear_topic_permissions").contains("clear_password");
        assertThat(ctl("delete_user", "dave")).isZero();
    }

    @Test
    void aBrokerThatIsNotRunningIsUnavailableAndSaysWhatToCheck() throws Exception {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0)) {
            closedPort = s.getLocalPort();
        }
        assertThat(ctl(closedPort, "list_queues")).isEqualTo(69);
        assertThat(err).contains("Error: nothing answers at http://127.0.0.1:" + closedPort)
                .contains("is the broker running");
        assertThat(ctl(closedPort, "-t", "1", "await_startup")).isEqualTo(75);
        assertThat(err).contains("did not start within 1 s");
    }
}
