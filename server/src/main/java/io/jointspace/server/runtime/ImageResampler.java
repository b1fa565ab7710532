package io.jointspace.server.runtime;

import java.util.Arrays;

/**
 * The second step of {@link ImagePreprocessor}: Pillow's {@code Image.resize} to the target
 * size, reproduced down to its fixed-point arithmetic (see {@link ImagePreprocessor} for the
 * filters and the crop). Immutable and thread-safe.
 */
final class ImageResampler {
  /** The resampling filters; each as Pillow computes it. */
  enum Filter { NEAREST, BILINEAR, BICUBIC }

  private final int width;
  private final int height;
  private final Filter filter;
  private final boolean stretch;

  /** @param stretch scale each axis to the target; false: cover the target, then cut the center */
  ImageResampler(int width, int height, Filter filter, boolean stretch) {
    this.width = width;
    this.height = height;
    this.filter = filter;
    this.stretch = stretch;
  }


  /**
   * Which source pixels, with which fixed-point weights (sum 1 << {@link #PRECISION_BITS}),
   * make output pixels {@code offset .. offset + count - 1} of a {@code in -> resized}
   * resampling along one axis.
   */
  record Taps(int[] first, int[] count, int[] weights, int stride) {}

  /** Pillow's fixed-point precision for 8-bit resampling: {@code 32 - 8 - 2}. */
  private static final int PRECISION_BITS = 22;

  /** The image scaled (and, for CENTER_CROP, cut) to the target size. */
  Rgb resize(Rgb src) {
    int w = src.width();
    int h = src.height();
    // The size the image is scaled to before the crop: a long, since covering the target
    // with an image of extreme aspect ratio (1 x 10 million to 224 x 224) passes 2^31.
    long rw;
    long rh;
    if (stretch) {
      rw = width;
      rh = height;
    } else if ((long) w * height <= (long) h * width) { // width reaches the target first
      rw = width;
      rh = Math.max(height, (long) h * width / w);
    } else {
      rh = height;
      rw = Math.max(width, (long) w * height / h);
    }
    long offX = (long) Math.rint((rw - width) / 2.0);
    long offY = (long) Math.rint((rh - height) / 2.0);
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
    Taps cols = needH ? taps(w, rw, offX, width, filter) : null;
    if (cols != null && rows != null && verticalFirst(w, h, y1 - y0)) {
      return horizontal(vertical(src, rows, 0), cols, 0, height);
    }
    Rgb out = needH ? horizontal(src, cols, y0, y1) : src;
    int shift = needH ? y0 : 0;
    return rows == null ? out : vertical(out, rows, shift);
  }

  /**
   * Below this many bytes the image between the passes is never a concern: the order is always
   * Pillow's, horizontal first.
   */
  static final long SMALL_INTERMEDIATE_BYTES = 16L << 20;

  /**
   * Whether to scale vertically first, unlike Pillow: only when widening the {@code rows} source
   * rows the vertical pass reads would make an image between the passes over
   * {@link #SMALL_INTERMEDIATE_BYTES}, over three times the source, and larger than the other
   * order's. Only extreme aspect ratios get there (1 x 4,000,000 to 224 x 224: 2.7 GB); the
   * result may then differ from Pillow's by one level, as each pass rounds.
   */
  private boolean verticalFirst(int w, int h, int rows) {
    long horizontalFirst = (long) width * rows * 3;
    long verticalFirst = (long) w * height * 3;
    return horizontalFirst > SMALL_INTERMEDIATE_BYTES && horizontalFirst > 3L * w * h * 3
        && verticalFirst < horizontalFirst;
  }

  /** Pillow's {@code precompute_coeffs} and {@code normalize_coeffs_8bpc}, with an offset for the crop. */
  private static Taps taps(int in, long resized, long offset, int count, Filter filter) {
    if (filter == Filter.NEAREST) {
      return nearest(in, resized, offset, count);
    }
    double scale = (double) in / resized;
    double filterScale = Math.max(scale, 1.0);
    double support = (filter == Filter.BICUBIC ? 2.0 : 1.0) * filterScale;
    // Pillow's window, 2 * ceil(support) + 1, but never wider than the source: no tap lies outside it
    int stride = (int) Math.min((long) Math.ceil(support) * 2 + 1, in);
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
   * Crop offsets up to this many pixels are reached by Pillow's repeated addition; larger ones
   * (only extreme aspect ratios have them, sizes Pillow itself could not scale) start from the
   * product instead, so that the loop stays short.
   */
  static final long NEAREST_SUMMED_OFFSET = 1 << 24;

  /**
   * Pillow's nearest-neighbour scaling ({@code ImagingScaleAffine}): source position
   * {@code (x + 0.5) * in / resized}, accumulated by repeated addition as Pillow does (so an
   * exact half-way position may fall on the lower pixel, as it does there), from the first
   * pixel up to crop offsets of {@link #NEAREST_SUMMED_OFFSET}.
   */
  private static Taps nearest(int in, long resized, long offset, int count) {
    double step = (double) in / resized;
    int[] first = new int[count];
    int[] n = new int[count];
    int[] weights = new int[count];
    long j = 0;
    double pos = step * 0.5;
    if (offset > NEAREST_SUMMED_OFFSET) {
      j = offset;
      pos = (offset + 0.5) * step;
    }
    for (; j < offset + count; j++) {
      if (j >= offset) {
        int i = (int) (j - offset);
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
    byte[] out = new byte[Math.multiplyExact(Math.multiplyExact(outW, h), 3)];
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
    byte[] out = new byte[Math.multiplyExact(rowLength, outH)];
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
}
