package io.holdfast.server.management;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * How far the definitions import under way has got, or how the last one ended, for
 * {@code GET /api/holdfast/definitions/import}: its {@code import} (1 for the first since start, 0 before any), a
 * {@code phase}, and the entries {@code done} of its {@code total}.
 * Phases: {@code idle} (none since start), {@code checking} (the topology declared into a scratch copy of the
 * broker, so nothing is half applied), {@code applying} (the topology for real, then vhosts, users and
 * permissions), {@code done} or {@code failed}. Written by the importing threads (the broker's among them), read
 * by any without waiting for the broker thread, which an import keeps busy.
 */
final class ImportProgress {
    static final String IDLE = "idle";
    static final String CHECKING = "checking";
    static final String APPLYING = "applying";
    static final String DONE = "done";
    static final String FAILED = "failed";

    private record State(long id, String phase, long total) {}

    private volatile State state = new State(0, IDLE, 0);
    private final AtomicLong done = new AtomicLong();

    /** An import starts with its {@link #CHECKING} phase, {@code total} entries to go through. */
    void start(long total) {
        done.set(0);
        state = new State(state.id() + 1, CHECKING, total);
    }

    /** Its next phase starts, with {@code total} entries to go through. */
    void phase(String phase, long total) {
        done.set(0);
        state = new State(state.id(), phase, total);
    }

    /** One more entry of the phase is through. */
    void step() {
        done.incrementAndGet();
    }

    /** The import is over: {@link #DONE} (every entry through) or {@link #FAILED} (where it stopped). */
    void end(String how) {
        State s = state;
        if (how.equals(DONE)) {
            done.set(s.total());
        }
        state = new State(s.id(), how, s.total());
    }

    Map<String, Object> view() {
        State s = state;
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("import", s.id());
        m.put("phase", s.phase());
        m.put("done", Math.min(done.get(), s.total()));
        m.put("total", s.total());
        return m;
    }
}
