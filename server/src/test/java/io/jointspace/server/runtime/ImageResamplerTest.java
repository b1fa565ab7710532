package io.jointspace.server.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.management.ManagementFactory;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * {@link ImageResampler} at the extremes the pixel limit lets through (the ordinary sizes are
 * checked against Pillow in {@link ImagePreprocessorTest}). Regressions found by
 * {@link ImageResamplerFuzzTest}.
 */
class ImageResamplerTest {
  private static Rgb solid(int w, int h, int value) {
    byte[] pixels = new byte[w * h * 3];
    Arrays.fill(pixels, (byte) value);
    return new Rgb(w, h, pixels);
  }

  private static void assertSolid(Rgb out, int w, int h, int value) {
    assertThat(out.width()).isEqualTo(w);
    assertThat(out.height()).isEqualTo(h);
    byte[] expected = new byte[w * h * 3];
    Arrays.fill(expected, (byte) value);
    assertThat(Arrays.mismatch(out.pixels(), expected)).as("first pixel value that differs").isEqualTo(-1);
  }

  @Test
  void centerCrop_ofAOnePixelWideImageTenMillionTall_keepsItsColor() {
    // Covering 224 x 224 scales it to 224 x 2240000000, more than an int holds: the crop's
    // geometry overflowed and NEAREST returned black.
    Rgb tall = solid(1, 10_000_000, 100);
    Rgb wide = solid(10_000_000, 1, 100);
    for (ImageResampler.Filter filter : ImageResampler.Filter.values()) {
      assertSolid(new ImageResampler(224, 224, filter, false).resize(tall), 224, 224, 100);
      assertSolid(new ImageResampler(224, 224, filter, false).resize(wide), 224, 224, 100);
    }
  }

  private static long allocatedBy(Runnable r) {
    com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    long before = threads.getCurrentThreadAllocatedBytes();
    r.run();
    return threads.getCurrentThreadAllocatedBytes() - before;
  }

  @Test
  void stretch_ofAVeryTallImage_scalesVerticallyFirst_insteadOfWideningEveryRow() {
    // Widening each of 4 million rows to 224 pixels first made a 2.7 GB intermediate image: a
    // NegativeArraySizeException, and 384 MB for 1 x 2,000,000 to 64 x 64.
    for (ImageResampler.Filter filter : ImageResampler.Filter.values()) {
      Rgb tall = solid(1, 4_000_000, 100);
      Rgb[] out = new Rgb[1];
      long allocated = allocatedBy(() -> out[0] = new ImageResampler(224, 224, filter, true).resize(tall));
      assertThat(out[0].width()).isEqualTo(224);
      assertThat(out[0].height()).isEqualTo(224);
      // 17857 source rows per output row: Pillow's 22-bit weights may be off by one level there
      for (byte b : out[0].pixels()) {
        assertThat(b & 0xff).isBetween(99, 101);
      }
      assertThat(allocated).as(filter + ": bytes allocated").isLessThan(100L << 20);

      Rgb wide = solid(4_000_000, 1, 100);
      allocated = allocatedBy(() -> out[0] = new ImageResampler(224, 224, filter, true).resize(wide));
      assertThat(out[0].width()).isEqualTo(224);
      assertThat(allocated).as(filter + ": bytes allocated").isLessThan(100L << 20);
    }
    Rgb small = solid(1, 2_000_000, 7);
    long allocated = allocatedBy(() -> assertSolid(new ImageResampler(64, 64, ImageResampler.Filter.NEAREST, true)
        .resize(small), 64, 64, 7));
    assertThat(allocated).isLessThan(16L << 20);
  }

  @Test
  void downscalingToOnePixel_allocatesTapsForTheSourcePixels_notForTheFilterSupport() {
    // 4,000,000 rows to 1 with BICUBIC: the support spans 16,000,001 rows, four times the
    // image, and each output pixel's taps were allocated that wide (192 MB of weights).
    Rgb tall = solid(1, 4_000_000, 100);
    Rgb[] out = new Rgb[1];
    long allocated = allocatedBy(() -> out[0] = new ImageResampler(1, 1, ImageResampler.Filter.BICUBIC, true).resize(tall));
    assertThat(out[0].width()).isEqualTo(1);
    assertThat(allocated).isLessThan(64L << 20);
  }
}
