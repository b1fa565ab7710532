package io.jointspace.server.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import io.jointspace.server.FuzzBudget;
import io.jointspace.server.FuzzTry;
import java.time.Duration;
import java.util.Arrays;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.statistics.Statistics;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.lifecycle.AddLifecycleHook;

/**
 * Fuzzes {@link ImageResampler} with every size the pixel limit lets through, extreme aspect
 * ratios (1 x 4 million) among them, and every target size, filter and crop. A single-color
 * image must come out as that color at the target size, in time, within an allocation bound
 * of a few bytes per pixel. Exactly that color wherever each output pixel has fewer than 16448
 * taps: every filter's weights sum to one, but Pillow rounds each to 22 bits, so a pass that
 * averages more source pixels than that may drift by a level (1 x 4,000,000 to 1 x 1 drifts far:
 * Pillow's arithmetic, kept as it is).
 */
@AddLifecycleHook(FuzzBudget.class)
class ImageResamplerFuzzTest {
  /** Largest decoded image tried: a tenth of the default pixel limit keeps a try under a second. */
  static final int MAX_PIXELS = 4_000_000;
  static final Duration TIME_LIMIT = Duration.ofSeconds(10);

  record Source(int width, int height) {}

  @Provide
  Arbitrary<Source> sources() {
    Arbitrary<Integer> side = Arbitraries.oneOf(Arbitraries.integers().between(1, 64),
        Arbitraries.integers().between(1, 2000), Arbitraries.of(1, 2, 3));
    Arbitrary<Source> ordinary = Combinators.combine(side, side).as(Source::new);
    // one short side, the other as long as the pixel limit allows (and below)
    Arbitrary<Source> extreme = Combinators.combine(Arbitraries.integers().between(1, 4),
        Arbitraries.integers().between(1, MAX_PIXELS), Arbitraries.of(true, false))
        .as((s, l, tall) -> {
          int along = Math.max(1, Math.min(l, MAX_PIXELS / s));
          return tall ? new Source(s, along) : new Source(along, s);
        });
    return Arbitraries.oneOf(ordinary, extreme);
  }

  @Provide
  Arbitrary<Integer> targetSide() {
    return Arbitraries.oneOf(Arbitraries.of(1, 2, 224, 336, 512, 1024), Arbitraries.integers().between(1, 1024));
  }

  @Property(tries = 300)
  void aSingleColor_staysThatColor_atTheTargetSize(@ForAll("sources") Source source,
      @ForAll("targetSide") int width, @ForAll("targetSide") int height,
      @ForAll ImageResampler.Filter filter, @ForAll boolean stretch, @ForAll @IntRange(max = 0xffffff) int color) {
    byte[] pixels = new byte[source.width() * source.height() * 3];
    for (int i = 0; i < pixels.length; i += 3) {
      pixels[i] = (byte) (color >> 16);
      pixels[i + 1] = (byte) (color >> 8);
      pixels[i + 2] = (byte) color;
    }
    Rgb in = new Rgb(source.width(), source.height(), pixels);
    ImageResampler resampler = new ImageResampler(width, height, filter, stretch);
    Statistics.label("aspect").collect(Math.max(source.width(), source.height())
        / Math.min(source.width(), source.height()) > 1000 ? "over 1000:1" : "ordinary");

    FuzzTry.Outcome<Rgb> out = FuzzTry.run(TIME_LIMIT, () -> resampler.resize(in));
    Rgb rgb = out.valueOrOnly();
    // the source, the output, and per output pixel one set of taps (a few ints each)
    // an intermediate image (at most 16 MiB or three times the source), the taps (a few ints per
    // source pixel along each axis) and the output
    out.allocatedAtMost(24L * source.width() * source.height() + 48L * width * height + (32L << 20),
        "source " + source.width() + " x " + source.height());
    assertThat(rgb.width()).isEqualTo(width);
    assertThat(rgb.height()).isEqualTo(height);
    byte[] expected = new byte[width * height * 3];
    for (int i = 0; i < expected.length; i += 3) {
      expected[i] = (byte) (color >> 16);
      expected[i + 1] = (byte) (color >> 8);
      expected[i + 2] = (byte) color;
    }
    int tolerance = tolerance(filter, stretch, source, width, height);
    Statistics.label("tolerance").collect(tolerance == 0 ? "exact" : "drift allowed");
    int worst = 0;
    for (int i = 0; i < expected.length; i++) {
      worst = Math.max(worst, Math.abs((rgb.pixels()[i] & 0xff) - (expected[i] & 0xff)));
    }
    if (worst > tolerance) {
      int at = Arrays.mismatch(rgb.pixels(), expected) / 3;
      throw new AssertionError("pixel " + at + " (x " + at % width + ", y " + at / width + ") is not the source's color "
          + Integer.toHexString(color) + " but " + Integer.toHexString((rgb.pixels()[at * 3] & 0xff) << 16
          | (rgb.pixels()[at * 3 + 1] & 0xff) << 8 | (rgb.pixels()[at * 3 + 2] & 0xff)) + ", off by " + worst
          + " levels where " + tolerance + " are allowed");
    }
  }

  /**
   * Levels a single color may drift by: per pass, each of its taps' 22-bit weights is rounded
   * by at most half a unit, so the weights sum to one within taps / 2^23, which moves a value of
   * 255 by {@code 255 * taps / 2^23} levels; below half a level the rounding hides it.
   */
  static int tolerance(ImageResampler.Filter filter, boolean stretch, Source source, int width, int height) {
    if (filter == ImageResampler.Filter.NEAREST) {
      return 0;
    }
    double scaleX;
    double scaleY;
    if (stretch) {
      scaleX = (double) source.width() / width;
      scaleY = (double) source.height() / height;
    } else {
      scaleX = Math.min((double) source.width() / width, (double) source.height() / height);
      scaleY = scaleX;
    }
    double support = filter == ImageResampler.Filter.BICUBIC ? 2 : 1;
    int levels = 0;
    for (double scale : new double[] {scaleX, scaleY}) {
      double taps = 2 * support * Math.max(1, scale) + 2;
      double drift = 255 * taps / (1 << 23);
      levels += drift < 0.5 ? 0 : (int) Math.ceil(drift);
    }
    return levels;
  }
}
