package io.holdfast.store;

/**
 * When the journal forces appended records to stable storage, and therefore what an
 * {@link AppendCallback} with no error promises.
 */
public enum FsyncPolicy {
    /**
     * Every batch is written and then forced with one {@code fsync} before its callbacks run. A kill -9 or
     * power cut loses no record whose callback reported success. The default.
     */
    ALWAYS,
    /**
     * Callbacks run once the batch is written to the operating system; the journal forces at most every
     * {@link JournalConfig#fsyncIntervalMillis()} (and when a segment is closed). A process crash loses
     * nothing; a power cut or kernel crash can lose records confirmed during the last interval (plus the
     * time of one write). If that fsync fails, the records it covered may be lost although confirmed; the
     * failure is logged at ERROR.
     */
    INTERVAL,
    /**
     * Callbacks run once the batch is written to the operating system; the journal never forces while
     * running, not even the directory when segments come and go (only {@link Journal#close()} forces). A
     * process crash loses nothing; a power cut can lose anything the kernel had not yet written back
     * (typically up to 30 s), in any segment, which recovery may then report as damage.
     */
    NEVER
}
