package io.holdfast.server.management;

import com.fasterxml.jackson.databind.JsonNode;
import io.holdfast.core.Binding;
import io.holdfast.core.BrokerException;
import io.holdfast.core.ErrorCode;
import io.holdfast.core.Exchange;
import io.holdfast.core.Queue;
import io.holdfast.core.VirtualHost;
import io.holdfast.protocol.Method;
import io.holdfast.protocol.ReplyCode;
import io.holdfast.server.engine.Engine;
import io.holdfast.server.engine.ReplicatedTopology;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/**
 * RabbitMQ's API for changing queues, exchanges and bindings, with its paths, bodies and answers:
 * {@code PUT|DELETE /api/queues/{vhost}/{name}} ({@code ?if-empty=true}, {@code ?if-unused=true}),
 * {@code DELETE /api/queues/{vhost}/{name}/contents} (purge), {@code PUT|DELETE /api/exchanges/{vhost}/{name}},
 * {@code GET|POST /api/bindings/{vhost}/e/{source}/q|e/{destination}} and
 * {@code GET|DELETE .../{props}}. A created object answers 201, a changed or deleted one 204; what the path
 * names and does not exist is 404 Object Not Found; bad input is 400 with the reason, and what the broker
 * refuses is 400 with its AMQP text ({@code 406 PRECONDITION_FAILED - inequivalent arg ...}), as RabbitMQ's
 * plugin reports a channel error. Each runs as a core command on a channel of its own ({@link CoreClient}),
 * for a user with permissions in the vhost, checked as the same AMQP method would be (configure to declare or
 * delete, read to purge, write on a binding's destination and read on its source, topic permissions on its
 * key); a refusal is RabbitMQ's 401 {@code not_authorised} with the AMQP text. Handler threads.
 */
final class TopologyApi {
    private final Engine engine;
    private final CoreClient core;

    TopologyApi(Engine engine, CoreClient core) {
        this.engine = engine;
        this.core = core;
    }

    void addTo(Routes routes) {
        routes.add("PUT", "/api/queues/{vhost}/{name}", Routes.Access.VHOST, r -> answering(() -> putQueue(r)))
                .add("DELETE", "/api/queues/{vhost}/{name}", Routes.Access.VHOST, r -> answering(() -> deleteQueue(r)))
                .add("DELETE", "/api/queues/{vhost}/{name}/contents", Routes.Access.VHOST,
                        r -> answering(() -> purgeQueue(r)))
                .add("PUT", "/api/exchanges/{vhost}/{name}", Routes.Access.VHOST, r -> answering(() -> putExchange(r)))
                .add("DELETE", "/api/exchanges/{vhost}/{name}", Routes.Access.VHOST,
                        r -> answering(() -> deleteExchange(r)));
        for (String kind : List.of("q", "e")) {
            String between = "/api/bindings/{vhost}/e/{source}/" + kind + "/{destination}";
            boolean toQueue = kind.equals("q");
            routes.add("GET", between, Routes.Access.VHOST_READ, r -> answering(() -> bindings(r, toQueue, null)))
                    .add("POST", between, Routes.Access.VHOST, r -> answering(() -> bind(r, toQueue)))
                    .add("GET", between + "/{props}", Routes.Access.VHOST_READ,
                            r -> answering(() -> bindings(r, toQueue, r.variable(3))))
                    .add("DELETE", between + "/{props}", Routes.Access.VHOST, r -> answering(() -> unbind(r, toQueue)));
        }
    }

    /** A handler body that may meet a missing vhost or a refusal of the core. */
    @FunctionalInterface
    interface Body {
        Routes.Response run() throws Exception;
    }

    /** Runs {@code body}; a missing vhost becomes 404 Object Not Found, a refusal of the core RabbitMQ's 404 or 400. */
    static Routes.Response answering(Body body) throws Exception {
        try {
            return body.run();
        } catch (CoreClient.NoSuchVhost e) {
            return ManagementApi.notFound();
        } catch (BrokerException e) {
            String text = ReplyCode.name(e.code().code()) + " - " + e.getMessage();
            if (e.code() == ErrorCode.ACCESS_REFUSED) { // RabbitMQ's plugin: a channel closed with 403 is a 401
                return ManagementHttp.error(401, "not_authorised", text);
            }
            if (e.code() == ErrorCode.NOT_FOUND) {
                return ManagementHttp.error(404, "not_found", text);
            }
            return ManagementHttp.error(400, "bad_request", e.code().code() + " " + text);
        }
    }

    /** RabbitMQ's paths name the default exchange {@code amq.default}. */
    static String exchangeName(String pathName) {
        return pathName.equals("amq.default") ? "" : pathName;
    }

    private static Routes.Response status(int status) {
        return Routes.Response.of(status, ManagementHttp.JSON, "");
    }

    private static JsonNode optionalBody(Routes.Request r) {
        return r.body().length == 0 ? ManagementHttp.MAPPER.createObjectNode() : ManagementHttp.body(r);
    }

