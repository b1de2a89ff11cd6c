package io.holdfast.core;

import java.util.Map;

/**
 * A binding from a source exchange to a queue or another exchange. Equality is on all fields, as
 * RabbitMQ's: the same source, destination, key and arguments is one binding.
 */
public record Binding(String source, String destination, boolean toQueue, String routingKey,
                      Map<String, Object> arguments) {
    public Binding {
        arguments = arguments == null ? Map.of() : arguments;
    }
}
