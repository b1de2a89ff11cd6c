package io.holdfast.core;

import java.util.Locale;

/** The exchange types Holdfast routes with, named as AMQP and RabbitMQ name them. */
public enum ExchangeType {
    DIRECT, FANOUT, TOPIC, HEADERS,
    /**
     * RabbitMQ's delayed-message plugin type: routes as its {@code x-delayed-type} argument says, once the
     * message's {@code x-delay} has passed (see {@link DelayedMessages}).
     */
    X_DELAYED_MESSAGE;

    public String wireName() {
        return this == X_DELAYED_MESSAGE ? "x-delayed-message" : name().toLowerCase(Locale.ROOT);
    }

    /** The type for a wire name, or null if unknown. */
    public static ExchangeType fromWireName(String name) {
        for (ExchangeType t : values()) {
            if (t.wireName().equals(name)) {
                return t;
            }
        }
        return null;
    }
}
