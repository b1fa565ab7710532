package io.jointspace.server.runtime;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.zip.CRC32;
import java.util.zip.Deflater;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.ImageOutputStream;

/**
 * Real encoded images for the image fuzz tests to start from (every format and pixel layout the
 * decoders take, BMPs that wrap a PNG or a JPEG among them), and the mutations that turn them
 * into hostile ones: bit flips, truncation, cut and repeated slices, and edits that know the
 * formats (PNG IHDR size and chunk lengths with or without a valid CRC, compressed ancillary
 * chunks that inflate to far more than the limits, JPEG frame sizes and repeated scans, GIF and
 * BMP header fields).
 */
final class ImageSeeds {
  private ImageSeeds() {}

  /** Name to bytes, in a fixed order; made once from a fixed random seed. */
  static final Map<String, byte[]> SEEDS = make();

  /** Values that break size arithmetic: zero, one, powers of two and their neighbours, the int limits. */
  static final int[] INTERESTING = {0, 1, 2, 3, 7, 8, 15, 16, 17, 255, 256, 1023, 1024, 4095, 32767, 32768,
      46341, 60000, 65535, 65536, 1 << 20, 1 << 24, 0x7fffffff, 0x80000000, 0xffffffff, 0x7ffffff8, 0xfffffffe};

  private static Map<String, byte[]> make() {
    Random rnd = new Random(20261206);
    Map<String, byte[]> seeds = new LinkedHashMap<>();
    try {
      seeds.put("png-rgb", write(noise(rnd, 13, 7, BufferedImage.TYPE_INT_RGB), "png"));
      seeds.put("png-argb", write(noise(rnd, 5, 9, BufferedImage.TYPE_INT_ARGB), "png"));
      seeds.put("png-gray", write(noise(rnd, 9, 4, BufferedImage.TYPE_BYTE_GRAY), "png"));
      seeds.put("png-gray16", write(noise(rnd, 6, 6, BufferedImage.TYPE_USHORT_GRAY), "png"));
      seeds.put("png-palette", write(noise(rnd, 11, 3, BufferedImage.TYPE_BYTE_INDEXED), "png"));
      seeds.put("png-binary", write(noise(rnd, 17, 5, BufferedImage.TYPE_BYTE_BINARY), "png"));
      seeds.put("png-abgr", write(noise(rnd, 3, 12, BufferedImage.TYPE_4BYTE_ABGR), "png"));
      seeds.put("jpeg-baseline", jpeg(noise(rnd, 24, 16, BufferedImage.TYPE_INT_RGB), false));
      seeds.put("jpeg-progressive", jpeg(noise(rnd, 20, 20, BufferedImage.TYPE_INT_RGB), true));
      seeds.put("jpeg-gray", jpeg(noise(rnd, 16, 9, BufferedImage.TYPE_BYTE_GRAY), false));
      seeds.put("gif", write(noise(rnd, 10, 10, BufferedImage.TYPE_BYTE_INDEXED), "gif"));
      seeds.put("bmp-rgb", write(noise(rnd, 7, 5, BufferedImage.TYPE_INT_RGB), "bmp"));
      seeds.put("bmp-palette", write(noise(rnd, 9, 6, BufferedImage.TYPE_BYTE_INDEXED), "bmp"));
      seeds.put("bmp-rle8", bmp(noise(rnd, 12, 4, BufferedImage.TYPE_BYTE_INDEXED), "BI_RLE8"));
      seeds.put("bmp-bitfields", bmp(noise(rnd, 6, 6, BufferedImage.TYPE_USHORT_565_RGB), "BI_BITFIELDS"));
      seeds.put("bmp-png", bmp(noise(rnd, 8, 8, BufferedImage.TYPE_INT_RGB), "BI_PNG"));
      seeds.put("bmp-jpeg", bmp(noise(rnd, 8, 8, BufferedImage.TYPE_INT_RGB), "BI_JPEG"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return seeds;
  }

  static BufferedImage noise(Random rnd, int w, int h, int type) {
    BufferedImage img = new BufferedImage(w, h, type);
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        // smooth gradients with some noise: compresses like a photo, not like static
        int r = (x * 255 / w + rnd.nextInt(16)) & 0xff;
        int g = (y * 255 / h + rnd.nextInt(16)) & 0xff;
        int b = ((x + y) * 127 / (w + h) + rnd.nextInt(64)) & 0xff;
        int a = 128 + rnd.nextInt(128);
        img.setRGB(x, y, a << 24 | r << 16 | g << 8 | b);
      }
    }
    return img;
  }

  static byte[] write(BufferedImage img, String format) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    if (!ImageIO.write(img, format, out)) {
      throw new IllegalStateException("no ImageIO writer for " + format + " and image type " + img.getType());
    }
    return out.toByteArray();
  }

