package io.holdfast.server.management;

import io.holdfast.store.AtomicFile;
import io.holdfast.store.RecoveryReport;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.LongSupplier;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether the broker is degraded: recovery skipped corrupt journal records, or a stored message did not
 * read back intact when it was to be delivered (their messages are lost, contract rule 5), and no
 * operator has acknowledged that damage yet. A torn tail alone is normal after a crash and does not
 * degrade.
 *
 * <p>An acknowledgement is kept in {@code <data-dir>/journal-damage.ack} ({@link AtomicFile}; content:
 * the SHA-256, in hex, of each acknowledged damage entry {@code "file@offset: reason"}, one a line).
 * It survives restarts for as long as every damage entry recovery reports was acknowledged before, so
 * the same damage found again stays acknowledged, damage that went away (its segment deleted) changes
 * nothing, and any new entry makes the broker degraded again. Entries name a segment file and an
 * offset; segment ids are only reused after every segment is gone, and a start that finds no damage
 * empties the file, so old acknowledgements cannot cover new damage.
 *
 * <p>Damage found while running is counted, not kept: its acknowledgement lasts until the next
 * restart, whose recovery finds the damaged record again (if its segment is still there) and reports
 * it like any other.
 *
 * <p>The recovery report never changes while the broker runs. Any thread may read;
 * {@link #acknowledge()} is serialised.
 */
public final class HealthState {
    private static final Logger log = LoggerFactory.getLogger(HealthState.class);
    static final String ACK_FILE = "journal-damage.ack";

    private final RecoveryReport report;
    private final Path ackFile;
    private final LongSupplier readFailures;
    private volatile boolean acknowledged;
    private volatile long readFailuresAcknowledged;

    private HealthState(RecoveryReport report, Path ackFile, boolean acknowledged, LongSupplier readFailures) {
        this.report = report;
        this.ackFile = ackFile;
        this.acknowledged = acknowledged;
        this.readFailures = readFailures;
    }

    /** Compares the recovery's damage with the acknowledgement on disk; logs the outcome once. */
    public static HealthState load(Path dataDir, RecoveryReport report, LongSupplier readFailures) {
        Path ackFile = dataDir.resolve(ACK_FILE);
        Set<String> damage = fingerprints(report);
        Set<String> acked;
        try {
            acked = AtomicFile.read(ackFile).map(HealthState::parse).orElse(Set.of());
        } catch (IOException e) {
            log.warn("ignoring the journal damage acknowledgement: {}", e.getMessage());
            acked = Set.of();
        }
        boolean covered = acked.containsAll(damage);
        if (covered && !acked.equals(damage)) {
            // Forget acknowledgements of damage that is gone, so they can never cover new damage.
            try {
                AtomicFile.write(ackFile, format(damage));
            } catch (IOException e) {
                log.warn("could not update {}: {}", ackFile, e.toString());
            }
        }
        if (report.degraded() && covered) {
            log.info("journal damage found by recovery ({} corrupt regions) was acknowledged before; health is ok",
                    report.corruptRecordsSkipped());
        } else if (report.degraded()) {
            log.warn("DEGRADED: recovery skipped {} corrupt journal regions (messages in them are lost): {}; "
                    + "after checking, acknowledge with POST /api/health/acknowledge",
                    report.corruptRecordsSkipped(), report.damage());
        }
        return new HealthState(report, ackFile, covered, readFailures);
    }

    RecoveryReport report() {
        return report;
    }

    /** True while there is damage that no operator acknowledged. */
    boolean degraded() {
        return report.degraded() && !acknowledged || readFailures.getAsLong() > readFailuresAcknowledged;
    }

    /** Stored messages that did not read back intact since start. */
    long readFailures() {
        return readFailures.getAsLong();
    }

    /** True if there is damage and it was acknowledged (now or before a restart). */
    boolean acknowledged() {
        return report.degraded() && acknowledged;
    }

    /**
     * Records, durably, that an operator has seen the current damage; health is ok from now on. Does
     * nothing when there is no damage.
     *
     * @throws IOException if the acknowledgement could not be stored; the state is then unchanged
     */
    synchronized void acknowledge() throws IOException {
        long failures = readFailures.getAsLong();
        if (failures > readFailuresAcknowledged) {
            readFailuresAcknowledged = failures;
            log.warn("acknowledged by an operator: {} stored messages that did not read back intact", failures);
        }
        if (!report.degraded() || acknowledged) {
            return;
        }
        AtomicFile.write(ackFile, format(fingerprints(report)));
        acknowledged = true;
        log.warn("journal damage acknowledged by an operator ({} corrupt regions): {}",
                report.corruptRecordsSkipped(), report.damage());
    }

    private static Set<String> fingerprints(RecoveryReport report) {
        MessageDigest sha256;
        try {
            sha256 = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has SHA-256", e);
        }
        Set<String> out = new TreeSet<>();
        for (String entry : report.damage()) {
            out.add(HexFormat.of().formatHex(sha256.digest(entry.getBytes(StandardCharsets.UTF_8))));
        }
        return out;
    }

    private static byte[] format(Set<String> fingerprints) {
        return fingerprints.stream().map(f -> f + "\n").collect(Collectors.joining()).getBytes(StandardCharsets.UTF_8);
    }

    private static Set<String> parse(byte[] content) {
        return new String(content, StandardCharsets.UTF_8).lines().filter(l -> !l.isBlank())
                .collect(Collectors.toCollection(TreeSet::new));
    }
}
