package io.jointspace.server.store;

import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Writes items in PostgreSQL's binary COPY format for {@link #COLUMNS}
 * {@code (id text, embedding vector, metadata jsonb, source_text text, source_image bytea)}.
 * Big-endian throughout; a vector is {@code int16 dim, int16 0, float4 x dim}; jsonb is a
 * version byte (1) followed by the JSON text.
 */
final class BinaryCopy {
  private static final byte[] SIGNATURE = {'P', 'G', 'C', 'O', 'P', 'Y', '\n', (byte) 0xff, '\r', '\n', 0};
  static final String COLUMNS = "(id, embedding, metadata, source_text, source_image)";

  private BinaryCopy() {}

  static void write(List<ItemWrite> items, OutputStream sink) throws IOException {
    DataOutputStream out = new DataOutputStream(sink);
    out.write(SIGNATURE);
    out.writeInt(0); // flags
    out.writeInt(0); // header extension length
    for (ItemWrite item : items) {
      out.writeShort(5);
      bytes(out, item.id().getBytes(StandardCharsets.UTF_8));
      float[] v = item.vector();
      out.writeInt(4 + 4 * v.length);
      out.writeShort(v.length);
      out.writeShort(0);
      for (float x : v) {
        out.writeFloat(x);
      }
      byte[] json = item.metadataJson().getBytes(StandardCharsets.UTF_8);
      out.writeInt(json.length + 1);
      out.writeByte(1);
      out.write(json);
      if (item.sourceText() == null) {
        out.writeInt(-1);
      } else {
        bytes(out, item.sourceText().getBytes(StandardCharsets.UTF_8));
      }
      if (item.sourceImage() == null) {
        out.writeInt(-1);
      } else {
        bytes(out, item.sourceImage());
      }
    }
    out.writeShort(-1);
    out.flush();
  }

  private static void bytes(DataOutputStream out, byte[] b) throws IOException {
    out.writeInt(b.length);
    out.write(b);
  }
}
