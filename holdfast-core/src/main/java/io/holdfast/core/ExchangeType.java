package io.holdfast.core;

import java.util.Locale;

/** The exchange types Holdfast routes with, named as AMQP and RabbitMQ name them. */
public enum ExchangeType {
    DIRECT, FANOUT, TOPIC, HEADERS;

    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
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
