package io.jointspace.server.runtime;

/**
 * Bounds on one encoded image, checked by {@link ImagePreprocessor} before any pixel is
 * decoded: the size of the encoded bytes, and the pixel count the image header declares
 * (width x height of the first frame), so a small file that claims a huge canvas (a
 * decompression bomb) is rejected without allocating it.
 *
 * @param maxEncodedBytes largest accepted encoded image, in bytes; default 20 MiB
 * @param maxPixels largest accepted width x height; default 40 megapixels
 */
public record ImageLimits(long maxEncodedBytes, long maxPixels) {
  /** 20 MiB encoded, 40,000,000 pixels (e.g. 8000 x 5000). */
  public static final ImageLimits DEFAULT = new ImageLimits(20L << 20, 40_000_000L);

  /**
   * Pixels that can be decoded into one Java array of three bytes per pixel (and into a
   * {@code BufferedImage}): a hard ceiling whatever {@link #maxPixels} says.
   */
  static final long ADDRESSABLE_PIXELS = (Integer.MAX_VALUE - 8) / 4;

  public ImageLimits {
    if (maxEncodedBytes <= 0) {
      throw new IllegalArgumentException("maxEncodedBytes must be positive, is " + maxEncodedBytes);
    }
    if (maxPixels <= 0) {
      throw new IllegalArgumentException("maxPixels must be positive, is " + maxPixels);
    }
  }
}
