package io.holdfast.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.CRC32C;

/**
 * Reads a Holdfast journal directory from the outside, as the storage tests need it: which crash-test
 * message sits in which record of which segment file, at which offsets. Follows the documented segment
 * layout (20-byte header, then records {@code [length u32][crc32c u32][payload]}, the CRC over length and
 * payload); a message is found in a record's payload by its {@link CrashMessage} magic and CRC, so the
 * payload's own layout does not matter here.
 */
final class JournalFiles {
    static final int HEADER_BYTES = 20;
    static final int RECORD_HEADER_BYTES = 8;

    /** One record: bytes {@code [start, end)} of {@code file}; {@code message} null if it holds none. */
    record Record(String file, int start, int end, CrashMessage message) {}

    private JournalFiles() {}

    /** The segment files of {@code journalDir}, oldest first. */
    static List<Path> segments(Path journalDir) throws IOException {
        try (Stream<Path> files = Files.list(journalDir)) {
            return files.filter(p -> p.getFileName().toString().endsWith(".seg")).sorted().toList();
        }
    }

    /**
     * Flips three bytes in the middle of record {@code index}'s payload in the only segment of {@code journalDir},
     * so recovery finds a CRC mismatch there; returns where, as recovery names it ({@code file@offset}).
     */
    static String corruptRecord(Path journalDir, int index) throws IOException {
        List<Path> segments = segments(journalDir);
        assertThat(segments).hasSize(1);
        Path segment = segments.get(0);
        byte[] data = Files.readAllBytes(segment);
        List<Record> records = records(segment);
        assertThat(records).hasSizeGreaterThan(index + 1);
        int record = records.get(index).start();
        int payloadBytes = ByteBuffer.wrap(data, record, 4).getInt();
        for (int i = 0; i < 3; i++) {
            data[record + RECORD_HEADER_BYTES + payloadBytes / 2 + i] ^= (byte) 0xA5;
        }
        Files.write(segment, data);
        return segment.getFileName() + "@" + record;
    }

    /**
     * Flips one bit of the byte {@code offset} bytes into the first place {@code needle} is stored in
     * {@code journalDir}'s segments, as a failing disk would.
     */
    static void flipByteAt(Path journalDir, byte[] needle, int offset) throws IOException {
        for (Path f : segments(journalDir)) {
            byte[] content = Files.readAllBytes(f);
            for (int i = 0; i + needle.length <= content.length; i++) {
                if (Arrays.equals(content, i, i + needle.length, needle, 0, needle.length)) {
                    try (java.io.RandomAccessFile raf = new java.io.RandomAccessFile(f.toFile(), "rw")) {
                        raf.seek(i + offset);
                        raf.write(content[i + offset] ^ 0x20);
                    }
                    return;
                }
            }
        }
        throw new AssertionError("the bytes are not in the journal");
    }

    /** Every record that checks out, in file order; stops at the first that does not. */
    static List<Record> records(Path segment) throws IOException {
        byte[] data = Files.readAllBytes(segment);
        String name = segment.getFileName().toString();
        List<Record> out = new ArrayList<>();
        CRC32C crc = new CRC32C();
        int p = HEADER_BYTES;
        while (p + RECORD_HEADER_BYTES <= data.length) {
            ByteBuffer b = ByteBuffer.wrap(data, p, RECORD_HEADER_BYTES);
            int length = b.getInt();
            int stored = b.getInt();
            int from = p + RECORD_HEADER_BYTES;
            if (length < 0 || length > data.length - from) {
                break;
            }
            crc.reset();
            crc.update(ByteBuffer.allocate(4).putInt(length).array());
            crc.update(data, from, length);
            if ((int) crc.getValue() != stored) {
                break;
            }
            out.add(new Record(name, p, from + length, messageIn(Arrays.copyOfRange(data, from, from + length))));
            p = from + length;
        }
        return out;
    }

    private static CrashMessage messageIn(byte[] payload) {
        for (int i = 0; i + 4 <= payload.length; i++) {
            if (ByteBuffer.wrap(payload, i, 4).getInt() == CrashMessage.MAGIC) {
                try {
                    return CrashMessage.decode(Arrays.copyOfRange(payload, i, payload.length));
                } catch (IllegalArgumentException notTheBody) {
                    // the magic's bytes occurred by chance before the body; keep looking
                }
            }
        }
        return null;
    }
}
