package io.jointspace.server.runtime;

import static org.assertj.core.api.Assertions.assertThat;

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
}