    // ---- queues ----

    private Routes.Response putQueue(Routes.Request r) {
        JsonNode body = optionalBody(r);
        String name = r.variable(1);
        boolean durable = AmqpJson.bool(body, "durable", false);
        boolean autoDelete = AmqpJson.bool(body, "auto_delete", false);
        Map<String, Object> arguments = AmqpJson.table(body, "arguments");
        boolean existed = core.call(r.variable(0), ch -> {
            boolean exists = engine.broker().virtualHost(ch.vhost()).queue(name) != null;
            core.gate(r.user(), ch).authorize(new Method.QueueDeclare(0, name, false, durable, false, autoDelete,
                    false, arguments), ch);
            engine.broker().topology().declareQueue(ch, name, false, durable, false, autoDelete, arguments);
            return exists;
        });
        return status(existed ? 204 : 201);
    }

    private Routes.Response deleteQueue(Routes.Request r) {
        String name = r.variable(1);
        boolean ifEmpty = r.flag("if-empty");
        boolean ifUnused = r.flag("if-unused");
        boolean found = core.call(r.variable(0), ch -> {
            if (engine.broker().virtualHost(ch.vhost()).queue(name) == null) {
                return false;
            }
            core.gate(r.user(), ch).authorize(new Method.QueueDelete(0, name, ifUnused, ifEmpty, false), ch);
            engine.broker().topology().deleteQueue(ch, name, ifUnused, ifEmpty);
            return true;
        });
        return found ? status(204) : ManagementApi.notFound();
    }

    private Routes.Response purgeQueue(Routes.Request r) {
        String name = r.variable(1);
        boolean found = core.call(r.variable(0), ch -> {
            if (engine.broker().virtualHost(ch.vhost()).queue(name) == null) {
                return false;
            }
            core.gate(r.user(), ch).authorize(new Method.QueuePurge(0, name, false), ch);
            engine.broker().topology().purgeQueue(ch, name);
            return true;
        });
        return found ? status(204) : ManagementApi.notFound();
    }

    // ---- exchanges ----

    private Routes.Response putExchange(Routes.Request r) throws InterruptedException {
        JsonNode body = ManagementHttp.body(r);
        String vhost = r.variable(0);
        String name = exchangeName(r.variable(1));
        String type = AmqpJson.text(body, "type");
        boolean durable = AmqpJson.bool(body, "durable", false);
        boolean autoDelete = AmqpJson.bool(body, "auto_delete", false);
        boolean internal = AmqpJson.bool(body, "internal", false);
        Map<String, Object> arguments = AmqpJson.table(body, "arguments");
        boolean existed = core.call(vhost, ch -> {
            boolean exists = engine.broker().virtualHost(ch.vhost()).exchange(name) != null;
            core.gate(r.user(), ch).authorize(new Method.ExchangeDeclare(0, name, type, false, durable, autoDelete,
                    internal, false, arguments), ch);
            engine.broker().topology().declareExchange(ch, name, type, false, durable, autoDelete, internal,
                    arguments);
            return exists;
        });
        ReplicatedTopology cluster = engine.replicatedTopology();
        if (!existed && durable && cluster != null) {
            // Declared here (checked by the core); answered once the cluster has it, else undone here.
            String refused = committed(cluster.exchangeDeclared(vhost, name, type, autoDelete, internal, arguments));
            if (refused != null) {
                core.call(vhost, ch -> {
                    engine.broker().topology().deleteExchange(ch, name, false);
                    return null;
                });
                return ManagementHttp.error(503, "service_unavailable", refused);
            }
        }
        return status(existed ? 204 : 201);
    }

    private Routes.Response deleteExchange(Routes.Request r) throws InterruptedException {
        String vhost = r.variable(0);
        String name = exchangeName(r.variable(1));
        boolean ifUnused = r.flag("if-unused");
        ReplicatedTopology cluster = engine.replicatedTopology();
        boolean replicated = cluster != null && core.call(vhost, ch -> {
            Exchange x = engine.broker().virtualHost(ch.vhost()).exchange(name);
            return x != null && x.durable() && !name.isEmpty() && !name.startsWith("amq.")
                    && !(ifUnused && !x.bindings().isEmpty());
        });
        if (replicated) { // through the cluster first: a delete cannot be undone here if the cluster refuses it
            String refused = committed(cluster.exchangeDeleted(vhost, name));
            if (refused != null) {
                return ManagementHttp.error(503, "service_unavailable", refused);
            }
        }
        boolean found = core.call(vhost, ch -> {
            if (engine.broker().virtualHost(ch.vhost()).exchange(name) == null) {
                return replicated; // the cluster's delete has taken it already
            }
            core.gate(r.user(), ch).authorize(new Method.ExchangeDelete(0, name, ifUnused, false), ch);
            engine.broker().topology().deleteExchange(ch, name, ifUnused);
            return true;
        });
        return found ? status(204) : ManagementApi.notFound();
    }

