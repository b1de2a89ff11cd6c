package io.holdfast.server.engine;

import io.holdfast.core.Broker;
import io.holdfast.core.BrokerException;
import io.holdfast.core.ChannelState;
import io.holdfast.core.ErrorCode;
import io.holdfast.core.Exchange;
import io.holdfast.core.ExchangeType;
import io.holdfast.core.VirtualHost;
import io.holdfast.server.auth.AccessControl;
import io.holdfast.protocol.Method;
import io.holdfast.protocol.Method.BasicConsume;
import io.holdfast.protocol.Method.BasicGet;
import io.holdfast.protocol.Method.ExchangeBind;
import io.holdfast.protocol.Method.ExchangeDeclare;
import io.holdfast.protocol.Method.ExchangeDelete;
import io.holdfast.protocol.Method.ExchangeUnbind;
import io.holdfast.protocol.Method.QueueBind;
import io.holdfast.protocol.Method.QueueDeclare;
import io.holdfast.protocol.Method.QueueDelete;
import io.holdfast.protocol.Method.QueuePurge;
import io.holdfast.protocol.Method.QueueUnbind;
import io.holdfast.server.auth.Permission;
import io.holdfast.server.auth.TopicPermission;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * One channel's permission checks (an AMQP channel's, or a management request's), where and as RabbitMQ
 * makes them: configure to declare or delete a queue or exchange, write to publish to an exchange or bind
 * into a queue or exchange, read to consume, get, purge, or bind from an exchange. The default exchange is
 * {@code amq.default} to them. On a topic exchange the user has a topic permission on, a publish's routing
 * key must also match its write expression and a binding's key (bind and unbind) its read expression. A
 * refusal is 403 ACCESS_REFUSED with RabbitMQ's text. Each check reads the user's current permissions, so a
 * change applies to the next operation of every open channel. Broker thread only.
 */
public final class PermissionGate {
    /** Compiled topic expressions kept at most; past it the cache starts again (changes make new values). */
    private static final int TOPIC_CACHE_MAX = 64;

    /**
     * What a server-named queue is checked as: its name does not exist before the declare, and RabbitMQ's
     * generated names start so, as do Holdfast's.
     */
    public static final String SERVER_NAMED = "amq.gen-";

    private final AccessControl access;
    private final Broker broker;
    private final String user;
    private final String vhost;
    /** The last publish check: permissions are immutable values, so the answer holds while they stay the same. */
    private Permission publishChecked;
    private String publishExchange;
    /** The values of topic permissions' variables for this channel's connection. */
    private final Map<String, String> variables = new HashMap<>();
    /** Topic permissions (immutable values, by identity) with their expressions compiled: write, read. */
    private final Map<TopicPermission, Pattern[]> topicCompiled = new IdentityHashMap<>();

    /** @param clientId the connection's {@code client_id} client property, or null */
    public PermissionGate(AccessControl access, Broker broker, String user, String vhost, String clientId) {
        this.access = access;
        this.broker = broker;
        this.user = user;
        this.vhost = vhost;
        variables.put("username", user);
        variables.put("vhost", vhost);
        if (clientId != null) {
            variables.put("client_id", clientId);
        }
    }

    /**
     * Checks a channel method before it runs, as RabbitMQ: declares (not passive ones) and deletes need
     * configure; binds write on the destination and read on the source; purge, get and consume read on the
     * queue. A queue declared with {@code x-dead-letter-exchange}, or an exchange with {@code
     * alternate-exchange}, also needs write on that exchange and read on itself.
     *
     * @throws BrokerException 403 when a permission is missing
     */
    public void authorize(Method m, ChannelState ch) {
        if (m instanceof QueueDeclare d) {
            if (!d.passive()) {
                String name = d.queue().isEmpty() ? SERVER_NAMED : clean(d.queue());
                configureQueue(name);
                checkQueueLimit(d.queue().isEmpty() ? null : name);
                Object dlx = d.arguments().get("x-dead-letter-exchange");
                if (dlx != null) {
                    writeExchange(dlx.toString());
                    readQueue(name);
                }
            }
        } else if (m instanceof QueueDelete d) {
            configureQueue(ch.queueNamed(clean(d.queue())));
        } else if (m instanceof QueuePurge p) {
            readQueue(ch.queueNamed(clean(p.queue())));
        } else if (m instanceof QueueBind b) {
            writeQueue(ch.queueNamed(clean(b.queue())));
            readExchange(clean(b.exchange()));
            topic(Permission.Kind.READ, clean(b.exchange()), b.routingKey());
        } else if (m instanceof QueueUnbind u) {
            writeQueue(ch.queueNamed(clean(u.queue())));
            readExchange(clean(u.exchange()));
            topic(Permission.Kind.READ, clean(u.exchange()), u.routingKey());
        } else if (m instanceof ExchangeDeclare d) {
            if (!d.passive()) {
                configureExchange(clean(d.exchange()));
                Object ae = d.arguments().get("alternate-exchange");
                if (ae != null) {
                    writeExchange(ae.toString());
                    readExchange(clean(d.exchange()));
                }
            }
        } else if (m instanceof ExchangeDelete d) {
            configureExchange(clean(d.exchange()));
        } else if (m instanceof ExchangeBind b) {
            writeExchange(clean(b.destination()));
            readExchange(clean(b.source()));
            topic(Permission.Kind.READ, clean(b.source()), b.routingKey());
        } else if (m instanceof ExchangeUnbind u) {
            writeExchange(clean(u.destination()));
            readExchange(clean(u.source()));
            topic(Permission.Kind.READ, clean(u.source()), u.routingKey());
        } else if (m instanceof BasicConsume c) {
            if (!Broker.isDirectReplyTo(c.queue())) { // the reply pseudo-queue is every channel's own
                readQueue(ch.queueNamed(clean(c.queue())));
            }
        } else if (m instanceof BasicGet g) {
            readQueue(ch.queueNamed(clean(g.queue())));
        }
    }

