package io.holdfast.store;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Opens the segments of a journal directory oldest first, replays every record that checks out, and
 * applies {@link RecoveryTable}'s file actions (truncate a torn tail, drop a headerless last file). Runs
 * once, on the thread calling {@link Journal#open}, before the writer thread exists. I/O errors while
 * reading a segment count as damage to that segment; only a directory that cannot be listed stops it.
 */
final class JournalRecovery {
    private static final Logger LOG = LoggerFactory.getLogger(Journal.class);
    private static final long READABLE_BYTES_MAX = Integer.MAX_VALUE - 16;

    /** The segments the journal manages from now on (oldest first) and the id for the next new one. */
    record Recovered(List<Segment> segments, long nextSegmentId, RecoveryReport report) {}

    private JournalRecovery() {}

    static Recovered recover(Storage storage, RecordVisitor visitor) throws IOException {
        TreeMap<Long, String> files = new TreeMap<>();
        for (String name : storage.list()) {
            OptionalLong id = SegmentFormat.parseFileName(name);
            if (id.isPresent() && id.getAsLong() > Journal.SEGMENT_ID_MAX) {
                // The journal never creates one: its records could not be named by a position.
                LOG.warn("journal: ignoring {}: segment id beyond {}", name, Journal.SEGMENT_ID_MAX);
            } else if (id.isPresent()) {
                files.put(id.getAsLong(), name);
            }
        }
        List<Segment> segments = new ArrayList<>();
        List<String> damage = new ArrayList<>();
        long recovered = 0;
        long tornBytes = 0;
        long corrupt = 0;
        for (Map.Entry<Long, String> file : files.entrySet()) {
            long id = file.getKey();
            String name = file.getValue();
            boolean last = id == files.lastKey();
            boolean drop = false;
            try (Storage.SegmentFile segment = storage.open(name)) {
                long size = segment.size();
                if (size > READABLE_BYTES_MAX) {
                    throw new IOException("segment of " + size + " bytes is too large to read");
                }
                ByteBuffer buffer = ByteBuffer.allocate((int) size);
                segment.read(buffer, 0);
                int length = buffer.position();
                SegmentScanner.Result result = SegmentScanner.scan(name, id, buffer.array(), length, last, visitor);
                recovered += result.recordsDelivered();
                corrupt += result.corruptRegions();
                damage.addAll(result.damage());
                switch (result.segmentAction()) {
                    case DROP_SEGMENT:
                        tornBytes += length;
                        drop = true;
                        LOG.warn("journal: removing last segment {} ({} bytes), torn while being created: {}",
                                name, length, result.tornReason());
                        break;
                    case SKIP_SEGMENT:
                        break; // left on disk for an operator, outside the journal's bookkeeping
                    default:
                        long kept = length;
                        if (result.truncateAt() >= 0) {
                            tornBytes += length - result.truncateAt();
                            kept = truncate(segment, name, result, length);
                        }
                        segments.add(new Segment(id, kept));
                }
            } catch (IOException e) {
                corrupt++;
                damage.add(name + "@0: cannot be read (" + e + "); segment skipped");
            }
            if (drop) {
                delete(storage, name);
            }
        }
        for (String entry : damage) {
            LOG.error("journal damage: {}", entry);
        }
        RecoveryReport report = new RecoveryReport(files.size(), recovered, tornBytes, corrupt, damage);
        LOG.info("journal recovered {} records from {} segments ({} torn tail bytes cut, {} corrupt regions skipped)",
                recovered, files.size(), tornBytes, corrupt);
        long nextId = files.isEmpty() ? 1 : files.lastKey() + 1;
        return new Recovered(segments, nextId, report);
    }

    private static long truncate(Storage.SegmentFile segment, String name, SegmentScanner.Result result, int length) {
        LOG.warn("journal: truncating torn tail of {} at offset {} ({} bytes): {}",
                name, result.truncateAt(), length - result.truncateAt(), result.tornReason());
        try {
            segment.truncate(result.truncateAt());
            segment.force();
            return result.truncateAt();
        } catch (IOException e) {
            // The next open sees this file as a middle segment and reports the tail as damage; nothing is lost.
            LOG.error("journal: could not truncate {}; its torn tail stays on disk", name, e);
            return length;
        }
    }

    private static void delete(Storage storage, String name) {
        try {
            storage.delete(name);
            storage.syncDirectory();
        } catch (IOException e) {
            // New segments get higher ids, so the next open reports this file as a headerless middle segment.
            LOG.error("journal: could not remove {}", name, e);
        }
    }
}
