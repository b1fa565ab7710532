package io.jointspace.server.runtime;

import io.jointspace.config.v1.ImageEncoderSpec;
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
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Iterator;
import java.util.Locale;
import java.util.Map;
import javax.imageio.ImageReader;
import javax.imageio.spi.IIORegistry;
import javax.imageio.spi.ImageReaderSpi;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.MemoryCacheImageInputStream;

/**
 * Turns one encoded image (PNG, JPEG, GIF or BMP) into the pixel tensor an image encoder
 * takes, as its {@link ImageEncoderSpec} says: {@code [height, width, 3]} (NHWC) or
 * {@code [3, height, width]} (NCHW), without the batch dimension, channels in
 * {@code channel_order}, FP32 {@code (v / 255 - mean[c]) / std[c]} or raw UINT8.
 *
 * <p>Decoding. The format is recognized by its signature bytes, never by a name.
 * JPEG is read with the TwelveMonkeys plugin, which also reads CMYK and YCCK JPEGs (converted
 * to sRGB); the JDK reads PNG, GIF (the first frame only) and BMP. Grayscale becomes three
 * equal channels (the stored values, no gamma conversion); 16-bit samples are rounded to 8
 * bits; <b>alpha is composited over white</b>: {@code round((v * a + 255 * (255 - a)) / 255)}
 * (PIL's {@code convert("RGB")} would drop it instead, so transparent pixels keep whatever
 * color they store, often black). An image the decoder delivers in another color space (CMYK,
 * an ICC profile) is converted to sRGB by Java's color management.
 *
 * <p>Limits ({@link ImageLimits}). The encoded size is checked before anything is read, and
 * the pixel count from the header (PNG IHDR, JPEG SOF, GIF image descriptor, BMP header)
 * before a single pixel is decoded, so a decompression bomb costs nothing.
 *
 * <p>Resizing is done here, not by {@code java.awt}, so results do not depend on the JDK: it
 * is Pillow's {@code Image.resize} algorithm, reproduced down to its fixed-point arithmetic
 * (checked bit for bit against Pillow 9.4 on several hundred random sizes, filters and
 * crops): a separable convolution, horizontal pass then vertical, each rounded to 8 bits,
 * pixel centers at half-integers ({@code half_pixel_centers}), taps outside the image dropped
 * and the rest renormalized.
 * <ul>
 *   <li>NEAREST: source pixel {@code floor((x + 0.5) * in / out)}, the position summed step by
 *       step in doubles as Pillow does (an exact half-way point may round down there too).
 *   <li>BILINEAR: triangle filter; when downscaling, its support widens by the scale factor
 *       (antialiasing, as Pillow and TensorFlow's {@code resize(antialias=True)}), so every
 *       source pixel contributes, weighted by overlap: an area average, not a sample.
 *   <li>BICUBIC: Keys cubic with a = -0.5 (Pillow's), widened the same way when downscaling;
 *       overshoot is clipped to 0..255.
 * </ul>
 * CENTER_CROP scales so that the image covers the target (for a square target: its shorter
 * side becomes the target size, the longer {@code floor(size * long / short)}, as
 * torchvision's {@code Resize(size)}), then cuts the center (offset
 * {@code round_half_even((resized - target) / 2)}, as torchvision's {@code CenterCrop}).
 * STRETCH scales each axis to the target independently.
 *
 * <p>Immutable and thread-safe; {@link #preprocess} is CPU work for the preprocessing pool.
 * Error messages carry no field name: callers prefix it.
 */
public final class ImagePreprocessor {
  static final String UNDECODABLE = "is not a decodable image (PNG, JPEG, GIF or BMP)";

  private enum Filter { NEAREST, BILINEAR, BICUBIC }

  private final int width;
  private final int height;
  private final Filter filter;
  private final boolean stretch;
  private final boolean bgr;
  private final boolean nchw;
  private final boolean uint8;
  /** Per output channel: the FP32 value of each 8-bit input value. */
  private final float[][] lut;
  private final ImageLimits limits;

