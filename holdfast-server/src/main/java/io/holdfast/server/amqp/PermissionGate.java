package io.holdfast.server.amqp;

import io.holdfast.core.Broker;
import io.holdfast.core.BrokerException;
import io.holdfast.core.ChannelState;
import io.holdfast.core.ErrorCode;
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

/**
 * One channel's permission checks, where and as RabbitMQ makes them: configure to declare or delete a
 * queue or exchange, write to publish to an exchange or bind into a queue or exchange, read to consume,
 * get, purge, or bind from an exchange. The default exchange is {@code amq.default} to them. A refusal is
 * 403 ACCESS_REFUSED (the channel closes) with RabbitMQ's text. Each check reads the user's current
 * permissions, so a change applies to the next operation of every open channel. Broker thread only.
 */
final class PermissionGate {
    /**
     * What a server-named queue is checked as: its name does not exist before the declare, and RabbitMQ's
     * generated names start so, as do Holdfast's.
     */
    static final String SERVER_NAMED = "amq.gen-";

    private final AccessControl access;
    private final Broker broker;
    private final String user;
    private final String vhost;
    /** The last publish check: permissions are immutable values, so the answer holds while they stay the same. */
    private Permission publishChecked;
    private String publishExchange;

    PermissionGate(AccessControl access, Broker broker, String user, String vhost) {
        this.access = access;
        this.broker = broker;
        this.user = user;
        this.vhost = vhost;
    }

    /**
     * Checks a channel method before it runs, as RabbitMQ: declares (not passive ones) and deletes need
     * configure; binds write on the destination and read on the source; purge, get and consume read on the
     * queue. A queue declared with {@code x-dead-letter-exchange}, or an exchange with {@code
     * alternate-exchange}, also needs write on that exchange and read on itself.
     *
     * @throws BrokerException 403 when a permission is missing
     */
    void authorize(Method m, ChannelState ch) {
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
        } else if (m instanceof QueueUnbind u) {
            writeQueue(ch.queueNamed(clean(u.queue())));
            readExchange(clean(u.exchange()));
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
        } else if (m instanceof ExchangeUnbind u) {
            writeExchange(clean(u.destination()));
            readExchange(clean(u.source()));
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
    static String clean(String name) {
        return name.indexOf('\n') < 0 && name.indexOf('\r') < 0 ? name : name.replace("\n", "").replace("\r", "");
    }

    void configureQueue(String name) {
        check(Permission.Kind.CONFIGURE, "queue", name);
    }

    void configureExchange(String name) {
        check(Permission.Kind.CONFIGURE, "exchange", resource(name));
    }

    void writeQueue(String name) {
        check(Permission.Kind.WRITE, "queue", name);
    }

    void writeExchange(String name) {
        check(Permission.Kind.WRITE, "exchange", resource(name));
    }

    void readQueue(String name) {
        check(Permission.Kind.READ, "queue", name);
    }

    void readExchange(String name) {
        check(Permission.Kind.READ, "exchange", resource(name));
    }

    /** basic.publish: write on the exchange, remembered while the permissions do not change (the hot path). */
    void publish(String exchange) {
        Permission p = permission();
        if (p == publishChecked && exchange.equals(publishExchange)) {
            return;
        }
        check(p, Permission.Kind.WRITE, "exchange", resource(exchange));
        publishChecked = p;
        publishExchange = exchange;
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
            throw new BrokerException(ErrorCode.ACCESS_REFUSED, kind.name().toLowerCase(java.util.Locale.ROOT)
                    + " access to " + type + " '" + name + "' in vhost '" + vhost + "' refused for user '" + user + "'");
        }
    }
}