    /** The vhost's {@code max-queues}: a new queue past it is 406, as RabbitMQ. {@code name} null: server-named. */
    private void checkQueueLimit(String name) {
        int max = access.vhost(vhost).map(AccessControl.Vhost::maxQueues).orElse(-1);
        VirtualHost v = broker.virtualHost(vhost);
        if (max < 0 || v == null || (name != null && v.queue(name) != null)) {
            return;
        }
        int queues = 0;
        for (var ignored : v.queues()) {
            queues++;
        }
        if (queues >= max) {
            throw new BrokerException(ErrorCode.PRECONDITION_FAILED, "cannot declare queue '"
                    + (name == null ? "(server-named)" : name) + "' in vhost '" + vhost + "': queue limit in vhost '"
                    + vhost + "' (" + max + ") is reached");
        }
    }

    /** Names are checked as the broker will use them: line breaks are stripped (see the core's naming rules). */
    public static String clean(String name) {
        return name.indexOf('\n') < 0 && name.indexOf('\r') < 0 ? name : name.replace("\n", "").replace("\r", "");
    }

    public void configureQueue(String name) {
        check(Permission.Kind.CONFIGURE, "queue", name);
    }

    public void configureExchange(String name) {
        check(Permission.Kind.CONFIGURE, "exchange", resource(name));
    }

    public void writeQueue(String name) {
        check(Permission.Kind.WRITE, "queue", name);
    }

    public void writeExchange(String name) {
        check(Permission.Kind.WRITE, "exchange", resource(name));
    }

    public void readQueue(String name) {
        check(Permission.Kind.READ, "queue", name);
    }

    public void readExchange(String name) {
        check(Permission.Kind.READ, "exchange", resource(name));
    }

    /**
     * basic.publish: write on the exchange, remembered while the permissions do not change (the hot path);
     * then the topic permission on the routing key, if the user has any in this vhost.
     */
    public void publish(String exchange, String routingKey) {
        Permission p = permission();
        if (p != publishChecked || !exchange.equals(publishExchange)) {
            check(p, Permission.Kind.WRITE, "exchange", resource(exchange));
            publishChecked = p;
            publishExchange = exchange;
        }
        topic(Permission.Kind.WRITE, exchange, routingKey);
    }

    /** RabbitMQ's topic authorisation: only on a topic exchange the user has a topic permission on. */
    private void topic(Permission.Kind kind, String exchange, String routingKey) {
        Map<String, TopicPermission> mine = access.topicPermissions(user, vhost);
        if (mine.isEmpty()) {
            return;
        }
        TopicPermission t = mine.get(exchange);
        VirtualHost v = t == null ? null : broker.virtualHost(vhost);
        Exchange x = v == null ? null : v.exchange(exchange);
        if (x == null || x.type() != ExchangeType.TOPIC) {
            return;
        }
        Pattern[] compiled = topicCompiled.get(t);
        if (compiled == null) {
            if (topicCompiled.size() >= TOPIC_CACHE_MAX) {
                topicCompiled.clear();
            }
            compiled = new Pattern[] {t.compile(Permission.Kind.WRITE, variables),
                    t.compile(Permission.Kind.READ, variables)};
            topicCompiled.put(t, compiled);
        }
        if (!compiled[kind == Permission.Kind.WRITE ? 0 : 1].matcher(routingKey).find()) {
            // RabbitMQ's text names neither the kind (write on publish, read on bind) nor the pattern.
            throw new BrokerException(ErrorCode.ACCESS_REFUSED, "access to topic '" + routingKey + "' in exchange '" + exchange + "' in vhost '" + vhost
                    + "' refused for user '" + user + "'");
        }
    }

    private static String resource(String exchange) {
        return exchange.isEmpty() ? "amq.default" : exchange;
    }

    private Permission permission() {
        return access.permission(user, vhost).orElse(null);
    }

    private void check(Permission.Kind kind, String type, String name) {
        check(permission(), kind, type, name);
    }

    private void check(Permission p, Permission.Kind kind, String type, String name) {
        if (p == null || !p.allows(kind, name)) {
            throw new BrokerException(ErrorCode.ACCESS_REFUSED, kind.name().toLowerCase(Locale.ROOT)
                    + " access to " + type + " '" + name + "' in vhost '" + vhost + "' refused for user '" + user + "'");
        }
    }
}
