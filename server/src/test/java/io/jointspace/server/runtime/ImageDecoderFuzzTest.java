package io.jointspace.server.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import io.jointspace.config.v1.ChannelOrder;
import io.jointspace.config.v1.CropMode;
import io.jointspace.config.v1.ImageEncoderSpec;
import io.jointspace.config.v1.Layout;
import io.jointspace.config.v1.PixelType;
import io.jointspace.config.v1.ResizeFilter;
import io.jointspace.server.FuzzBudget;
import io.jointspace.server.FuzzTry;
import io.jointspace.server.errors.InvalidInputException;
import io.jointspace.server.runtime.ImageSeeds.Kind;
import io.jointspace.server.runtime.ImageSeeds.Mutation;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AddLifecycleHook;
import net.jqwik.api.lifecycle.BeforeContainer;
import net.jqwik.api.statistics.Statistics;

/**
 * Fuzzes {@link ImagePreprocessor} (decoder, resampler, packer) with mutated real images of
 * every format and with random bytes. Whatever the bytes, a call returns a tensor of the
 * spec's shape or throws {@link InvalidInputException}; it finishes in time; and it allocates
 * no more than the {@link ImageLimits} allow: a header that claims more pixels than the limit
 * costs next to nothing.
 */
@AddLifecycleHook(FuzzBudget.class)
class ImageDecoderFuzzTest {
  /** Small limits keep tries fast; the bounds below follow from them. */
  static final ImageLimits LIMITS = new ImageLimits(4L << 20, 1L << 20);
  static final Duration TIME_LIMIT = Duration.ofSeconds(10);

  /**
   * Java heap one call may take: per pixel allowed, the decoder's raster (at most 8 bytes: 16-bit
   * RGBA), the RGB copy (3), the resampler's taps and intermediate image (up to 16 MiB or 9
   * bytes); per encoded byte, the reader's stream cache; plus a fixed allowance for the readers'
   * own tables.
   */
  static long allocationBound(int encodedBytes) {
    return 32 * LIMITS.maxPixels() + 8L * encodedBytes + (32L << 20);
  }

  /** A header over the pixel limit is refused before the pixels are allocated: far below one byte per claimed pixel. */
  static final long REFUSAL_BOUND = 8L << 20;

  @BeforeContainer
  static void warmUp() {
    // class loading and ImageIO's registry are paid once, not by the first try
    ImagePreprocessor p = new ImagePreprocessor(spec(8, 8).build(), LIMITS);
    for (byte[] seed : ImageSeeds.SEEDS.values()) {
      try {
        p.preprocess(seed);
      } catch (InvalidInputException refused) {
        // the BMPs that wrap a PNG or JPEG
      }
    }
  }

  static ImageEncoderSpec.Builder spec(int width, int height) {
    return ImageEncoderSpec.newBuilder().setSignature("s").setInput("in").setOutput("out").setWidth(width).setHeight(height);
  }

  record Input(String seed, List<Mutation> mutations, ImageEncoderSpec spec) {
    byte[] bytes() {
      return ImageSeeds.apply(ImageSeeds.SEEDS.get(seed), mutations);
    }
  }

  @Provide
  Arbitrary<ImageEncoderSpec> specs() {
    Arbitrary<Integer> size = Arbitraries.oneOf(Arbitraries.of(1, 2, 3, 8, 64, 224), Arbitraries.integers().between(1, 300));
    return Combinators.combine(size, size, Arbitraries.of(ResizeFilter.NEAREST, ResizeFilter.BILINEAR, ResizeFilter.BICUBIC),
            Arbitraries.of(CropMode.CENTER_CROP, CropMode.STRETCH), Arbitraries.of(Layout.NHWC, Layout.NCHW),
            Arbitraries.of(PixelType.FP32, PixelType.UINT8), Arbitraries.of(ChannelOrder.RGB, ChannelOrder.BGR))
        .as((w, h, filter, crop, layout, type, order) -> spec(w, h).setResize(filter).setCrop(crop).setLayout(layout)
            .setPixelType(type).setChannelOrder(order).build());
  }

  static Arbitrary<Mutation> mutation() {
    Arbitrary<Integer> any = Arbitraries.integers();
    return Combinators.combine(Arbitraries.of(Kind.class), any, any, any).as(Mutation::new);
  }

  @Provide
  Arbitrary<Input> mutatedImages() {
    return Combinators.combine(Arbitraries.of(new ArrayList<>(ImageSeeds.SEEDS.keySet())),
        mutation().list().ofMinSize(0).ofMaxSize(6), specs()).as(Input::new);
  }

