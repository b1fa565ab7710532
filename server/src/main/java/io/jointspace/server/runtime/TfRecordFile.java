package io.jointspace.server.runtime;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.CRC32C;
import javax.annotation.Nullable;

/**
 * TensorFlow's TFRecord files (uncompressed), the format of TF Serving's warmup file. Each
 * record is: its length as a little-endian uint64, the masked CRC-32C of those 8 bytes (uint32
 * LE), the data, the masked CRC-32C of the data. Both checksums are verified on reading; a
 * file that ends inside a record, or a record whose checksum does not match, is refused as
 * corrupt ({@link IOException} naming the record).
 */
public final class TfRecordFile {
  private static final int MASK_DELTA = 0xa282ead8;

  private TfRecordFile() {}

  /** Writes {@code records} to {@code file}, replacing it. */
  public static void write(Path file, Iterable<byte[]> records) throws IOException {
    try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(file))) {
      ByteBuffer header = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN);
      ByteBuffer footer = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN);
      for (byte[] record : records) {
        header.clear();
        header.putLong(record.length);
        header.putInt(maskedCrc(header.array(), 0, 8));
        out.write(header.array());
        out.write(record);
        footer.clear();
        footer.putInt(maskedCrc(record, 0, record.length));
        out.write(footer.array());
      }
    }
  }

  /** Reads a file's records one at a time; close it when done. */
  public static Reader open(Path file) throws IOException {
    return new Reader(file, new BufferedInputStream(Files.newInputStream(file), 1 << 16), Files.size(file));
  }

  /** The records of one file, in order. Not thread-safe. */
  public static final class Reader implements AutoCloseable {
    private final Path file;
    private final InputStream in;
    private long left;
    private int index;

    private Reader(Path file, InputStream in, long size) {
      this.file = file;
      this.in = in;
      this.left = size;
    }

    /**
     * The next record, or null at the end of the file.
     *
     * @throws IOException when the file is truncated or a checksum does not match
     */
    @Nullable
    public byte[] next() throws IOException {
      if (left == 0) {
        return null;
      }
      byte[] header = readFully(12, "its header");
      ByteBuffer h = ByteBuffer.wrap(header).order(ByteOrder.LITTLE_ENDIAN);
      long length = h.getLong();
      if (h.getInt() != maskedCrc(header, 0, 8)) {
        throw corrupt("the checksum of its length does not match");
      }
      if (length < 0 || length > left - 4 || length > Integer.MAX_VALUE - 8) {
        throw corrupt("its length " + Long.toUnsignedString(length) + " runs past the end of the file ("
            + left + " bytes left)");
      }
      byte[] data = readFully((int) length, "its data");
      int crc = ByteBuffer.wrap(readFully(4, "its checksum")).order(ByteOrder.LITTLE_ENDIAN).getInt();
      if (crc != maskedCrc(data, 0, data.length)) {
        throw corrupt("the checksum of its data does not match");
      }
      index++;
      return data;
    }

    /** Records read so far. */
    public int count() {
      return index;
    }

    private byte[] readFully(int n, String what) throws IOException {
      byte[] b = new byte[n];
      int off = 0;
      while (off < n) {
        int r = in.read(b, off, n - off);
        if (r < 0) {
          throw corrupt("the file ends inside " + what);
        }
        off += r;
      }
      left -= n;
      return b;
    }

    private IOException corrupt(String why) {
      return new IOException(file.getFileName() + " is not a valid TFRecord file: record " + index + ": " + why);
    }

    @Override
    public void close() throws IOException {
      in.close();
    }
  }

  /** TFRecord's masked CRC-32C: the checksum rotated right by 15 bits, plus a constant. */
  static int maskedCrc(byte[] data, int offset, int length) {
    CRC32C crc = new CRC32C();
    crc.update(data, offset, length);
    int c = (int) crc.getValue();
    return ((c >>> 15) | (c << 17)) + MASK_DELTA;
  }
}
