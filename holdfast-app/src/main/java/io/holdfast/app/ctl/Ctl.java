package io.holdfast.app.ctl;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/**
 * {@code holdfast ctl VERB}: operate a running broker with rabbitmqctl's verbs, output and exit codes,
 * through the broker's management listener (so it works from wherever that listener is reachable):
 * status and health, lists, users, vhosts and permissions, queues ({@code purge_queue}, {@code delete_queue}),
 * definitions, and Holdfast's own {@code acknowledge_damage}, {@code audit} and {@code quarantine list|republish|purge}.
 */
@Command(name = "ctl", mixinStandardHelpOptions = true, scope = ScopeType.INHERIT, description = "Operate a running broker with rabbitmqctl's verbs (through its management "
        + "listener).", subcommands = {NodeVerbs.Status.class, NodeVerbs.ClusterStatus.class, NodeVerbs.Ping.class,
        NodeVerbs.AwaitStartup.class, NodeVerbs.Health.class, NodeVerbs.AcknowledgeDamage.class, ListVerbs.ListQueues.class,
        ListVerbs.ListExchanges.class, ListVerbs.ListBindings.class, ListVerbs.ListVhosts.class,
        AccessVerbs.AddUser.class, AccessVerbs.DeleteUser.class, AccessVerbs.ChangePassword.class,
        AccessVerbs.SetUserTags.class, AccessVerbs.ClearPassword.class, AccessVerbs.SetTopicPermissions.class,
        AccessVerbs.ClearTopicPermissions.class, AccessVerbs.ListTopicPermissions.class,
        AccessVerbs.ListUserTopicPermissions.class, AccessVerbs.ListUsers.class, AccessVerbs.AuthenticateUser.class,
        AccessVerbs.AddVhost.class, AccessVerbs.DeleteVhost.class, AccessVerbs.SetPermissions.class,
        AccessVerbs.ClearPermissions.class, AccessVerbs.ListPermissions.class, AccessVerbs.ListUserPermissions.class,
        AccessVerbs.SetVhostLimits.class, AccessVerbs.Audit.class, QueueVerbs.PurgeQueue.class,
        QueueVerbs.DeleteQueue.class, DefinitionsVerbs.Export.class, DefinitionsVerbs.Import.class,
        ListVerbs.ListConnections.class, ListVerbs.ListChannels.class, ListVerbs.ListConsumers.class,
        ConnectionVerbs.CloseConnection.class, QuarantineVerbs.class})
public final class Ctl implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--host", scope = ScopeType.INHERIT, defaultValue = "127.0.0.1",
            description = "the broker's management listener address (management.tcp.ip; default ${DEFAULT-VALUE})")
    String host;

    @Option(names = "--management-port", scope = ScopeType.INHERIT, defaultValue = "15672",
            description = "its port (management.tcp.port; default ${DEFAULT-VALUE})")
    int port;

    @Option(names = {"-t", "--timeout"}, scope = ScopeType.INHERIT, defaultValue = "60",
            description = "seconds to wait for an answer (default ${DEFAULT-VALUE})")
    int timeoutSeconds;

    @Option(names = {"-q", "--quiet"}, scope = ScopeType.INHERIT, description = "no informational lines")
    boolean quiet;

    @Option(names = {"-u", "--username"}, scope = ScopeType.INHERIT, defaultValue = "${env:HOLDFAST_CTL_USER:-guest}",
            description = "an administrator (monitoring is enough to list) to log in as (default $HOLDFAST_CTL_USER, "
                    + "else guest)")
    String username;

    @Option(names = "--password", scope = ScopeType.INHERIT, defaultValue = "${env:HOLDFAST_CTL_PASSWORD:-guest}",
            description = "their password (default $HOLDFAST_CTL_PASSWORD, else guest)")
    String password;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "missing verb: try 'holdfast ctl status' or "
                + "'holdfast ctl --help'");
    }

    ManagementClient client() {
        return new ManagementClient(host, port, Duration.ofSeconds(Math.max(1, timeoutSeconds)), username, password);
    }

    /** What every verb shares: the parent's options, the output, and rabbitmqctl's error reporting. */
    abstract static class Verb implements Callable<Integer> {
        /** The {@code ctl} command above this verb (directly, or above a group such as {@code quarantine}). */
        Ctl ctl;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        PrintWriter out() {
            return spec.commandLine().getOut();
        }

        /** An informational line, left out with {@code -q}, as rabbitmqctl does. */
        void info(String line) {
            if (!ctl.quiet) {
                out().println(line);
            }
        }

        /** Progress and other lines that are not the output, to standard error. */
        PrintWriter err() {
            return spec.commandLine().getErr();
        }

        @Override
        public final Integer call() {
            CommandLine.Model.CommandSpec above = spec.parent();
            while (!(above.userObject() instanceof Ctl)) {
                above = above.parent();
            }
            ctl = (Ctl) above.userObject();
            try {
                int code = run(ctl.client());
                out().flush();
                return code;
            } catch (CtlException e) {
                out().flush();
                spec.commandLine().getErr().println("Error: " + e.getMessage());
                spec.commandLine().getErr().flush();
                return e.exitCode();
            }
        }

        abstract int run(ManagementClient client) throws CtlException;
    }
}
