package io.holdfast.server.auth;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The limits that keep one tenant from taking the broker, with RabbitMQ's names and texts: per vhost
 * {@code max-connections}, per user {@code max-connections} and {@code max-channels} (limits in
 * {@link AccessControl}; a change applies to the next connection or channel), counted here. Thread-safe.
 */
public final class Limits {
    private final AccessControl access;
    private final Map<String, AtomicInteger> connectionsByVhost = new ConcurrentHashMap<>();
    private final Map<String, AtomicInteger> connectionsByUser = new ConcurrentHashMap<>();
    private final Map<String, AtomicInteger> channelsByUser = new ConcurrentHashMap<>();

    public Limits(AccessControl access) {
        this.access = access;
    }

    /**
     * Counts a connection of {@code user} opening {@code vhost}, or refuses it: the 530 text, or null when it
     * may open (then {@link #connectionClosed} must follow).
     */
    public synchronized String openConnection(String user, String vhost) {
        int vhostMax = access.vhost(vhost).map(AccessControl.Vhost::maxConnections).orElse(-1);
        int userMax = access.user(user).map(AccessControl.User::maxConnections).orElse(-1);
        AtomicInteger byVhost = connectionsByVhost.computeIfAbsent(vhost, k -> new AtomicInteger());
        AtomicInteger byUser = connectionsByUser.computeIfAbsent(user, k -> new AtomicInteger());
        if (vhostMax >= 0 && byVhost.get() >= vhostMax) {
            return "access to vhost '" + vhost + "' refused for user '" + user + "': connection limit (" + vhostMax
                    + ") is reached";
        }
        if (userMax >= 0 && byUser.get() >= userMax) {
            return "access refused for user '" + user + "': user connection limit (" + userMax + ") is reached";
        }
        byVhost.incrementAndGet();
        byUser.incrementAndGet();
        return null;
    }

    public synchronized void connectionClosed(String user, String vhost) {
        connectionsByVhost.get(vhost).decrementAndGet();
        connectionsByUser.get(user).decrementAndGet();
    }

    /** Counts a channel of {@code user}, or refuses it: the 530 text, or null (then {@link #channelClosed}). */
    public synchronized String openChannel(String user) {
        int max = access.user(user).map(AccessControl.User::maxChannels).orElse(-1);
        AtomicInteger n = channelsByUser.computeIfAbsent(user, k -> new AtomicInteger());
        if (max >= 0 && n.get() >= max) {
            return "number of channels opened for user '" + user + "' has reached the maximum allowed user limit of ("
                    + max + ")";
        }
        n.incrementAndGet();
        return null;
    }

    public synchronized void channelClosed(String user) {
        channelsByUser.get(user).decrementAndGet();
    }

    /** Channels open on the broker. */
    public int channels() {
        int n = 0;
        for (AtomicInteger c : channelsByUser.values()) {
            n += c.get();
        }
        return n;
    }
}
