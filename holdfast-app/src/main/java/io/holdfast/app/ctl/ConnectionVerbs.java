package io.holdfast.app.ctl;

import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/**
 * rabbitmqctl's {@code close_connection}, over the management API's {@code DELETE /api/connections/{name}}: the
 * connection is named as {@code list_connections name} shows it, and the client gets 320
 * {@code CONNECTION_FORCED - Closed via management plugin}. Needs an administrator's credentials.
 */
final class ConnectionVerbs {
    private ConnectionVerbs() {}

    @Command(name = "close_connection", description = "Closes a client connection (320 CONNECTION_FORCED).")
    static final class CloseConnection extends Ctl.Verb {
        @Parameters(index = "0", paramLabel = "NAME", description = "as list_connections name shows it") String name;

        @Parameters(index = "1", paramLabel = "EXPLANATION", arity = "0..1", description = "printed here; the "
                + "client is told 'Closed via management plugin', as RabbitMQ's API tells it")
        String explanation = "";

        @Override
        int run(ManagementClient client) throws CtlException {
            info("Closing connection " + name + ", reason: " + explanation + "...");
            try {
                client.delete("/api/connections/" + ManagementClient.segment(name));
            } catch (CtlException e) {
                if (e.exitCode() == CtlException.DATA && e.getMessage().startsWith("not found")) {
                    throw new CtlException(CtlException.DATA, "no connection named '" + name + "'");
                }
                throw e;
            }
            return 0;
        }
    }
}
