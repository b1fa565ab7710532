package io.jointspace.server.runtime;

import io.jointspace.server.errors.InvalidInputException;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.ComponentColorModel;
import java.awt.image.ComponentSampleModel;
import java.awt.image.DataBuffer;
import java.awt.image.DataBufferByte;
import java.awt.image.Raster;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.Arrays;
import java.util.Iterator;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import javax.imageio.ImageReader;
import javax.imageio.spi.IIORegistry;
import javax.imageio.spi.ImageReaderSpi;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.MemoryCacheImageInputStream;

/**
 * The first step of {@link ImagePreprocessor}: encoded bytes to 8-bit sRGB ({@link Rgb}), within
 * the {@link ImageLimits}. The format is recognized by its signature bytes; the encoded size is
 * checked before anything is read and the header's pixel count before any pixel is decoded. A
 * BMP that wraps a PNG or JPEG is refused: its reader would decode the wrapped image at a size
 * no checked header states.
 * Alpha is composited over white. Thread-safe.
 */
final class ImageDecoder {
  static final String UNDECODABLE = "is not a decodable image (PNG, JPEG, GIF or BMP)";

  private final ImageLimits limits;

  ImageDecoder(ImageLimits limits) {
    this.limits = Objects.requireNonNull(limits, "limits");
  }


  /**
   * @throws InvalidInputException when the bytes are empty, over the limits, or not a
   *     decodable PNG, JPEG, GIF or BMP
   */
  Rgb decode(byte[] encoded) {
    if (encoded == null || encoded.length == 0) {
      throw new InvalidInputException("is empty");
    }
    if (encoded.length > limits.maxEncodedBytes()) {
      throw new InvalidInputException("is " + encoded.length + " bytes, over the limit of "
          + limits.maxEncodedBytes() + " bytes");
    }
    String format = sniff(encoded);
    if (format == null) {
      throw new InvalidInputException(UNDECODABLE);
    }
    if (format.equals("bmp") && wrapsAnotherFormat(encoded)) {
      throw new InvalidInputException(UNDECODABLE + ": a BMP that wraps a PNG or JPEG (compression 5 or 4) is not "
          + "taken; send the PNG or JPEG itself");
    }
    if (format.equals("jpeg")) {
      long icc = largestIccProfileClaim(encoded);
      if (icc > encoded.length) {
        throw new InvalidInputException(UNDECODABLE + ": JPEG data is corrupt (its ICC profile declares " + icc
            + " bytes, more than the " + encoded.length + " bytes of the whole image)");
      }
    }
    int scans = format.equals("jpeg") ? jpegScans(encoded) : 1;
    ImageReaderSpi spi = Readers.BY_FORMAT.get(format);
    if (spi == null) {
      throw new IllegalStateException("no ImageIO reader for " + format);
    }
    BufferedImage image;
    ImageReader reader = null;
    try (ImageInputStream in = new MemoryCacheImageInputStream(new ByteArrayInputStream(encoded))) {
      reader = spi.createReaderInstance();
      reader.setInput(in, true, true);
      checkPixels(reader.getWidth(0), reader.getHeight(0));
      checkScans(scans, reader.getWidth(0), reader.getHeight(0));
      image = reader.read(0, reader.getDefaultReadParam());
    } catch (InvalidInputException e) {
      throw e;
    } catch (IOException | RuntimeException e) {
      String why = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
      throw new InvalidInputException(UNDECODABLE + ": " + format.toUpperCase(Locale.ROOT) + " data is corrupt ("
          + why + ")", e);
    } finally {
      if (reader != null) {
        reader.dispose();
      }
    }
    checkPixels(image.getWidth(), image.getHeight());
    return toRgb(image);
  }

  private void checkPixels(int w, int h) {
    if (w <= 0 || h <= 0) {
      throw new InvalidInputException(UNDECODABLE + ": its header declares " + w + " x " + h + " pixels");
    }
    long pixels = (long) w * h;
    if (pixels > limits.maxPixels() || pixels > ImageLimits.ADDRESSABLE_PIXELS) {
      throw new InvalidInputException("is " + w + " x " + h + " = " + pixels + " pixels, over the limit of "
          + Math.min(limits.maxPixels(), ImageLimits.ADDRESSABLE_PIXELS) + " pixels");
    }
  }

