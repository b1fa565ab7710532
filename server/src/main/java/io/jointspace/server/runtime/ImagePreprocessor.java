package io.jointspace.server.runtime;

import io.jointspace.config.v1.ImageEncoderSpec;
import io.jointspace.server.errors.InvalidInputException;

/**
 * Turns one encoded image (PNG, JPEG, GIF or BMP) into the pixel tensor an image encoder
 * takes, as its {@link ImageEncoderSpec} says: {@code [height, width, 3]} (NHWC) or
 * {@code [3, height, width]} (NCHW), without the batch dimension, channels in
 * {@code channel_order}, FP32 {@code (v / 255 - mean[c]) / std[c]} or raw UINT8.
 *
 * <p>Decoding. The format is recognized by its signature bytes, never by a name.
 * JPEG is read with the TwelveMonkeys plugin, which also reads CMYK and YCCK JPEGs (converted
 * to sRGB); the JDK reads PNG, GIF (the first frame only) and BMP (but not a BMP that wraps a
 * PNG or JPEG, whose wrapped size no checked header states). Grayscale becomes three
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
 * crops): a separable convolution, horizontal pass then vertical (vertical first only where
 * widening first would make an intermediate image over 16 MiB and three times the source, which
 * only extreme aspect ratios do), each rounded to 8 bits,
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
 * <p>Three steps, each in a file of its own: {@link ImageDecoder} (bytes to 8-bit RGB),
 * {@link ImageResampler} (resize and crop), {@link PixelPacker} (layout, channel order,
 * normalization). Immutable and thread-safe; {@link #preprocess} is CPU work for the
 * preprocessing pool.
 * Error messages carry no field name: callers prefix it.
 */
final class ImagePreprocessor {
  static final String UNDECODABLE = ImageDecoder.UNDECODABLE;

  private final ImageDecoder decoder;
  private final ImageResampler resampler;
  private final PixelPacker packer;

  /**
   * @throws IllegalArgumentException naming the spec field that is wrong
   *     ({@code image.width}, {@code image.mean}, ...)
   */
  ImagePreprocessor(ImageEncoderSpec spec, ImageLimits limits) {
    this.decoder = new ImageDecoder(limits);
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
    ImageResampler.Filter filter = switch (spec.getResize()) {
      case RESIZE_FILTER_UNSPECIFIED, BILINEAR -> ImageResampler.Filter.BILINEAR;
      case NEAREST -> ImageResampler.Filter.NEAREST;
      case BICUBIC -> ImageResampler.Filter.BICUBIC;
      case UNRECOGNIZED -> throw new IllegalArgumentException("image.resize has an unknown value " + spec.getResizeValue());
    };
    boolean stretch = switch (spec.getCrop()) {
      case CROP_MODE_UNSPECIFIED, CENTER_CROP -> false;
      case STRETCH -> true;
      case UNRECOGNIZED -> throw new IllegalArgumentException("image.crop has an unknown value " + spec.getCropValue());
    };
    boolean bgr = switch (spec.getChannelOrder()) {
      case CHANNEL_ORDER_UNSPECIFIED, RGB -> false;
      case BGR -> true;
      case UNRECOGNIZED -> throw new IllegalArgumentException(
          "image.channel_order has an unknown value " + spec.getChannelOrderValue());
    };
    boolean nchw = switch (spec.getLayout()) {
      case LAYOUT_UNSPECIFIED, NHWC -> false;
      case NCHW -> true;
      case UNRECOGNIZED -> throw new IllegalArgumentException("image.layout has an unknown value " + spec.getLayoutValue());
    };
    boolean uint8 = switch (spec.getPixelType()) {
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
    float[][] lut = new float[3][256];
    for (int c = 0; c < 3; c++) {
      for (int v = 0; v < 256; v++) {
        lut[c][v] = (v / 255f - mean[c]) / std[c];
      }
    }
    this.resampler = new ImageResampler(spec.getWidth(), spec.getHeight(), filter, stretch);
    this.packer = new PixelPacker(spec.getWidth(), spec.getHeight(), bgr, nchw, uint8, lut);
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
  long[] shape() {
    return packer.shape();
  }

  /**
   * Decodes, resizes and normalizes one image.
   *
   * @return one image without batch dimension, FP32 or UINT8 as the spec says
   * @throws InvalidInputException when the bytes are empty, over the limits, or not a
   *     decodable PNG, JPEG, GIF or BMP
   */
  TensorData preprocess(byte[] encoded) {
    return packer.pack(resampler.resize(decoder.decode(encoded)));
  }
}