    /** Waits for a cluster change; null once this node applied it, else why it was not committed. */
    private static String committed(CompletableFuture<Void> change) throws InterruptedException {
        try {
            change.get();
            return null;
        } catch (ExecutionException e) {
            return e.getCause().getMessage();
        }
    }

    // ---- bindings ----

    /** The bindings from {@code source} to {@code destination} ({@code props} non-null: the one it names); null if an end is missing. */
    private static List<Binding> between(VirtualHost v, String source, String destination, boolean toQueue,
                                         String props) {
        Exchange x = v.exchange(source);
        boolean destinationExists = toQueue ? v.queue(destination) != null : v.exchange(destination) != null;
        if (x == null || !destinationExists) {
            return null;
        }
        List<Binding> out = new ArrayList<>();
        for (Binding b : x.bindings()) {
            if (b.toQueue() == toQueue && b.destination().equals(destination)
                    && (props == null || ApiViews.propertiesKey(b).equals(props))) {
                out.add(b);
            }
        }
        return out;
    }

    private Routes.Response bindings(Routes.Request r, boolean toQueue, String props) {
        String source = exchangeName(r.variable(1));
        String destination = r.variable(2);
        Object found = engine.query(b -> {
            VirtualHost v = b.virtualHost(r.variable(0));
            if (v == null) {
                return null;
            }
            if (source.isEmpty() && toQueue && v.queue(destination) != null) { // the default exchange's implicit one
                Binding implicit = new Binding("", destination, true, destination, Map.of());
                return props == null || ApiViews.propertiesKey(implicit).equals(props)
                        ? List.of(ApiViews.binding(v, implicit)) : List.of();
            }
            List<Binding> bs = between(v, source, destination, toQueue, props);
            return bs == null ? null : bs.stream().map(x -> ApiViews.binding(v, x)).toList();
        });
        if (found == null || props != null && ((List<?>) found).isEmpty()) {
            return ManagementApi.notFound();
        }
        return ManagementHttp.json(200, props == null ? found : ((List<?>) found).get(0));
    }

    private Routes.Response bind(Routes.Request r, boolean toQueue) {
        JsonNode body = optionalBody(r);
        String source = exchangeName(r.variable(1));
        String destination = r.variable(2);
        JsonNode key = body.path("routing_key");
        if (!key.isMissingNode() && !key.isNull() && !key.isValueNode()) {
            throw new ManagementHttp.BadRequest("\"routing_key\" must be a string, not " + key);
        }
        String routingKey = key.isValueNode() ? key.asText() : "";
        Map<String, Object> arguments = AmqpJson.table(body, "arguments");
        Binding made = core.call(r.variable(0), ch -> {
            VirtualHost v = engine.broker().virtualHost(ch.vhost());
            boolean endsExist = (source.isEmpty() || v.exchange(source) != null)
                    && (toQueue ? v.queue(destination) != null : v.exchange(destination) != null);
            if (!endsExist) {
                return null;
            }
            core.gate(r.user(), ch).authorize(toQueue
                    ? new Method.QueueBind(0, destination, source, routingKey, false, arguments)
                    : new Method.ExchangeBind(0, destination, source, routingKey, false, arguments), ch);
            if (toQueue) {
                engine.broker().topology().bindQueue(ch, destination, source, routingKey, arguments);
            } else {
                engine.broker().topology().bindExchange(ch, destination, source, routingKey, arguments);
            }
            return new Binding(source, destination, toQueue, routingKey, arguments);
        });
        if (made == null) {
            return ManagementApi.notFound();
        }
        String location = "/api/bindings/" + Routes.encode(r.variable(0)) + "/e/" + Routes.encode(r.variable(1))
                + "/" + (toQueue ? "q" : "e") + "/" + Routes.encode(destination) + "/"
                + Routes.encode(ApiViews.propertiesKey(made));
        return status(201).withHeader("Location", location);
    }

    private Routes.Response unbind(Routes.Request r, boolean toQueue) {
        String source = exchangeName(r.variable(1));
        String destination = r.variable(2);
        String props = r.variable(3);
        boolean found = core.call(r.variable(0), ch -> {
            List<Binding> bs = between(engine.broker().virtualHost(ch.vhost()), source, destination, toQueue, props);
            if (bs == null || bs.isEmpty()) {
                return false;
            }
            Binding b = bs.get(0);
            core.gate(r.user(), ch).authorize(toQueue
                    ? new Method.QueueUnbind(0, destination, source, b.routingKey(), b.arguments())
                    : new Method.ExchangeUnbind(0, destination, source, b.routingKey(), false, b.arguments()), ch);
            if (toQueue) {
                engine.broker().topology().unbindQueue(ch, destination, source, b.routingKey(), b.arguments());
            } else {
                engine.broker().topology().unbindExchange(ch, destination, source, b.routingKey(), b.arguments());
            }
            return true;
        });
        return found ? status(204) : ManagementApi.notFound();
    }
}