  private static ImageWriter jdkWriter(String format) {
    for (Iterator<ImageWriter> it = ImageIO.getImageWritersByFormatName(format); it.hasNext(); ) {
      ImageWriter w = it.next();
      if (w.getClass().getName().startsWith("com.sun.")) {
        return w;
      }
    }
    throw new IllegalStateException("no JDK " + format + " writer");
  }

  private static byte[] jpeg(BufferedImage img, boolean progressive) throws IOException {
    ImageWriter w = jdkWriter("jpeg");
    ImageWriteParam p = w.getDefaultWriteParam();
    if (progressive) {
      p.setProgressiveMode(ImageWriteParam.MODE_DEFAULT);
    }
    return writeWith(w, p, img);
  }

  private static byte[] bmp(BufferedImage img, String compression) throws IOException {
    ImageWriter w = jdkWriter("bmp");
    ImageWriteParam p = w.getDefaultWriteParam();
    p.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
    p.setCompressionType(compression);
    return writeWith(w, p, img);
  }

  private static byte[] writeWith(ImageWriter w, ImageWriteParam p, BufferedImage img) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (ImageOutputStream ios = ImageIO.createImageOutputStream(out)) {
      w.setOutput(ios);
      w.write(null, new IIOImage(img, null, null), p);
    } finally {
      w.dispose();
    }
    return out.toByteArray();
  }

  // ------------------------------------------------------------------ mutations

  /** What a mutation does; each uses the numbers of {@link Mutation} as it needs them. */
  enum Kind {
    FLIP_BIT, SET_BYTE, TRUNCATE, DELETE, INSERT, DUPLICATE, SET_INT32_BE, SET_INT16, SET_INT32_LE,
    PNG_SIZE, PNG_CHUNK_LENGTH, PNG_CRC, PNG_BOMB, PNG_IHDR_FIELD, JPEG_SIZE, JPEG_REPEAT_SCAN, JPEG_SEGMENT_LENGTH,
    JPEG_ICC, GIF_SIZE, BMP_FIELD
  }

  /** One edit: where ({@code at}, wrapped to the length), with which value, how many bytes or times. */
  record Mutation(Kind kind, int at, int value, int length) {}

  static int interesting(int i) {
    return INTERESTING[Math.floorMod(i, INTERESTING.length)];
  }

  /** A size or count: an {@link #INTERESTING} value for a small index, else {@code v} as it is. */
  static int sizeValue(int v) {
    return v >= 0 && v < INTERESTING.length ? INTERESTING[v] : v;
  }

  static byte[] apply(byte[] seed, List<Mutation> mutations) {
    byte[] b = seed.clone();
    for (Mutation m : mutations) {
      b = apply(b, m);
      if (b.length == 0) {
        return b;
      }
    }
    return b;
  }

  private static byte[] apply(byte[] b, Mutation m) {
    int n = b.length;
    int at = Math.floorMod(m.at(), n);
    int len = Math.max(1, Math.floorMod(m.length(), 4096));
    switch (m.kind()) {
      case FLIP_BIT -> b[at] ^= (byte) (1 << (m.value() & 7));
      case SET_BYTE -> b[at] = (byte) interesting(m.value());
      case TRUNCATE -> b = Arrays.copyOf(b, Math.max(1, at));
      case DELETE -> {
        int end = Math.min(n, at + len);
        byte[] out = new byte[n - (end - at)];
        System.arraycopy(b, 0, out, 0, at);
        System.arraycopy(b, end, out, at, n - end);
        b = out.length == 0 ? b : out;
      }
      case INSERT -> {
        byte[] ins = new byte[len];
        Arrays.fill(ins, (byte) m.value());
        b = splice(b, at, ins);
      }
      case DUPLICATE -> b = splice(b, at, Arrays.copyOfRange(b, at, Math.min(n, at + len)));
      case SET_INT32_BE -> putInt(b, at, sizeValue(m.value()), ByteOrder.BIG_ENDIAN);
      case SET_INT32_LE -> putInt(b, at, sizeValue(m.value()), ByteOrder.LITTLE_ENDIAN);
      case SET_INT16 -> {
        if (at + 1 < n) {
          int v = sizeValue(m.value());
          b[at] = (byte) (v >> 8);
          b[at + 1] = (byte) v;
        }
      }
      case PNG_SIZE -> pngIhdr(b, sizeValue(m.value()), sizeValue(m.length()), m.at() % 3 != 0);
      case PNG_IHDR_FIELD -> {
        int ihdr = find(b, "IHDR");
        if (ihdr >= 0 && ihdr + 4 + 13 <= n) {
          b[ihdr + 4 + 8 + Math.floorMod(m.at(), 5)] = (byte) interesting(m.value());
          fixCrc(b, ihdr, 13);
        }
      }
      case PNG_CHUNK_LENGTH -> {
        List<Integer> chunks = pngChunks(b);
        if (!chunks.isEmpty()) {
          putInt(b, chunks.get(Math.floorMod(m.at(), chunks.size())) - 4, sizeValue(m.value()), ByteOrder.BIG_ENDIAN);
        }
      }
      case PNG_CRC -> {
        List<Integer> chunks = pngChunks(b);
        if (!chunks.isEmpty()) {
          int type = chunks.get(Math.floorMod(m.at(), chunks.size()));
          int length = ByteBuffer.wrap(b, type - 4, 4).getInt();
          if (length >= 0 && (long) type + 4 + length + 4 <= n) {
            b[type + 4 + length + Math.floorMod(m.value(), 4)] ^= 0x5a;
          }
        }
      }
      case PNG_BOMB -> b = pngBomb(b, m);
      case JPEG_SIZE -> {
        int sof = jpegSof(b);
        if (sof >= 0 && sof + 8 < n) {
          putShort(b, sof + 5, sizeValue(m.value()));
          putShort(b, sof + 7, sizeValue(m.length()));
        }
      }
      case JPEG_REPEAT_SCAN -> b = jpegRepeatScan(b, Math.floorMod(m.value(), 2000) + 1, m.at());
      case JPEG_SEGMENT_LENGTH -> {
        List<Integer> segments = jpegSegments(b);
        if (!segments.isEmpty()) {
          int s = segments.get(Math.floorMod(m.at(), segments.size()));
          if (s + 3 < n) {
            putShort(b, s + 2, sizeValue(m.value()));
          }
        }
      }
      case JPEG_ICC -> b = jpegIcc(b, m);
      case GIF_SIZE -> {
        if (n >= 10) {
          putShortLe(b, 6, sizeValue(m.value()));
          putShortLe(b, 8, sizeValue(m.length()));
        }
        int descriptor = indexOf(b, (byte) 0x2c, 13);
        if (descriptor >= 0 && descriptor + 8 < n && m.at() % 2 == 0) {
          putShortLe(b, descriptor + 5, sizeValue(m.value()));
          putShortLe(b, descriptor + 7, sizeValue(m.length()));
        }
      }
      case BMP_FIELD -> {
        // file header: size 2, offset 10; info header: size 14, width 18, height 22, planes 26,
        // bit count 28, compression 30, image size 34, colors used 46
        int[] fields = {2, 10, 14, 18, 22, 26, 28, 30, 34, 46};
        int field = fields[Math.floorMod(m.at(), fields.length)];
        putInt(b, field, field == 30 ? Math.floorMod(m.value(), 7) : sizeValue(m.value()), ByteOrder.LITTLE_ENDIAN);
      }
    }
    return b;
  }

  static byte[] splice(byte[] b, int at, byte[] insert) {
    byte[] out = new byte[b.length + insert.length];
    System.arraycopy(b, 0, out, 0, at);
    System.arraycopy(insert, 0, out, at, insert.length);
    System.arraycopy(b, at, out, at + insert.length, b.length - at);
    return out;
  }

  private static void putInt(byte[] b, int at, int v, ByteOrder order) {
    if (at + 4 <= b.length) {
      ByteBuffer.wrap(b, at, 4).order(order).putInt(v);
    }
  }

  private static void putShort(byte[] b, int at, int v) {
    if (at + 2 <= b.length) {
      b[at] = (byte) (v >> 8);
      b[at + 1] = (byte) v;
    }
  }

  private static void putShortLe(byte[] b, int at, int v) {
    if (at + 2 <= b.length) {
      b[at] = (byte) v;
      b[at + 1] = (byte) (v >> 8);
    }
  }

  private static int indexOf(byte[] b, byte value, int from) {
    for (int i = from; i < b.length; i++) {
      if (b[i] == value) {
        return i;
      }
    }
    return -1;
  }

  /** Where {@code ascii} first occurs, or -1. */
  static int find(byte[] b, String ascii) {
    byte[] t = ascii.getBytes(StandardCharsets.US_ASCII);
    outer:
    for (int i = 0; i + t.length <= b.length; i++) {
      for (int j = 0; j < t.length; j++) {
        if (b[i + j] != t[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }

  /** PNG width and height in the (first) IHDR, its CRC fixed when asked. Also inside a BMP's embedded PNG. */
  static void pngIhdr(byte[] b, int width, int height, boolean fixCrc) {
    int ihdr = find(b, "IHDR");
    if (ihdr >= 0 && ihdr + 4 + 13 + 4 <= b.length) {
      putInt(b, ihdr + 4, width, ByteOrder.BIG_ENDIAN);
      putInt(b, ihdr + 8, height, ByteOrder.BIG_ENDIAN);
      if (fixCrc) {
        fixCrc(b, ihdr, 13);
      }
    }
  }

  private static void fixCrc(byte[] b, int type, int length) {
    if (type + 4 + length + 4 <= b.length) {
      CRC32 crc = new CRC32();
      crc.update(b, type, 4 + length);
      putInt(b, type + 4 + length, (int) crc.getValue(), ByteOrder.BIG_ENDIAN);
    }
  }

  /** Offsets of the type field of each PNG chunk, walking the chunk lengths from the signature. */
  private static List<Integer> pngChunks(byte[] b) {
    List<Integer> out = new ArrayList<>();
    int start = find(b, "IHDR");
    if (start < 4) {
      return out;
    }
    int p = start - 4;
    while (p + 8 <= b.length && out.size() < 64) {
      int length = ByteBuffer.wrap(b, p, 4).getInt();
      out.add(p + 4);
      if (length < 0 || length > b.length) {
        break;
      }
      p += 12 + length;
    }
    return out;
  }

  /** Bytes of zeros deflated, for the compressed chunks: inflate to {@code 1 << 20 << k} bytes. */
  private static final Map<Integer, byte[]> BOMBS = new java.util.concurrent.ConcurrentHashMap<>();

  static byte[] deflatedZeros(int k) {
    return BOMBS.computeIfAbsent(k, kk -> {
      Deflater d = new Deflater(9);
      byte[] zeros = new byte[1 << 20];
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      byte[] buf = new byte[1 << 16];
      for (int i = 0; i < 1 << kk; i++) {
        d.setInput(zeros);
        while (!d.needsInput()) {
          out.write(buf, 0, d.deflate(buf));
        }
      }
      d.finish();
      while (!d.finished()) {
        out.write(buf, 0, d.deflate(buf));
      }
      d.end();
      return out.toByteArray();
    });
  }

  /**
   * A PNG chunk before the first IDAT whose compressed payload inflates to 1 MiB .. 256 MiB:
   * iCCP (an ICC profile), zTXt and iTXt (text), or an extra IDAT.
   */
  private static byte[] pngBomb(byte[] b, Mutation m) {
    int idat = find(b, "IDAT");
    if (idat < 4) {
      return b;
    }
    String[] types = {"iCCP", "zTXt", "iTXt", "IDAT", "tEXt"};
    String type = types[Math.floorMod(m.value(), types.length)];
    byte[] zeros = deflatedZeros(Math.floorMod(m.length(), 9));
    ByteArrayOutputStream data = new ByteArrayOutputStream();
    switch (type) {
      case "iCCP", "zTXt" -> {
        data.writeBytes("name".getBytes(StandardCharsets.US_ASCII));
        data.write(0);
        data.write(0); // compression method: deflate
        data.writeBytes(zeros);
      }
      case "iTXt" -> {
        data.writeBytes("key".getBytes(StandardCharsets.US_ASCII));
        data.write(0);
        data.write(1); // compressed
        data.write(0);
        data.write(0); // no language tag
        data.write(0); // no translated key
        data.writeBytes(zeros);
      }
      case "IDAT" -> data.writeBytes(zeros);
      default -> {
        data.writeBytes("key".getBytes(StandardCharsets.US_ASCII));
        data.write(0);
        data.writeBytes(new byte[Math.floorMod(m.length(), 1 << 16)]);
      }
    }
    return splice(b, idat - 4, chunk(type, data.toByteArray()));
  }

  static byte[] chunk(String type, byte[] data) {
    byte[] t = type.getBytes(StandardCharsets.US_ASCII);
    ByteBuffer out = ByteBuffer.allocate(12 + data.length);
    out.putInt(data.length).put(t).put(data);
    CRC32 crc = new CRC32();
    crc.update(t);
    crc.update(data);
    out.putInt((int) crc.getValue());
    return out.array();
  }

  /** Offset of the first SOF0/1/2 marker (FF C0..C2), or -1. */
  static int jpegSof(byte[] b) {
    for (int i = 2; i + 1 < b.length; i++) {
      if ((b[i] & 0xff) == 0xff && (b[i + 1] & 0xff) >= 0xc0 && (b[i + 1] & 0xff) <= 0xc2) {
        return i;
      }
    }
    return -1;
  }

  /** Offsets of JPEG markers that carry a length (all but SOI, EOI, RSTn), up to the first SOS. */
  private static List<Integer> jpegSegments(byte[] b) {
    List<Integer> out = new ArrayList<>();
    int p = 2;
    while (p + 3 < b.length && out.size() < 64) {
      if ((b[p] & 0xff) != 0xff) {
        break;
      }
      int marker = b[p + 1] & 0xff;
      out.add(p);
      if (marker == 0xda) {
        break;
      }
      p += 2 + ((b[p + 2] & 0xff) << 8 | (b[p + 3] & 0xff));
    }
    return out;
  }

  /**
   * The JPEG with one of its scans (SOS marker to the next marker) repeated {@code times}
   * times: a progressive file with thousands of scans makes a decoder pass over the image again
   * for each.
   */
  private static byte[] jpegRepeatScan(byte[] b, int times, int which) {
    List<int[]> scans = new ArrayList<>();
    for (int i = 2; i + 1 < b.length; i++) {
      if ((b[i] & 0xff) == 0xff && (b[i + 1] & 0xff) == 0xda) {
        int end = i + 2;
        while (end + 1 < b.length && !((b[end] & 0xff) == 0xff && (b[end + 1] & 0xff) != 0
            && ((b[end + 1] & 0xff) < 0xd0 || (b[end + 1] & 0xff) > 0xd7))) {
          end++;
        }
        scans.add(new int[] {i, end});
        i = end - 1;
      }
    }
    if (scans.isEmpty()) {
      return b;
    }
    int[] scan = scans.get(Math.floorMod(which, scans.size()));
    byte[] one = Arrays.copyOfRange(b, scan[0], scan[1]);
    if ((long) one.length * times > 4 << 20) {
      times = Math.max(1, (4 << 20) / one.length);
    }
    byte[] repeated = new byte[one.length * times];
    for (int i = 0; i < times; i++) {
      System.arraycopy(one, 0, repeated, i * one.length, one.length);
    }
    return splice(b, scan[1], repeated);
  }

  /** An APP2 ICC_PROFILE segment after SOI: a profile header with hostile sizes and counts, and random rest. */
  private static byte[] jpegIcc(byte[] b, Mutation m) {
    if (b.length < 2) {
      return b;
    }
    Random rnd = new Random(m.at());
    byte[] profile = new byte[128 + Math.floorMod(m.length(), 2048)];
    rnd.nextBytes(profile);
    ByteBuffer.wrap(profile).putInt(0, m.value() % 3 == 0 ? profile.length : interesting(m.value()));
    System.arraycopy("acsp".getBytes(StandardCharsets.US_ASCII), 0, profile, 36, 4);
    if (profile.length >= 132) {
      ByteBuffer.wrap(profile).putInt(128, Math.floorMod(m.value(), 64)); // the tag count
    }
    ByteArrayOutputStream seg = new ByteArrayOutputStream();
    byte[] head = "ICC_PROFILE\0".getBytes(StandardCharsets.US_ASCII);
    int length = 2 + head.length + 2 + profile.length;
    seg.write(0xff);
    seg.write(0xe2);
    seg.write(length >> 8);
    seg.write(length);
    seg.writeBytes(head);
    seg.write(1); // chunk 1
    seg.write(1 + Math.floorMod(m.value(), 2)); // of 1 or 2
    seg.writeBytes(profile);
    return splice(b, 2, seg.toByteArray());
  }
}
