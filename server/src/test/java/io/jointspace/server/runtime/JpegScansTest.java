package io.jointspace.server.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import io.jointspace.server.FuzzTry;
import io.jointspace.server.errors.InvalidInputException;
import io.jointspace.server.runtime.ImageSeeds.Kind;
import io.jointspace.server.runtime.ImageSeeds.Mutation;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A progressive JPEG is rendered once per scan: one whose scans were repeated hundreds of times
 * (found by ImageDecoderFuzzTest) is refused before it is decoded, and one within the limit
 * decodes within the fuzz tests' heap bound.
 */
class JpegScansTest {
  /** The fuzz test's progressive seed, 65,500 x 1 pixels, with a scan repeated {@code repeats} more times. */
  static byte[] repeated(int repeats) {
    return ImageSeeds.apply(ImageSeeds.SEEDS.get("jpeg-progressive"), List.of(new Mutation(Kind.JPEG_SIZE, 0, 1, -36),
        new Mutation(Kind.JPEG_REPEAT_SCAN, 0, repeats - 1, -211426)));
  }

  @Test
  void scansRenderingPastTheLimit_areRefusedBeforeDecoding() {
    byte[] bytes = repeated(766);
    assertThat(ImageDecoder.jpegScans(bytes)).isGreaterThanOrEqualTo(766);
    ImageDecoder d = new ImageDecoder(ImageDecoderFuzzTest.LIMITS);
    FuzzTry.Outcome<Rgb> out = FuzzTry.run(ImageDecoderFuzzTest.TIME_LIMIT, () -> d.decode(bytes));
    assertThat(out.error()).isInstanceOf(InvalidInputException.class).hasMessageContaining("scans of 65500 x 1 pixels")
        .hasMessageContaining("over the limit of " + 16 * ImageDecoderFuzzTest.LIMITS.maxPixels());
    out.allocatedAtMost(ImageDecoderFuzzTest.REFUSAL_BOUND, "refused before decoding");
  }

  @Test
  void scansWithinTheLimit_decodeWithinTheHeapBound() {
    long most = 16 * ImageDecoderFuzzTest.LIMITS.maxPixels() / 65_500;
    byte[] bytes = repeated(240);
    assertThat(ImageDecoder.jpegScans(bytes)).isBetween(240, (int) most);
    ImageDecoder d = new ImageDecoder(ImageDecoderFuzzTest.LIMITS);
    FuzzTry.Outcome<Rgb> out = FuzzTry.run(ImageDecoderFuzzTest.TIME_LIMIT, () -> d.decode(bytes));
    assertThat(out.error()).isNull();
    assertThat(out.value().width()).isEqualTo(65_500);
    out.allocatedAtMost(ImageDecoderFuzzTest.allocationBound(bytes.length), "within the limit");
  }
}