  /**
   * @throws IllegalArgumentException naming the spec field that is wrong
   *     ({@code image.width}, {@code image.mean}, ...)
   */
  public ImagePreprocessor(ImageEncoderSpec spec, ImageLimits limits) {
    this.limits = java.util.Objects.requireNonNull(limits, "limits");
    if (spec.getWidth() <= 0) {
      throw new IllegalArgumentException("image.width must be positive, is " + spec.getWidth());
    }
    if (spec.getHeight() <= 0) {
      throw new IllegalArgumentException("image.height must be positive, is " + spec.getHeight());
    }
    if ((long) spec.getWidth() * spec.getHeight() * 3 * Float.BYTES > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException("image.width x image.height (" + spec.getWidth() + " x " + spec.getHeight()
          + ") is too large for one tensor");
    }
    this.width = spec.getWidth();
    this.height = spec.getHeight();
    this.filter = switch (spec.getResize()) {
      case RESIZE_FILTER_UNSPECIFIED, BILINEAR -> Filter.BILINEAR;
      case NEAREST -> Filter.NEAREST;
      case BICUBIC -> Filter.BICUBIC;
      case UNRECOGNIZED -> throw new IllegalArgumentException("image.resize has an unknown value " + spec.getResizeValue());
    };
    this.stretch = switch (spec.getCrop()) {
      case CROP_MODE_UNSPECIFIED, CENTER_CROP -> false;
      case STRETCH -> true;
      case UNRECOGNIZED -> throw new IllegalArgumentException("image.crop has an unknown value " + spec.getCropValue());
    };
    this.bgr = switch (spec.getChannelOrder()) {
      case CHANNEL_ORDER_UNSPECIFIED, RGB -> false;
      case BGR -> true;
      case UNRECOGNIZED -> throw new IllegalArgumentException(
          "image.channel_order has an unknown value " + spec.getChannelOrderValue());
    };
    this.nchw = switch (spec.getLayout()) {
      case LAYOUT_UNSPECIFIED, NHWC -> false;
      case NCHW -> true;
      case UNRECOGNIZED -> throw new IllegalArgumentException("image.layout has an unknown value " + spec.getLayoutValue());
    };
    this.uint8 = switch (spec.getPixelType()) {
      case PIXEL_TYPE_UNSPECIFIED, FP32 -> false;
      case UINT8 -> true;
      case UNRECOGNIZED -> throw new IllegalArgumentException(
          "image.pixel_type has an unknown value " + spec.getPixelTypeValue());
    };
    float[] mean = perChannel(spec.getMeanList().stream().mapToDouble(Float::doubleValue).toArray(), 0f, "image.mean");
    float[] std = perChannel(spec.getStdList().stream().mapToDouble(Float::doubleValue).toArray(), 1f, "image.std");
    for (int c = 0; c < 3; c++) {
      if (!(std[c] > 0)) {
        throw new IllegalArgumentException("image.std values must be positive, image.std[" + c + "] is " + std[c]);
      }
    }
    this.lut = new float[3][256];
    for (int c = 0; c < 3; c++) {
      for (int v = 0; v < 256; v++) {
        lut[c][v] = (v / 255f - mean[c]) / std[c];
      }
    }
  }

  private static float[] perChannel(double[] values, float fallback, String field) {
    if (values.length == 0) {
      return new float[] {fallback, fallback, fallback};
    }
    if (values.length != 3) {
      throw new IllegalArgumentException(field + " must have 3 values (one per channel) or none, has " + values.length);
    }
    float[] out = new float[3];
    for (int c = 0; c < 3; c++) {
      if (!Double.isFinite(values[c])) {
        throw new IllegalArgumentException(field + "[" + c + "] must be a finite number, is " + values[c]);
      }
      out[c] = (float) values[c];
    }
    return out;
  }

  /** The shape of {@link #preprocess}'s tensors: {@code [h, w, 3]} or {@code [3, h, w]}. */
  public long[] shape() {
    return nchw ? new long[] {3, height, width} : new long[] {height, width, 3};
  }

  /**
   * Decodes, resizes and normalizes one image.
   *
   * @return one image without batch dimension, FP32 or UINT8 as the spec says
   * @throws InvalidInputException when the bytes are empty, over the limits, or not a
   *     decodable PNG, JPEG, GIF or BMP
   */
  public TensorData preprocess(byte[] encoded) {
    Rgb image = decode(encoded);
    Rgb resized = resize(image);
    return pack(resized);
  }

  // ---- decoding -------------------------------------------------------------------------

  /** 8-bit RGB, interleaved, row-major. */
  record Rgb(int width, int height, byte[] pixels) {}

