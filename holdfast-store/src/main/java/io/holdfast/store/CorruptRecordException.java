package io.holdfast.store;

import java.io.IOException;

/**
 * {@link Journal#read} found bytes at a record position that do not check out: a length that cannot be
 * right, a CRC32C mismatch, or a file that ends inside the record. The message names the segment file
 * and the record's offset in it, as {@code <file>@<offset>}, like recovery's damage entries.
 */
public final class CorruptRecordException extends IOException {
    private static final long serialVersionUID = 1L;

    private final String fileName;
    private final long offset;

    public CorruptRecordException(String fileName, long offset, String problem) {
        super("corrupt record at " + fileName + "@" + offset + ": " + problem);
        this.fileName = fileName;
        this.offset = offset;
    }

    /** The segment file holding the damaged record. */
    public String fileName() {
        return fileName;
    }

    /** The offset of the damaged record's header within {@link #fileName()}. */
    public long offset() {
        return offset;
    }
}