  /**
   * Pixels a JPEG's scans may render in all, as a multiple of the pixel limit. The reader
   * renders a progressive JPEG once per scan (about 3 bytes of heap per pixel each time): a
   * 65,500 x 1 image whose scans were repeated 765 times took 153 MB to decode from 24 kB.
   * Encoders write about 10 scans; 16 leaves room at the largest size allowed, and many more
   * for smaller images.
   */
  static final int SCAN_PIXELS_PER_PIXEL_LIMIT = 16;

  private void checkScans(int scans, int w, int h) {
    long rendered = (long) scans * w * h;
    long limit = SCAN_PIXELS_PER_PIXEL_LIMIT * Math.min(limits.maxPixels(), ImageLimits.ADDRESSABLE_PIXELS);
    if (scans > 1 && rendered > limit) {
      throw new InvalidInputException("is a JPEG of " + scans + " scans of " + w + " x " + h + " pixels: its scans "
          + "render " + rendered + " pixels, over the limit of " + limit + " (" + SCAN_PIXELS_PER_PIXEL_LIMIT
          + " times the pixel limit)");
    }
  }

  /**
   * How many scans a JPEG has, at most: its start-of-scan markers (0xFF 0xDA) anywhere in the
   * file. Entropy-coded data never holds that pair (a 0xFF in it is followed by 0x00 or a
   * marker), so only markers, and the odd pair inside other segments (an embedded thumbnail's
   * scans, profile bytes) count.
   */
  static int jpegScans(byte[] b) {
    int scans = 0;
    for (int i = 0; i + 1 < b.length; i++) {
      if ((b[i] & 0xff) == 0xff && (b[i + 1] & 0xff) == 0xda) {
        scans++;
      }
    }
    return scans;
  }

  /**
   * Whether a BMP's pixels are a whole PNG or JPEG (compression BI_PNG = 5, BI_JPEG = 4, in an
   * info header of 40 bytes or more). The JDK's reader decodes such an image at the size the
   * wrapped header claims, which the BMP header's size, checked against the limits, says
   * nothing about.
   */
  private static boolean wrapsAnotherFormat(byte[] b) {
    if (b.length < 34) {
      return false; // too short to hold the field: the reader finds it corrupt
    }
    java.nio.ByteBuffer le = java.nio.ByteBuffer.wrap(b).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    long headerSize = le.getInt(14) & 0xffffffffL;
    long compression = le.getInt(30) & 0xffffffffL;
    return headerSize >= 40 && (compression == 4 || compression == 5);
  }

  private static final byte[] ICC_PROFILE = "ICC_PROFILE\0".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

  /**
   * The largest profile size that the header of any ICC_PROFILE chunk of a JPEG declares (the
   * first four bytes after the chunk's 14-byte preamble, in every APP2 segment found anywhere
   * in the file), or -1. The JPEG plugin allocates that size before it reads the profile; a
   * truncated profile it then ignores, so a claim up to the file's size costs no more than the
   * file, and a larger one can only be corrupt.
   */
  private static long largestIccProfileClaim(byte[] b) {
    long largest = -1;
    int preamble = 4 + ICC_PROFILE.length + 2; // marker, length, identifier, chunk index and count
    for (int i = 0; i + preamble + 4 <= b.length; i++) {
      if ((b[i] & 0xff) == 0xff && (b[i + 1] & 0xff) == 0xe2
          && Arrays.equals(b, i + 4, i + 4 + ICC_PROFILE.length, ICC_PROFILE, 0, ICC_PROFILE.length)) {
        int at = i + preamble;
        long size = ((b[at] & 0xffL) << 24) | ((b[at + 1] & 0xff) << 16) | ((b[at + 2] & 0xff) << 8) | (b[at + 3] & 0xff);
        largest = Math.max(largest, size);
      }
    }
    return largest;
  }