  private Rgb decode(byte[] encoded) {
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

  // ---- resizing -------------------------------------------------------------------------

  /**
   * Which source pixels, with which fixed-point weights (sum 1 << {@link #PRECISION_BITS}),
   * make output pixels {@code offset .. offset + count - 1} of a {@code in -> resized}
   * resampling along one axis.
   */
  record Taps(int[] first, int[] count, int[] weights, int stride) {}

  /** Pillow's fixed-point precision for 8-bit resampling: {@code 32 - 8 - 2}. */
  private static final int PRECISION_BITS = 22;

  private Rgb resize(Rgb src) {
    int w = src.width();
    int h = src.height();
    int rw;
    int rh;
    if (stretch) {
      rw = width;
      rh = height;
    } else if ((long) w * height <= (long) h * width) { // width reaches the target first
      rw = width;
      rh = (int) Math.max(height, (long) h * width / w);
    } else {
      rh = height;
      rw = (int) Math.max(width, (long) w * height / h);
    }
    int offX = (int) Math.rint((rw - width) / 2.0);
    int offY = (int) Math.rint((rh - height) / 2.0);
    boolean needH = !(rw == w && offX == 0 && width == w);
    Taps rows = rh == h && offY == 0 && height == h ? null : taps(h, rh, offY, height, filter);
    // Only the source rows the vertical pass reads need the horizontal pass (as PIL).
    int y0 = 0;
    int y1 = h;
    if (rows != null) {
      y0 = h;
      y1 = 0;
      for (int i = 0; i < rows.first().length; i++) {
        y0 = Math.min(y0, rows.first()[i]);
        y1 = Math.max(y1, rows.first()[i] + rows.count()[i]);
      }
    }
    Rgb out = needH ? horizontal(src, taps(w, rw, offX, width, filter), y0, y1) : src;
    int shift = needH ? y0 : 0;
    return rows == null ? out : vertical(out, rows, shift);
  }

  /** Pillow's {@code precompute_coeffs} and {@code normalize_coeffs_8bpc}, with an offset for the crop. */
  private static Taps taps(int in, int resized, int offset, int count, Filter filter) {
    if (filter == Filter.NEAREST) {
      return nearest(in, resized, offset, count);
    }
    double scale = (double) in / resized;
    double filterScale = Math.max(scale, 1.0);
    double support = (filter == Filter.BICUBIC ? 2.0 : 1.0) * filterScale;
    int stride = (int) Math.ceil(support) * 2 + 1;
    int[] first = new int[count];
    int[] n = new int[count];
    int[] weights = new int[count * stride];
    double[] k = new double[stride];
    for (int i = 0; i < count; i++) {
      double center = (offset + i + 0.5) * scale;
      double ss = 1.0 / filterScale;
      int xmin = Math.max(0, (int) (center - support + 0.5));
      int xmax = Math.min(in, (int) (center + support + 0.5)) - xmin;
      double total = 0.0;
      for (int x = 0; x < xmax; x++) {
        k[x] = kernel(filter, (x + xmin - center + 0.5) * ss);
        total += k[x];
      }
      for (int x = 0; x < xmax; x++) {
        double w = total != 0.0 ? k[x] / total : k[x];
        weights[i * stride + x] = (int) (w < 0 ? -0.5 + w * (1 << PRECISION_BITS) : 0.5 + w * (1 << PRECISION_BITS));
      }
      first[i] = xmin;
      n[i] = xmax;
    }
    return new Taps(first, n, weights, stride);
  }

  /**
   * Pillow's nearest-neighbour scaling ({@code ImagingScaleAffine}): source position
   * {@code (x + 0.5) * in / resized}, accumulated by repeated addition as Pillow does (so an
   * exact half-way position may fall on the lower pixel, as it does there).
   */
  private static Taps nearest(int in, int resized, int offset, int count) {
    double step = (double) in / resized;
    int[] first = new int[count];
    int[] n = new int[count];
    int[] weights = new int[count];
    double pos = step * 0.5;
    for (int j = 0; j < offset + count; j++) {
      if (j >= offset) {
        int i = j - offset;
        first[i] = Math.min(in - 1, pos < 0 ? 0 : (int) pos);
        n[i] = 1;
        weights[i] = 1 << PRECISION_BITS;
      }
      pos += step;
    }
    return new Taps(first, n, weights, 1);
  }

  private static double kernel(Filter filter, double x) {
    if (x < 0.0) {
      x = -x;
    }
    if (filter == Filter.BILINEAR) {
      return x < 1.0 ? 1.0 - x : 0.0;
    }
    final double a = -0.5; // Keys
    if (x < 1.0) {
      return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
    }
    if (x < 2.0) {
      return (((x - 5) * x + 8) * x - 4) * a;
    }
    return 0.0;
  }

  /** Resamples rows {@code y0 .. y1 - 1} of {@code src} horizontally. */
  private static Rgb horizontal(Rgb src, Taps taps, int y0, int y1) {
    int w = src.width();
    int h = y1 - y0;
    int[] firsts = taps.first();
    int[] counts = taps.count();
    int[] weights = taps.weights();
    int stride = taps.stride();
    int outW = firsts.length;
    byte[] in = src.pixels();
    byte[] out = new byte[outW * h * 3];
    for (int y = 0; y < h; y++) {
      int row = (y0 + y) * w;
      for (int x = 0; x < outW; x++) {
        long r = 1 << (PRECISION_BITS - 1);
        long g = r;
        long b = r;
        int base = x * stride;
        int p = (row + firsts[x]) * 3;
        for (int k = 0; k < counts[x]; k++, p += 3) {
          long wgt = weights[base + k];
          r += wgt * (in[p] & 0xff);
          g += wgt * (in[p + 1] & 0xff);
          b += wgt * (in[p + 2] & 0xff);
        }
        int o = (y * outW + x) * 3;
        out[o] = clip8(r);
        out[o + 1] = clip8(g);
        out[o + 2] = clip8(b);
      }
    }
    return new Rgb(outW, h, out);
  }

  /** Resamples columns; {@code src}'s row 0 is source row {@code shift} of the taps. */
  private static Rgb vertical(Rgb src, Taps taps, int shift) {
    int w = src.width();
    int[] firsts = taps.first();
    int[] counts = taps.count();
    int[] weights = taps.weights();
    int outH = firsts.length;
    int rowLength = w * 3;
    byte[] in = src.pixels();
    byte[] out = new byte[rowLength * outH];
    long[] acc = new long[rowLength];
    for (int y = 0; y < outH; y++) {
      Arrays.fill(acc, 1 << (PRECISION_BITS - 1));
      int base = y * taps.stride();
      for (int k = 0; k < counts[y]; k++) {
        long wgt = weights[base + k];
        int row = (firsts[y] - shift + k) * rowLength;
        for (int i = 0; i < rowLength; i++) {
          acc[i] += wgt * (in[row + i] & 0xff);
        }
      }
      for (int i = 0; i < rowLength; i++) {
        out[y * rowLength + i] = clip8(acc[i]);
      }
    }
    return new Rgb(w, outH, out);
  }

  /** Pillow's {@code clip8}: the fixed-point sum (rounding bias included) to 0..255. */
  private static byte clip8(long v) {
    return (byte) (v <= 0 ? 0 : v >= (255L + 1) << PRECISION_BITS ? 255 : v >> PRECISION_BITS);
  }

  // ---- packing --------------------------------------------------------------------------

  private TensorData pack(Rgb img) {
    byte[] src = img.pixels();
    int plane = height * width;
    if (uint8) {
      byte[] out = new byte[plane * 3];
      for (int p = 0; p < plane; p++) {
        for (int c = 0; c < 3; c++) {
          out[nchw ? c * plane + p : p * 3 + c] = src[p * 3 + (bgr ? 2 - c : c)];
        }
      }
      return TensorData.ofBytes(DType.UINT8, shape(), out);
    }
    float[] values = new float[plane * 3];
    for (int c = 0; c < 3; c++) {
      float[] table = lut[c];
      int from = bgr ? 2 - c : c;
      if (nchw) {
        for (int p = 0, at = c * plane; p < plane; p++) {
          values[at + p] = table[src[p * 3 + from] & 0xff];
        }
      } else {
        for (int i = c; i < values.length; i += 3) {
          values[i] = table[src[i - c + from] & 0xff];
        }
      }
    }
    byte[] bytes = new byte[values.length * Float.BYTES];
    ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().put(values);
    return TensorData.ofBytes(DType.FP32, shape(), bytes);
  }
}
