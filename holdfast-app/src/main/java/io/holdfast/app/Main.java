package io.holdfast.app;

import io.holdfast.app.ctl.Ctl;
import io.holdfast.server.HoldfastServer;
import io.holdfast.server.config.ServerConfig;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine;

/** The {@code holdfast} command line. */
@Command(name = "holdfast", mixinStandardHelpOptions = true, versionProvider = Main.VersionProvider.class,
        description = "Holdfast, an AMQP 0-9-1 message broker built for failure recovery.",
        subcommands = {Main.Server.class, Verify.class, Ctl.class})
public final class Main implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "missing command: try 'holdfast server'");
    }

    public static void main(String[] args) {
        System.exit(new CommandLine(new Main()).execute(args));
    }

    /** {@code holdfast server}: runs the broker in the foreground until SIGTERM or Ctrl-C. */
    @Command(name = "server", description = "Run the broker in the foreground.")
    static final class Server implements Callable<Integer> {
        @Option(names = "--config", description = "holdfast.conf file (key = value, rabbitmq.conf key names)")
        Path config;

        @Option(names = "--port", description = "AMQP port (default 5672)")
        Integer port;

        @Option(names = "--bind", description = "address to listen on (default 127.0.0.1)")
        String bind;

        @Option(names = "--management-port", description = "management HTTP port (default 15672, 0 = any free port)")
        Integer managementPort;

        @Option(names = "--data-dir", description = "data directory (default ./data)")
        Path dataDir;

        @Override
        public Integer call() throws Exception {
            ServerConfig cfg = ServerConfig.defaults(Path.of("data"));
            try {
                if (config != null) {
                    cfg = ConfigFile.apply(config, cfg);
                }
                ConfigFile.Builder b = new ConfigFile.Builder(cfg);
                if (port != null) {
                    b.set("listeners.tcp.default", String.valueOf(port));
                }
                if (managementPort != null) {
                    b.set("management.tcp.port", String.valueOf(managementPort));
                }
                if (bind != null) {
                    b.bind(bind);
                }
                if (dataDir != null) {
                    b.dataDir(dataDir);
                }
                cfg = b.build();
            } catch (ConfigFile.ConfigException | IllegalArgumentException e) {
                System.err.println("holdfast: " + e.getMessage());
                return 2;
            }
            HoldfastServer server;
            try {
                server = HoldfastServer.start(cfg);
            } catch (java.io.IOException e) {
                System.err.println("holdfast: " + e.getMessage());
                return 1;
            }
            CountDownLatch stopped = new CountDownLatch(1);
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                try {
                    server.close();
                } catch (Exception e) {
                    System.err.println("holdfast: error during shutdown: " + e);
                } finally {
                    stopped.countDown();
                }
            }, "holdfast-shutdown"));
            stopped.await();
            return 0;
        }
    }

    /** Reports the broker version for {@code --version}. */
    static final class VersionProvider implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"Holdfast " + io.holdfast.server.config.Version.VERSION};
        }
    }
}
