package io.holdfast.server.config;

/** The broker's version, as advertised to clients in connection.start. */
public final class Version {
    public static final String VERSION = "0.1.0";

    private Version() {}
}