  private static final byte[] PNG_SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

  /** The format by its signature bytes, or null. */
  static String sniff(byte[] b) {
    if (startsWith(b, PNG_SIGNATURE)) {
      return "png";
    }
    if (b.length >= 3 && (b[0] & 0xff) == 0xff && (b[1] & 0xff) == 0xd8 && (b[2] & 0xff) == 0xff) {
      return "jpeg";
    }
    if (startsWith(b, "GIF87a".getBytes(java.nio.charset.StandardCharsets.US_ASCII))
        || startsWith(b, "GIF89a".getBytes(java.nio.charset.StandardCharsets.US_ASCII))) {
      return "gif";
    }
    if (b.length >= 2 && b[0] == 'B' && b[1] == 'M') {
      return "bmp";
    }
    return null;
  }

  private static boolean startsWith(byte[] b, byte[] prefix) {
    return b.length >= prefix.length && Arrays.equals(b, 0, prefix.length, prefix, 0, prefix.length);
  }

  /** The reader chosen per format, once: TwelveMonkeys for JPEG, the JDK's for the others. */
  private static final class Readers {
    static final Map<String, ImageReaderSpi> BY_FORMAT = find();

    private static Map<String, ImageReaderSpi> find() {
      IIORegistry registry = IIORegistry.getDefaultInstance();
      ImageReaderSpi jpeg = registry.getServiceProviderByClass(
          com.twelvemonkeys.imageio.plugins.jpeg.JPEGImageReaderSpi.class);
      if (jpeg == null) { // not registered by the class loader ImageIO scanned: register it
        jpeg = new com.twelvemonkeys.imageio.plugins.jpeg.JPEGImageReaderSpi();
        registry.registerServiceProvider(jpeg, ImageReaderSpi.class);
        jpeg = registry.getServiceProviderByClass(com.twelvemonkeys.imageio.plugins.jpeg.JPEGImageReaderSpi.class);
      }
      return Map.of("jpeg", jpeg, "png", jdk(registry, "png"), "gif", jdk(registry, "gif"), "bmp", jdk(registry, "bmp"));
    }

    private static ImageReaderSpi jdk(IIORegistry registry, String format) {
      ImageReaderSpi any = null;
      for (Iterator<ImageReaderSpi> it = registry.getServiceProviders(ImageReaderSpi.class, true); it.hasNext(); ) {
        ImageReaderSpi spi = it.next();
        if (Arrays.stream(spi.getFormatNames()).anyMatch(format::equalsIgnoreCase)) {
          if (spi.getClass().getName().startsWith("com.sun.imageio.plugins.")) {
            return spi;
          }
          any = any == null ? spi : any;
        }
      }
      if (any == null) {
        throw new IllegalStateException("no ImageIO reader for " + format);
      }
      return any;
    }
  }

