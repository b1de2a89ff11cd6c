package io.holdfast.store;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** Collects what {@link Journal#open} replays. */
final class Replay implements RecordVisitor {
    final List<Long> positions = new ArrayList<>();
    /** The segment of each of {@link #positions}. */
    final List<Long> segmentIds = new ArrayList<>();
    final List<byte[]> payloads = new ArrayList<>();

    @Override
    public void record(long position, byte[] payload) {
        positions.add(position);
        segmentIds.add(Journal.segmentOf(position));
        payloads.add(payload);
    }

    List<String> strings() {
        List<String> strings = new ArrayList<>();
        for (byte[] payload : payloads) {
            strings.add(new String(payload, StandardCharsets.UTF_8));
        }
        return strings;
    }
}
