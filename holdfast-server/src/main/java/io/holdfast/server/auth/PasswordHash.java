package io.holdfast.server.auth;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;

/**
 * A stored password in RabbitMQ's format, so definitions move both ways: {@code base64(salt || H(salt ||
 * utf8(password)))} with a 4-byte random salt, H being SHA-256 ({@code rabbit_password_hashing_sha256},
 * RabbitMQ's default and Holdfast's), SHA-512, or MD5 (read for old definitions only, never written).
 * The plain password is never kept. An empty {@code hash} is RabbitMQ's "no password" ({@code rabbitmqctl
 * clear_password}, {@code "password_hash": ""}): no password matches it, so the user logs in only by a client
 * certificate ({@code EXTERNAL}). Immutable; safe to share between threads.
 */
public record PasswordHash(String algorithm, String hash) {
    public static final String SHA256 = "rabbit_password_hashing_sha256";
    public static final String SHA512 = "rabbit_password_hashing_sha512";
    public static final String MD5 = "rabbit_password_hashing_md5";
    private static final int SALT_BYTES = 4;
    private static final SecureRandom RANDOM = new SecureRandom();

    public PasswordHash {
        digest(algorithm); // refuses an unknown algorithm
        byte[] raw = decode(hash);
        if (raw.length > 0 && raw.length <= SALT_BYTES) {
            throw new IllegalArgumentException("password_hash is too short to hold a salt and a digest");
        }
    }

    /** A new hash of {@code password} with a fresh salt, in RabbitMQ's default algorithm. */
    public static PasswordHash of(String password) {
        byte[] salt = new byte[SALT_BYTES];
        RANDOM.nextBytes(salt);
        return new PasswordHash(SHA256, Base64.getEncoder().encodeToString(salted(SHA256, salt, password)));
    }

    /** No password: the user may log in only by {@code EXTERNAL}. */
    public static PasswordHash none() {
        return new PasswordHash(SHA256, "");
    }

    /** False for {@link #none()}. */
    public boolean isSet() {
        return !hash.isEmpty();
    }

    /** True if {@code password} is the one hashed (never without one); compares in constant time. */
    public boolean matches(String password) {
        if (!isSet()) {
            return false;
        }
        byte[] stored = decode(hash);
        byte[] salt = java.util.Arrays.copyOf(stored, SALT_BYTES);
        return MessageDigest.isEqual(stored, salted(algorithm, salt, password));
    }

    private static byte[] salted(String algorithm, byte[] salt, String password) {
        MessageDigest d = digest(algorithm);
        d.update(salt);
        d.update(password.getBytes(StandardCharsets.UTF_8));
        byte[] digest = d.digest();
        byte[] out = new byte[salt.length + digest.length];
        System.arraycopy(salt, 0, out, 0, salt.length);
        System.arraycopy(digest, 0, out, salt.length, digest.length);
        return out;
    }

    private static byte[] decode(String hash) {
        try {
            return Base64.getDecoder().decode(hash);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("password_hash is not base64: " + e.getMessage());
        }
    }

    private static MessageDigest digest(String algorithm) {
        String jca = switch (algorithm) {
            case SHA256 -> "SHA-256";
            case SHA512 -> "SHA-512";
            case MD5 -> "MD5";
            default -> throw new IllegalArgumentException("unknown hashing_algorithm '" + algorithm + "'; known: "
                    + SHA256 + ", " + SHA512 + ", " + MD5);
        };
        try {
            return MessageDigest.getInstance(jca);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(jca + " is missing from this JVM", e);
        }
    }
}
