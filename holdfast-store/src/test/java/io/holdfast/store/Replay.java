package io.holdfast.store;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** Collects what {@link Journal#open} replays. */
final class Replay implements RecordVisitor {
    final List<Long> segmentIds = new ArrayList<>();
    final List<byte[]> payloads = new ArrayList<>();

    @Override
    public void record(long segmentId, byte[] payload) {
        segmentIds.add(segmentId);
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
