package io.holdfast.server.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AccessControlTest {
    private static final AccessControl.Actor ADMIN = new AccessControl.Actor("guest", "127.0.0.1");

    @TempDir
    Path dir;

    private long now = 1_700_000_000_000L;

    private AuditLog audit() throws Exception {
        return AuditLog.open(dir, () -> now);
    }

    @Test
    void firstStartCreatesTheDefaultUserAndVhostOnlyOnce() throws Exception {
        try (AuditLog audit = audit()) {
            AccessControl ac = AccessControl.open(dir, "guest", "guest", audit);
            assertThat(ac.user("guest").orElseThrow().hasTag("administrator")).isTrue();
            assertThat(ac.user("guest").orElseThrow().password().matches("guest")).isTrue();
            assertThat(ac.permission("guest", "/")).contains(Permission.all());
            ac.changePassword(ADMIN, "guest", "changed");
        }
        try (AuditLog audit = audit()) {
            AccessControl again = AccessControl.open(dir, "guest", "guest", audit);
            assertThat(again.user("guest").orElseThrow().password().matches("changed"))
                    .as("default_pass applies to the first start only").isTrue();
        }
    }

    @Test
    void changesSurviveAReopenAndTheFileHoldsNoPassword() throws Exception {
        try (AuditLog audit = audit()) {
            AccessControl ac = AccessControl.open(dir, "guest", "guest", audit);
            ac.addUser(ADMIN, "alice", "wonderland-7", List.of("monitoring"));
            ac.addVhost(ADMIN, "orders", "the order pipeline");
            ac.setPermissions(ADMIN, "alice", "orders", Permission.of("^alice\\.", "", ".*"));
            ac.setVhostLimits(ADMIN, "orders", 10, 100);
        }
        assertThat(Files.readString(dir.resolve(AccessFile.FILE_NAME), StandardCharsets.ISO_8859_1))
                .doesNotContain("wonderland-7");
        try (AuditLog audit = audit()) {
            AccessControl ac = AccessControl.open(dir, "guest", "guest", audit);
            assertThat(ac.user("alice").orElseThrow().tags()).containsExactly("monitoring");
            assertThat(ac.user("alice").orElseThrow().password().matches("wonderland-7")).isTrue();
            Permission p = ac.permission("alice", "orders").orElseThrow();
            assertThat(p.allows(Permission.Kind.CONFIGURE, "alice.jobs")).isTrue();
            assertThat(p.allows(Permission.Kind.CONFIGURE, "bob.jobs")).isFalse();
            assertThat(p.allows(Permission.Kind.WRITE, "anything")).as("'' is ^$").isFalse();
            assertThat(p.allows(Permission.Kind.WRITE, "")).isTrue();
            assertThat(ac.vhost("orders").orElseThrow().maxQueues()).isEqualTo(100);
            assertThat(ac.permission("alice", "/")).isEmpty();
        }
    }

    @Test
    void deletingAVhostRemovesItsPermissionsAndDeletingAUserRemovesTheirs() throws Exception {
        try (AuditLog audit = audit()) {
            AccessControl ac = AccessControl.open(dir, "guest", "guest", audit);
            ac.addVhost(ADMIN, "v", null);
            ac.setPermissions(ADMIN, "guest", "v", Permission.all());
            ac.deleteVhost(ADMIN, "v");
            assertThat(ac.permission("guest", "v")).isEmpty();
            ac.addUser(ADMIN, "bob", "pw", List.of());
            ac.setPermissions(ADMIN, "bob", "/", Permission.all());
            ac.deleteUser(ADMIN, "bob");
            assertThat(ac.user("bob")).isEmpty();
            assertThat(ac.permissions()).noneMatch(e -> e.getKey()[0].equals("bob"));
        }
    }

    @Test
    void badInputIsRefusedWithAReasonAndChangesNothing() throws Exception {
        try (AuditLog audit = audit()) {
            AccessControl ac = AccessControl.open(dir, "guest", "guest", audit);
            int entries = audit.size();
            assertThatThrownBy(() -> ac.addUser(ADMIN, "guest", "x", List.of()))
                    .isInstanceOf(AccessException.class).hasMessage("user 'guest' already exists");
            assertThatThrownBy(() -> ac.setPermissions(ADMIN, "nobody", "/", Permission.all()))
                    .hasMessage("no such user 'nobody'");
            assertThatThrownBy(() -> ac.setPermissions(ADMIN, "guest", "nowhere", Permission.all()))
                    .hasMessage("virtual host 'nowhere' does not exist");
            assertThatThrownBy(() -> Permission.of("(unclosed", ".*", ".*"))
                    .hasMessageStartingWith("invalid configure regular expression '(unclosed'");
            assertThatThrownBy(() -> ac.addVhost(ADMIN, "bad\nname", null))
                    .hasMessageContaining("contains a control character");
            assertThatThrownBy(() -> ac.addUser(ADMIN, "carol", "", List.of()))
                    .hasMessage("the password must not be empty");
            assertThat(audit.size()).as("refused changes are not audited as changes").isEqualTo(entries);
            assertThat(ac.users()).extracting(AccessControl.User::name).containsExactly("guest");
        }
    }

    @Test
    void everyChangeIsInTheAuditLogWithWhoFromWhereAndWhen() throws Exception {
        try (AuditLog audit = audit()) {
            AccessControl ac = AccessControl.open(dir, "guest", "guest", audit);
            now += 1000;
            ac.addUser(ADMIN, "alice", "pw", List.of("management"));
            ac.setPermissions(ADMIN, "alice", "/", Permission.of(".*", ".*", ""));
        }
        try (AuditLog audit = audit()) {
            List<AuditLog.Entry> entries = audit.entries(10);
            assertThat(entries).extracting(AuditLog.Entry::action)
                    .containsExactly("first_start", "add_user", "set_permissions");
            AuditLog.Entry add = entries.get(1);
            assertThat(add.user()).isEqualTo("guest");
            assertThat(add.from()).isEqualTo("127.0.0.1");
            assertThat(add.timeMillis()).isEqualTo(1_700_000_001_000L);
            assertThat(add.details()).containsEntry("user", "alice").containsEntry("tags", "management")
                    .doesNotContainKey("password");
            assertThat(entries.get(2).details()).containsEntry("read", "");
        }
    }
}