  @Property(tries = 1500)
  void mutatedImages_decodeOrAreRefused_inTime_withinTheLimits(@ForAll("mutatedImages") Input input) {
    byte[] bytes = input.bytes();
    ImagePreprocessor p = new ImagePreprocessor(input.spec(), LIMITS);
    check(p, bytes);
  }

  /** Random bytes, behind each format's signature or none. */
  @Provide
  Arbitrary<byte[]> randomBytes() {
    Arbitrary<byte[]> prefix = Arbitraries.of(new byte[0], new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'},
        new byte[] {(byte) 0xff, (byte) 0xd8, (byte) 0xff}, "GIF89a".getBytes(), "GIF87a".getBytes(), new byte[] {'B', 'M'});
    Arbitrary<byte[]> tail = Arbitraries.bytes().array(byte[].class).ofMaxSize(2048);
    return Combinators.combine(prefix, tail).as((a, b) -> {
      byte[] out = new byte[a.length + b.length];
      System.arraycopy(a, 0, out, 0, a.length);
      System.arraycopy(b, 0, out, a.length, b.length);
      return out;
    });
  }

  @Property(tries = 1000)
  void randomBytes_areRefused_inTime(@ForAll("randomBytes") byte[] bytes, @ForAll("specs") ImageEncoderSpec spec) {
    check(new ImagePreprocessor(spec, LIMITS), bytes);
  }

  @Provide
  Arbitrary<Input> hugeHeaders() {
    Arbitrary<Integer> big = Arbitraries.oneOf(Arbitraries.of(1025, 4096, 46341, 60000, 65535, 1 << 20, 1 << 24, 0x7fffffff),
        Arbitraries.integers().between(1025, 65535));
    return Combinators.combine(Arbitraries.of("png", "jpeg", "gif", "bmp", "bmp-png"), big, big, Arbitraries.integers(), specs())
        .as((format, w, h, salt, spec) -> switch (format) {
          case "png" -> new Input(pick("png-", salt), List.of(new Mutation(Kind.PNG_SIZE, 1, w, h)), spec);
          case "jpeg" -> new Input(pick("jpeg-", salt),
              List.of(new Mutation(Kind.JPEG_SIZE, 0, w & 0xffff | 0x401, h & 0xffff | 0x401)), spec);
          case "gif" -> new Input("gif", List.of(new Mutation(Kind.GIF_SIZE, 0, w & 0xffff | 0x401, h & 0xffff | 0x401)), spec);
          case "bmp" -> new Input(pick("bmp-", salt), List.of(new Mutation(Kind.BMP_FIELD, 3, w, 0),
              new Mutation(Kind.BMP_FIELD, 4, h, 0)), spec);
          default -> new Input("bmp-png", List.of(new Mutation(Kind.PNG_SIZE, 1, w, h)), spec);
        });
  }

  private static String pick(String prefix, int salt) {
    List<String> names = ImageSeeds.SEEDS.keySet().stream().filter(n -> n.startsWith(prefix)).toList();
    return names.get(Math.floorMod(salt, names.size()));
  }

  @Property(tries = 300)
  void headersOverThePixelLimit_areRefused_beforeThePixelsAreAllocated(@ForAll("hugeHeaders") Input input) {
    byte[] bytes = input.bytes();
    ImagePreprocessor p = new ImagePreprocessor(input.spec(), LIMITS);
    FuzzTry.Outcome<TensorData> out = FuzzTry.run(TIME_LIMIT, () -> p.preprocess(bytes));
    out.valueOrOnly(InvalidInputException.class);
    out.allocatedAtMost(REFUSAL_BOUND, "a header over " + LIMITS.maxPixels() + " pixels is refused before decoding");
  }

  static void check(ImagePreprocessor p, byte[] bytes) {
    FuzzTry.Outcome<TensorData> out = FuzzTry.run(TIME_LIMIT, () -> p.preprocess(bytes));
    TensorData t = out.valueOrOnly(InvalidInputException.class);
    Statistics.label("outcome").collect(t != null ? "decoded" : "refused");
    out.allocatedAtMost(allocationBound(bytes.length), "limits " + LIMITS);
    if (t != null) {
      assertThat(t.shape()).containsExactly(p.shape());
      assertThat(t.bytes()).hasSize((int) t.elementCount() * t.dtype().byteSize());
    }
  }
}