  /** Any decoded image as 8-bit sRGB, alpha composited over white. */
  static Rgb toRgb(BufferedImage image) {
    int w = image.getWidth();
    int h = image.getHeight();
    byte[] out = new byte[Math.multiplyExact(Math.multiplyExact(w, h), 3)];
    ColorModel cm = image.getColorModel();
    Raster raster = image.getRaster();
    ColorSpace cs = cm.getColorSpace();
    boolean alpha = cm.hasAlpha();
    int bands = raster.getNumBands();
    int colors = alpha ? bands - 1 : bands;
    int type = raster.getTransferType();
    boolean direct = cm instanceof ComponentColorModel && !cm.isAlphaPremultiplied()
        && (type == DataBuffer.TYPE_BYTE || type == DataBuffer.TYPE_USHORT)
        && ((cs.getType() == ColorSpace.TYPE_GRAY && colors == 1) || (cs.isCS_sRGB() && colors == 3));
    if (direct) {
      // Stored values as they are: getRGB would gamma-convert linear gray.
      int[] max = new int[bands];
      for (int b = 0; b < bands; b++) {
        max[b] = (1 << cm.getComponentSize(b)) - 1;
      }
      boolean bytes = type == DataBuffer.TYPE_BYTE && Arrays.stream(max).allMatch(m -> m == 255);
      if (bytes && interleavedBytes(raster, alpha, colors, out)) {
        return new Rgb(w, h, out);
      }
      int[] row = new int[w * bands];
      byte[] byteRow = bytes ? new byte[w * bands] : null;
      for (int y = 0; y < h; y++) {
        if (bytes) { // the common case (JPEG, 8-bit PNG), without a per-sample int copy
          raster.getDataElements(0, y, w, 1, byteRow);
          for (int i = 0; i < row.length; i++) {
            row[i] = byteRow[i] & 0xff;
          }
        } else {
          raster.getPixels(0, y, w, 1, row);
        }
        for (int x = 0; x < w; x++) {
          int p = x * bands;
          int a = alpha ? to8(row[p + bands - 1], max[bands - 1]) : 255;
          int o = (y * w + x) * 3;
          for (int c = 0; c < 3; c++) {
            int band = colors == 1 ? 0 : c;
            out[o + c] = (byte) overWhite(to8(row[p + band], max[band]), a);
          }
        }
      }
    } else {
      int[] argb = new int[w];
      for (int y = 0; y < h; y++) {
        image.getRGB(0, y, w, 1, argb, 0, w); // non-premultiplied sRGB
        for (int x = 0; x < w; x++) {
          int v = argb[x];
          int a = v >>> 24;
          int o = (y * w + x) * 3;
          out[o] = (byte) overWhite((v >> 16) & 0xff, a);
          out[o + 1] = (byte) overWhite((v >> 8) & 0xff, a);
          out[o + 2] = (byte) overWhite(v & 0xff, a);
        }
      }
    }
    return new Rgb(w, h, out);
  }

  /**
   * The common case (8-bit PNG and JPEG as ImageIO decodes them) read straight from the
   * raster's byte array: one bank of interleaved samples. Writes {@code out} and returns true,
   * or returns false for any other layout, which the general path then reads. Same values as
   * the general path: stored samples, alpha composited over white.
   */
  private static boolean interleavedBytes(Raster raster, boolean alpha, int colors, byte[] out) {
    if (!(raster.getSampleModel() instanceof ComponentSampleModel sm) || !(raster.getDataBuffer() instanceof DataBufferByte db)
        || db.getNumBanks() != 1 || raster.getSampleModelTranslateX() != 0 || raster.getSampleModelTranslateY() != 0
        || raster.getMinX() != 0 || raster.getMinY() != 0) {
      return false;
    }
    int[] banks = sm.getBankIndices();
    for (int b : banks) {
      if (b != 0) {
        return false;
      }
    }
    byte[] data = db.getData();
    int[] offsets = sm.getBandOffsets();
    int pixelStride = sm.getPixelStride();
    int scanline = sm.getScanlineStride();
    int w = raster.getWidth();
    int h = raster.getHeight();
    int r = offsets[0] + db.getOffset();
    int g = (colors == 1 ? offsets[0] : offsets[1]) + db.getOffset();
    int b = (colors == 1 ? offsets[0] : offsets[2]) + db.getOffset();
    int a = alpha ? offsets[colors] + db.getOffset() : 0;
    int o = 0;
    for (int y = 0; y < h; y++) {
      int p = y * scanline;
      for (int x = 0; x < w; x++, p += pixelStride, o += 3) {
        if (alpha) {
          int av = data[p + a] & 0xff;
          out[o] = (byte) overWhite(data[p + r] & 0xff, av);
          out[o + 1] = (byte) overWhite(data[p + g] & 0xff, av);
          out[o + 2] = (byte) overWhite(data[p + b] & 0xff, av);
        } else {
          out[o] = data[p + r];
          out[o + 1] = data[p + g];
          out[o + 2] = data[p + b];
        }
      }
    }
    return true;
  }

  private static int to8(int value, int max) {
    return max == 255 ? value : (int) ((value * 255L + max / 2) / max);
  }

  private static int overWhite(int v, int a) {
    return a == 255 ? v : (v * a + 255 * (255 - a) + 127) / 255;
  }
}
