package io.jointspace.server.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.twelvemonkeys.imageio.color.ColorSpaces;
import io.jointspace.config.v1.ChannelOrder;
import io.jointspace.config.v1.CropMode;
import io.jointspace.config.v1.ImageEncoderSpec;
import io.jointspace.config.v1.Layout;
import io.jointspace.config.v1.PixelType;
import io.jointspace.config.v1.ResizeFilter;
import io.jointspace.server.errors.InvalidInputException;
import java.awt.Transparency;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ComponentColorModel;
import java.awt.image.DataBuffer;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.awt.image.WritableRaster;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Random;
import java.util.zip.CRC32;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.ImageOutputStream;
import org.junit.jupiter.api.Test;

class ImagePreprocessorTest {

  // ---- helpers ------------------------------------------------------------------------

  private static ImageEncoderSpec.Builder spec(int width, int height) {
    return ImageEncoderSpec.newBuilder().setSignature("s").setInput("in").setOutput("out").setWidth(width).setHeight(height);
  }

  private static ImagePreprocessor uint8(ImageEncoderSpec.Builder spec) {
    return new ImagePreprocessor(spec.setPixelType(PixelType.UINT8).build(), ImageLimits.DEFAULT);
  }

  /** An RGB image; {@code rgb[y][x]} = 0xRRGGBB. */
  private static BufferedImage rgb(int[][] rgb) {
    BufferedImage img = new BufferedImage(rgb[0].length, rgb.length, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < rgb.length; y++) {
      for (int x = 0; x < rgb[0].length; x++) {
        img.setRGB(x, y, rgb[y][x]);
      }
    }
    return img;
  }

  private static BufferedImage solid(int w, int h, int rgb) {
    int[][] px = new int[h][w];
    for (int[] row : px) {
      Arrays.fill(row, rgb);
    }
    return rgb(px);
  }

  private static byte[] encode(BufferedImage img, String format) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    assertThat(ImageIO.write(img, format, out)).as("ImageIO can write " + format).isTrue();
    return out.toByteArray();
  }

  private static ImageWriter jdkJpegWriter() {
    for (Iterator<ImageWriter> it = ImageIO.getImageWritersByFormatName("jpeg"); it.hasNext(); ) {
      ImageWriter w = it.next();
      if (w.getClass().getName().startsWith("com.sun.")) {
        return w;
      }
    }
    throw new AssertionError("no JDK JPEG writer");
  }

  private static byte[] jpeg(BufferedImage img, boolean progressive) throws IOException {
    ImageWriter writer = jdkJpegWriter();
    ImageWriteParam param = writer.getDefaultWriteParam();
    param.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
    param.setCompressionQuality(0.98f);
    if (progressive) {
      param.setProgressiveMode(ImageWriteParam.MODE_DEFAULT);
    }
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ImageOutputStream out = ImageIO.createImageOutputStream(bytes)) {
      writer.setOutput(out);
      writer.write(null, new IIOImage(img, null, null), param);
    } finally {
      writer.dispose();
    }
    return bytes.toByteArray();
  }

  /** Whether a JPEG holds a marker (0xFF, code) before its first scan. */
  private static boolean hasMarker(byte[] jpeg, int code) {
    for (int i = 2; i + 3 < jpeg.length; ) {
      if ((jpeg[i] & 0xff) != 0xff) {
        return false;
      }
      int marker = jpeg[i + 1] & 0xff;
      if (marker == code) {
        return true;
      }
      if (marker == 0xda) {
        return false;
      }
      i += 2 + ((jpeg[i + 2] & 0xff) << 8 | (jpeg[i + 3] & 0xff));
    }
    return false;
  }

  private static int[] ints(TensorData t) {
    byte[] b = t.bytes();
    int[] out = new int[b.length];
    for (int i = 0; i < b.length; i++) {
      out[i] = b[i] & 0xff;
    }
    return out;
  }

  /** Channel {@code c} of an NHWC UINT8 tensor as rows. */
  private static int[][] channel(TensorData t, int c) {
    int h = (int) t.dim(0);
    int w = (int) t.dim(1);
    int[] v = ints(t);
    int[][] out = new int[h][w];
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        out[y][x] = v[(y * w + x) * 3 + c];
      }
    }
    return out;
  }

  private static void assertAllPixels(TensorData t, int r, int g, int b, int tolerance) {
    int[] v = ints(t);
    for (int i = 0; i < v.length; i += 3) {
      assertThat(v[i]).as("R at %d", i / 3).isCloseTo(r, within(tolerance));
      assertThat(v[i + 1]).as("G at %d", i / 3).isCloseTo(g, within(tolerance));
      assertThat(v[i + 2]).as("B at %d", i / 3).isCloseTo(b, within(tolerance));
    }
  }

  private static int px(int r, int g, int b) {
    return r << 16 | g << 8 | b;
  }

  // ---- resizing: hand-computed values ------------------------------------------------

  @Test
  void bilinear_upscales2x2To4x4_withHalfPixelCenters() throws IOException {
    // Along each axis, 2 -> 4 with centers at (x + 0.5) / 2 - 0.5 = -0.25, 0.25, 0.75, 1.25:
    // weights (1, 0), (0.75, 0.25), (0.25, 0.75), (0, 1) (edges clamp).
    //   R [[0, 200], [200, 0]]: rows -> [0, 50, 150, 200] and [200, 150, 50, 0]; columns mix them.
    //   G 100 everywhere.  B [[0, 40], [80, 120]].
    byte[] png = encode(rgb(new int[][] {{px(0, 100, 0), px(200, 100, 40)}, {px(200, 100, 80), px(0, 100, 120)}}), "png");
    TensorData t = uint8(spec(4, 4).setResize(ResizeFilter.BILINEAR)).preprocess(png);

    assertThat(t.dtype()).isEqualTo(DType.UINT8);
    assertThat(t.shape()).containsExactly(4, 4, 3);
    assertThat(channel(t, 0)).isDeepEqualTo(new int[][] {
        {0, 50, 150, 200},
        {50, 75, 125, 150},
        {150, 125, 75, 50},
        {200, 150, 50, 0}});
    assertThat(channel(t, 1)).isDeepEqualTo(new int[][] {
        {100, 100, 100, 100}, {100, 100, 100, 100}, {100, 100, 100, 100}, {100, 100, 100, 100}});
    assertThat(channel(t, 2)).isDeepEqualTo(new int[][] {
        {0, 10, 30, 40},
        {20, 30, 50, 60},
        {60, 70, 90, 100},
        {80, 90, 110, 120}});
  }

  @Test
  void unspecifiedFilter_isBilinear() throws IOException {
    byte[] png = encode(rgb(new int[][] {{px(0, 0, 0), px(200, 0, 0)}}), "png");
    TensorData t = uint8(spec(4, 1).setCrop(CropMode.STRETCH)).preprocess(png);
    assertThat(channel(t, 0)[0]).containsExactly(0, 50, 150, 200);
  }

  @Test
  void nearest_upscales2x2To4x4_byRepeatingPixels() throws IOException {
    // source index floor((x + 0.5) * 2 / 4): 0, 0, 1, 1
    byte[] png = encode(rgb(new int[][] {{px(10, 0, 0), px(20, 0, 0)}, {px(30, 0, 0), px(40, 0, 0)}}), "png");
    TensorData t = uint8(spec(4, 4).setResize(ResizeFilter.NEAREST)).preprocess(png);
    assertThat(channel(t, 0)).isDeepEqualTo(new int[][] {
        {10, 10, 20, 20}, {10, 10, 20, 20}, {30, 30, 40, 40}, {30, 30, 40, 40}});
  }

  @Test
  void bicubic_upscales2To4_withKeysKernel_andClipsOvershoot() throws IOException {
    // Keys a = -0.5: k(t) = 1.5|t|^3 - 2.5|t|^2 + 1 (|t| < 1), -0.5|t|^3 + 2.5|t|^2 - 4|t| + 2 (1 <= |t| < 2).
    // x = 0: center 0.25; taps at pixel 0 (t = 0.25) and 1 (t = 1.25); pixel -1 is outside and dropped:
    //   k(0.25) = 0.8671875, k(1.25) = -0.0703125, sum 0.796875 -> weights 1.0882353, -0.0882353
    // x = 1: center 0.75; k(0.25) = 0.8671875 (pixel 0), k(0.75) = 0.2265625 (pixel 1), sum 1.09375
    //   -> weights 0.7928571, 0.2071429.  x = 2, 3 mirror x = 1, 0.
    // [100, 200]: 91.18 -> 91, 120.71 -> 121, 179.29 -> 179, 208.82 -> 209
    // [0, 255]:  -22.5 -> 0 (clipped), 52.82 -> 53, 202.18 -> 202, 277.5 -> 255 (clipped)
    byte[] png = encode(rgb(new int[][] {{px(100, 0, 0), px(200, 255, 0)}}), "png");
    TensorData t = uint8(spec(4, 1).setResize(ResizeFilter.BICUBIC).setCrop(CropMode.STRETCH)).preprocess(png);
    assertThat(channel(t, 0)[0]).containsExactly(91, 121, 179, 209);
    assertThat(channel(t, 1)[0]).containsExactly(0, 53, 202, 255);
  }

  @Test
  void bilinear_downscale_averagesEverySourcePixel() throws IOException {
    // 4 -> 2: scale 2, so the triangle widens to support 2 (antialias):
    // x = 0: center 1, pixels 0..2 at t = (-0.5, 0.5, 1.5) / 2 -> weights 0.75, 0.75, 0.25 (/1.75)
    //   [0, 70, 140, 210] -> (0 * 3 + 70 * 3 + 140) / 7 = 50
    // x = 1: center 3, pixels 1..3 -> weights 0.25, 0.75, 0.75 (/1.75) -> (70 + 420 + 630) / 7 = 160
    byte[] png = encode(rgb(new int[][] {{px(0, 0, 0), px(70, 0, 0), px(140, 0, 0), px(210, 0, 0)}}), "png");
    TensorData t = uint8(spec(2, 1).setCrop(CropMode.STRETCH)).preprocess(png);
    assertThat(channel(t, 0)[0]).containsExactly(50, 160);
  }

  @Test
  void nearest_followsPillow_atExactHalfwayPositions() throws IOException {
    // 30 -> 13: x = 6 sits exactly at (6.5) * 30 / 13 = 15.0; Pillow sums the position step by
    // step (0.5 * 30/13, then + 30/13 ...) and lands just below 15, on pixel 14.
    int[][] src = new int[1][30];
    for (int x = 0; x < 30; x++) {
      src[0][x] = px(x, 0, 0);
    }
    TensorData t = uint8(spec(13, 1).setResize(ResizeFilter.NEAREST).setCrop(CropMode.STRETCH))
        .preprocess(encode(rgb(src), "png"));
    assertThat(channel(t, 0)[0]).containsExactly(1, 3, 5, 8, 10, 12, 14, 17, 19, 21, 24, 26, 28);
  }

  @Test
  void resizing_matchesPillowBitForBit() throws IOException {
    // Expected values from Pillow 9.4: Image.new("L", (11, 1)).putdata(row); .resize((n, 1), filter)
    int[] row = {0, 37, 255, 12, 99, 180, 64, 3, 250, 128, 77};
    int[][] src = new int[1][row.length];
    for (int x = 0; x < row.length; x++) {
      src[0][x] = px(row[x], row[x], row[x]);
    }
    byte[] png = encode(rgb(src), "png");
    record Case(ResizeFilter filter, int width, int[] expected) {}
    for (Case c : List.of(
        new Case(ResizeFilter.BILINEAR, 4, new int[] {77, 110, 99, 132}),
        new Case(ResizeFilter.BICUBIC, 4, new int[] {77, 112, 97, 135}),
        new Case(ResizeFilter.NEAREST, 4, new int[] {37, 99, 64, 128}),
        new Case(ResizeFilter.BILINEAR, 17, new int[] {0, 17, 63, 204, 155, 17, 73, 128, 180, 105, 46, 7, 148, 221, 142, 101, 77}),
        new Case(ResizeFilter.BICUBIC, 17, new int[] {0, 4, 57, 232, 171, 9, 64, 136, 180, 109, 33, 0, 159, 245, 141, 92, 73}),
        new Case(ResizeFilter.NEAREST, 17, new int[] {0, 0, 37, 255, 255, 12, 99, 99, 180, 64, 64, 3, 250, 250, 128, 77, 77}))) {
      TensorData t = uint8(spec(c.width(), 1).setResize(c.filter()).setCrop(CropMode.STRETCH)).preprocess(png);
      assertThat(channel(t, 1)[0]).as(c.filter() + " to " + c.width()).containsExactly(c.expected());
    }
  }

  @Test
  void centerCrop_ofA4x2Image_keepsTheMiddleColumns() throws IOException {
    // Shorter side (height 2) already equals the target: no scaling, cut columns 1..2.
    byte[] png = encode(rgb(new int[][] {
        {px(1, 0, 0), px(2, 0, 0), px(3, 0, 0), px(4, 0, 0)},
        {px(5, 0, 0), px(6, 0, 0), px(7, 0, 0), px(8, 0, 0)}}), "png");
    for (ResizeFilter f : List.of(ResizeFilter.NEAREST, ResizeFilter.BILINEAR, ResizeFilter.BICUBIC)) {
      TensorData t = uint8(spec(2, 2).setResize(f).setCrop(CropMode.CENTER_CROP)).preprocess(png);
      assertThat(channel(t, 0)).as(f.name()).isDeepEqualTo(new int[][] {{2, 3}, {6, 7}});
    }
  }

  @Test
  void centerCrop_scalesTheShorterSideToTheTargetThenCutsTheCenter() throws IOException {
    // 8x4 -> 2x2: resized to 4x2 (scale 2), crop offset x = 1. Nearest source pixel
    // floor((i + 0.5) * 2): columns 1, 2 of the resized image -> source 3, 5; rows 0, 1 -> 1, 3.
    int[][] src = new int[4][8];
    for (int y = 0; y < 4; y++) {
      for (int x = 0; x < 8; x++) {
        src[y][x] = px(y * 10 + x, 0, 0);
      }
    }
    TensorData t = uint8(spec(2, 2).setResize(ResizeFilter.NEAREST)).preprocess(encode(rgb(src), "png"));
    assertThat(channel(t, 0)).isDeepEqualTo(new int[][] {{13, 15}, {33, 35}});
  }

  @Test
  void centerCrop_ofATallImage_cutsTheMiddleRows() throws IOException {
    // 1x4 -> 1x2: no scaling, offset round_half_even((4 - 2) / 2) = 1 -> rows 1, 2.
    int[][] src = {{px(1, 0, 0)}, {px(2, 0, 0)}, {px(3, 0, 0)}, {px(4, 0, 0)}};
    TensorData t = uint8(spec(1, 2)).preprocess(encode(rgb(src), "png"));
    assertThat(channel(t, 0)).isDeepEqualTo(new int[][] {{2}, {3}});
  }

  @Test
  void stretch_scalesEachAxisIndependently() throws IOException {
    // 4x2 -> 2x2 nearest: columns floor((i + 0.5) * 2) = 1, 3; rows unchanged.
    byte[] png = encode(rgb(new int[][] {
        {px(1, 0, 0), px(2, 0, 0), px(3, 0, 0), px(4, 0, 0)},
        {px(5, 0, 0), px(6, 0, 0), px(7, 0, 0), px(8, 0, 0)}}), "png");
    TensorData t = uint8(spec(2, 2).setResize(ResizeFilter.NEAREST).setCrop(CropMode.STRETCH)).preprocess(png);
    assertThat(channel(t, 0)).isDeepEqualTo(new int[][] {{2, 4}, {6, 8}});
  }

  @Test
  void largeDownscale_isAnAverage_notASample() throws IOException {
    // A 64x64 checkerboard of 0 and 200 shrunk to 2x2 averages to 100 everywhere.
    int[][] src = new int[64][64];
    for (int y = 0; y < 64; y++) {
      for (int x = 0; x < 64; x++) {
        int v = (x + y) % 2 == 0 ? 200 : 0;
        src[y][x] = px(v, v, v);
      }
    }
    for (ResizeFilter f : List.of(ResizeFilter.BILINEAR, ResizeFilter.BICUBIC)) {
      TensorData t = uint8(spec(2, 2).setResize(f)).preprocess(encode(rgb(src), "png"));
      assertAllPixels(t, 100, 100, 100, 1);
    }
  }

  // ---- normalization, layout, channel order, pixel type --------------------------------

  @Test
  void fp32_appliesMeanAndStdPerChannel() throws IOException {
    // (51, 102, 204) / 255 = (0.2, 0.4, 0.8); ((0.2 - 0.5) / 0.25, (0.4 - 0.4) / 0.2, (0.8 - 0.3) / 0.1)
    byte[] png = encode(solid(1, 1, px(51, 102, 204)), "png");
    ImagePreprocessor p = new ImagePreprocessor(spec(1, 1).addAllMean(List.of(0.5f, 0.4f, 0.3f))
        .addAllStd(List.of(0.25f, 0.2f, 0.1f)).build(), ImageLimits.DEFAULT);
    TensorData t = p.preprocess(png);
    assertThat(t.dtype()).isEqualTo(DType.FP32);
    assertThat(t.shape()).containsExactly(1, 1, 3);
    float[] v = t.toFloats();
    assertThat(v[0]).isCloseTo(-1.2f, within(1e-5f));
    assertThat(v[1]).isCloseTo(0f, within(1e-5f));
    assertThat(v[2]).isCloseTo(5.0f, within(1e-5f));
  }

  @Test
  void fp32_withoutMeanAndStd_isPixelOver255() throws IOException {
    TensorData t = new ImagePreprocessor(spec(1, 1).build(), ImageLimits.DEFAULT)
        .preprocess(encode(solid(1, 1, px(0, 51, 255)), "png"));
    assertThat(t.toFloats()).containsExactly(0f, 0.2f, 1f);
  }

  @Test
  void nchw_putsEachChannelInItsOwnPlane() throws IOException {
    byte[] png = encode(rgb(new int[][] {{px(10, 20, 30), px(40, 50, 60)}}), "png");
    TensorData nhwc = uint8(spec(2, 1).setLayout(Layout.NHWC)).preprocess(png);
    TensorData nchw = uint8(spec(2, 1).setLayout(Layout.NCHW)).preprocess(png);
    assertThat(nhwc.shape()).containsExactly(1, 2, 3);
    assertThat(ints(nhwc)).containsExactly(10, 20, 30, 40, 50, 60);
    assertThat(nchw.shape()).containsExactly(3, 1, 2);
    assertThat(ints(nchw)).containsExactly(10, 40, 20, 50, 30, 60);

    TensorData fp = new ImagePreprocessor(spec(2, 1).setLayout(Layout.NCHW).build(), ImageLimits.DEFAULT).preprocess(png);
    assertThat(fp.shape()).containsExactly(3, 1, 2);
    assertThat(fp.toFloats()).containsExactly(10 / 255f, 40 / 255f, 20 / 255f, 50 / 255f, 30 / 255f, 60 / 255f);
  }

  @Test
  void bgr_reversesTheChannels_andMeanStdFollowTheChannelOrder() throws IOException {
    byte[] png = encode(rgb(new int[][] {{px(10, 20, 30), px(40, 50, 60)}}), "png");
    TensorData t = uint8(spec(2, 1).setChannelOrder(ChannelOrder.BGR)).preprocess(png);
    assertThat(ints(t)).containsExactly(30, 20, 10, 60, 50, 40);

    // mean/std are given in channel order: the first applies to B.
    TensorData fp = new ImagePreprocessor(spec(1, 1).setChannelOrder(ChannelOrder.BGR)
        .addAllMean(List.of(0.8f, 0.4f, 0.2f)).addAllStd(List.of(0.1f, 0.2f, 0.25f)).build(), ImageLimits.DEFAULT)
        .preprocess(encode(solid(1, 1, px(51, 102, 204)), "png"));
    assertThat(fp.toFloats()[0]).isCloseTo(0f, within(1e-5f)); // B: (0.8 - 0.8) / 0.1
    assertThat(fp.toFloats()[1]).isCloseTo(0f, within(1e-5f)); // G: (0.4 - 0.4) / 0.2
    assertThat(fp.toFloats()[2]).isCloseTo(0f, within(1e-5f)); // R: (0.2 - 0.2) / 0.25
  }

  @Test
  void uint8_ignoresMeanAndStd() throws IOException {
    TensorData t = uint8(spec(1, 1).addAllMean(List.of(0.5f, 0.5f, 0.5f)).addAllStd(List.of(0.5f, 0.5f, 0.5f)))
        .preprocess(encode(solid(1, 1, px(1, 2, 3)), "png"));
    assertThat(ints(t)).containsExactly(1, 2, 3);
  }

  @Test
  void shape_followsTheLayout() {
    assertThat(new ImagePreprocessor(spec(5, 3).build(), ImageLimits.DEFAULT).shape()).containsExactly(3, 5, 3);
    assertThat(new ImagePreprocessor(spec(5, 3).setLayout(Layout.NCHW).build(), ImageLimits.DEFAULT).shape())
        .containsExactly(3, 3, 5);
  }

  // ---- formats -----------------------------------------------------------------------

  @Test
  void png_grayscale_becomesThreeEqualChannels_withoutGammaChange() throws IOException {
    BufferedImage gray = new BufferedImage(2, 2, BufferedImage.TYPE_BYTE_GRAY);
    gray.getRaster().setSample(0, 0, 0, 128);
    gray.getRaster().setSample(1, 0, 0, 128);
    gray.getRaster().setSample(0, 1, 0, 128);
    gray.getRaster().setSample(1, 1, 0, 128);
    assertAllPixels(uint8(spec(2, 2)).preprocess(encode(gray, "png")), 128, 128, 128, 0);
  }

  @Test
  void png_16bit_isRoundedTo8Bits() throws IOException {
    BufferedImage gray = new BufferedImage(1, 1, BufferedImage.TYPE_USHORT_GRAY);
    gray.getRaster().setSample(0, 0, 0, 0x8080); // 32896 * 255 / 65535 = 128
    assertAllPixels(uint8(spec(1, 1)).preprocess(encode(gray, "png")), 128, 128, 128, 0);
  }

  @Test
  void png_alpha_isCompositedOverWhite() throws IOException {
    BufferedImage argb = new BufferedImage(3, 1, BufferedImage.TYPE_INT_ARGB);
    argb.setRGB(0, 0, 0x80FF0000); // red at alpha 128: R 255, G and B (255 * 127 + 127) / 255 = 127
    argb.setRGB(1, 0, 0x00000000); // fully transparent black -> white
    argb.setRGB(2, 0, 0xFF102030); // opaque: unchanged
    TensorData t = uint8(spec(3, 1)).preprocess(encode(argb, "png"));
    assertThat(ints(t)).containsExactly(255, 127, 127, 255, 255, 255, 0x10, 0x20, 0x30);
  }

  @Test
  void toRgb_readsEveryByteLayout_asGetRgbComposedOverWhite() {
    Random random = new Random(7);
    int w = 5;
    int h = 3;
    for (int type : new int[] {BufferedImage.TYPE_3BYTE_BGR, BufferedImage.TYPE_4BYTE_ABGR, BufferedImage.TYPE_INT_RGB}) {
      BufferedImage image = new BufferedImage(w + 2, h + 2, type);
      for (int y = 0; y < h + 2; y++) {
        for (int x = 0; x < w + 2; x++) {
          image.setRGB(x, y, random.nextInt());
        }
      }
      // the whole image (read from its byte array where it has one) and a sub-image, whose
      // raster is offset into its parent's
      for (BufferedImage img : List.of(image, image.getSubimage(1, 1, w, h))) {
        byte[] got = ImageDecoder.toRgb(img).pixels();
        for (int y = 0; y < img.getHeight(); y++) {
          for (int x = 0; x < img.getWidth(); x++) {
            int v = img.getRGB(x, y);
            int a = img.getColorModel().hasAlpha() ? v >>> 24 : 255;
            int o = (y * img.getWidth() + x) * 3;
            for (int c = 0; c < 3; c++) {
              int stored = (v >> (16 - 8 * c)) & 0xff;
              int want = a == 255 ? stored : (stored * a + 255 * (255 - a) + 127) / 255;
              assertThat(got[o + c] & 0xff).as("type %d, %dx%d, pixel %d,%d channel %d", type, img.getWidth(),
                  img.getHeight(), x, y, c).isEqualTo(want);
            }
          }
        }
      }
    }
  }

  @Test
  void png_palette_isRead() throws IOException {
    IndexColorModel palette = new IndexColorModel(8, 2, new byte[] {10, (byte) 200}, new byte[] {20, 0},
        new byte[] {30, 0});
    BufferedImage indexed = new BufferedImage(2, 1, BufferedImage.TYPE_BYTE_INDEXED, palette);
    indexed.getRaster().setSample(1, 0, 0, 1);
    assertThat(ints(uint8(spec(2, 1)).preprocess(encode(indexed, "png")))).containsExactly(10, 20, 30, 200, 0, 0);
  }

  @Test
  void gif_readsTheFirstFrame() throws IOException {
    IndexColorModel palette = new IndexColorModel(8, 2, new byte[] {(byte) 255, 0}, new byte[] {0, 0},
        new byte[] {0, (byte) 255});
    BufferedImage red = new BufferedImage(4, 4, BufferedImage.TYPE_BYTE_INDEXED, palette);
    BufferedImage blue = new BufferedImage(4, 4, BufferedImage.TYPE_BYTE_INDEXED, palette);
    for (int y = 0; y < 4; y++) {
      for (int x = 0; x < 4; x++) {
        blue.getRaster().setSample(x, y, 0, 1);
      }
    }
    ImageWriter writer = ImageIO.getImageWritersByFormatName("gif").next();
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ImageOutputStream out = ImageIO.createImageOutputStream(bytes)) {
      writer.setOutput(out);
      writer.prepareWriteSequence(null);
      writer.writeToSequence(new IIOImage(red, null, null), null);
      writer.writeToSequence(new IIOImage(blue, null, null), null);
      writer.endWriteSequence();
    } finally {
      writer.dispose();
    }
    byte[] gif = bytes.toByteArray();
    assertThat(new String(gif, 0, 6, StandardCharsets.US_ASCII)).startsWith("GIF8");
    assertAllPixels(uint8(spec(2, 2)).preprocess(gif), 255, 0, 0, 0);
  }

  @Test
  void bmp_isRead() throws IOException {
    byte[] bmp = encode(rgb(new int[][] {{px(1, 2, 3), px(4, 5, 6)}}), "bmp");
    assertThat(new String(bmp, 0, 2, StandardCharsets.US_ASCII)).isEqualTo("BM");
    assertThat(ints(uint8(spec(2, 1)).preprocess(bmp))).containsExactly(1, 2, 3, 4, 5, 6);
  }

  /** A BMP whose pixels are a whole PNG or JPEG (compression BI_PNG / BI_JPEG), as the JDK's BMP writer makes it. */
  private static byte[] bmpWrapping(String compression, BufferedImage img) throws IOException {
    ImageWriter w = ImageIO.getImageWritersByFormatName("bmp").next();
    ImageWriteParam param = w.getDefaultWriteParam();
    param.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
    param.setCompressionType(compression);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (ImageOutputStream ios = ImageIO.createImageOutputStream(out)) {
      w.setOutput(ios);
      w.write(null, new IIOImage(img, null, null), param);
    } finally {
      w.dispose();
    }
    return out.toByteArray();
  }

  @Test
  void bmpWrappingAPngOrJpeg_isRefused_soTheWrappedHeaderCannotClaimAHugeCanvas() throws IOException {
    // Found by ImageDecoderFuzzTest: the BMP header says 8 x 8, which passes the pixel limit,
    // but the JDK's BMP reader then decodes the wrapped PNG at the size its own IHDR claims
    // (here 16777216 x 1): hundreds of MB, or an OutOfMemoryError for larger claims.
    byte[] bmp = bmpWrapping("BI_PNG", solid(8, 8, px(1, 2, 3)));
    int ihdr = -1;
    for (int i = 0; i + 4 <= bmp.length && ihdr < 0; i++) {
      if (bmp[i] == 'I' && bmp[i + 1] == 'H' && bmp[i + 2] == 'D' && bmp[i + 3] == 'R') {
        ihdr = i;
      }
    }
    ByteBuffer.wrap(bmp, ihdr + 4, 8).putInt(1 << 24).putInt(1);
    ImagePreprocessor p = new ImagePreprocessor(spec(2, 2).build(), new ImageLimits(1 << 20, 1 << 20));
    assertThatThrownBy(() -> p.preprocess(bmp)).isInstanceOf(InvalidInputException.class)
        .hasMessage("is not a decodable image (PNG, JPEG, GIF or BMP): a BMP that wraps a PNG or JPEG "
            + "(compression 5 or 4) is not taken; send the PNG or JPEG itself");
    byte[] wrappedJpeg = bmpWrapping("BI_JPEG", solid(8, 8, px(1, 2, 3)));
    assertThatThrownBy(() -> p.preprocess(wrappedJpeg)).isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("a BMP that wraps a PNG or JPEG");
  }

  @Test
  void jpeg_baseline_isRead() throws IOException {
    byte[] jpg = jpeg(solid(16, 16, px(200, 100, 50)), false);
    assertThat(hasMarker(jpg, 0xc0)).as("baseline SOF0").isTrue();
    assertAllPixels(uint8(spec(4, 4)).preprocess(jpg), 200, 100, 50, 4);
  }

  @Test
  void jpeg_grayscale_isRead() throws IOException {
    BufferedImage gray = new BufferedImage(8, 8, BufferedImage.TYPE_BYTE_GRAY);
    for (int y = 0; y < 8; y++) {
      for (int x = 0; x < 8; x++) {
        gray.getRaster().setSample(x, y, 0, 90);
      }
    }
    assertAllPixels(uint8(spec(2, 2)).preprocess(jpeg(gray, false)), 90, 90, 90, 2);
  }

  @Test
  void jpeg_progressive_isRead() throws IOException {
    byte[] jpg = jpeg(solid(32, 32, px(30, 160, 220)), true);
    assertThat(hasMarker(jpg, 0xc2)).as("progressive SOF2").isTrue();
    assertAllPixels(uint8(spec(8, 8)).preprocess(jpg), 30, 160, 220, 4);
  }

  /** A CMYK JPEG with Adobe's APP14 marker, as TwelveMonkeys' writer makes it from a CMYK image. */
  private static byte[] cmykJpeg(int c, int m, int y, int k) throws IOException {
    ColorSpace cmyk = ColorSpaces.getColorSpace(ColorSpaces.CS_GENERIC_CMYK);
    ComponentColorModel cm = new ComponentColorModel(cmyk, false, false, Transparency.OPAQUE, DataBuffer.TYPE_BYTE);
    WritableRaster raster = cm.createCompatibleWritableRaster(16, 16);
    for (int yy = 0; yy < 16; yy++) {
      for (int xx = 0; xx < 16; xx++) {
        raster.setPixel(xx, yy, new int[] {c, m, y, k});
      }
    }
    BufferedImage img = new BufferedImage(cm, raster, false, null);
    ImageWriter writer = null;
    for (Iterator<ImageWriter> it = ImageIO.getImageWritersByFormatName("jpeg"); it.hasNext(); ) {
      ImageWriter w = it.next();
      if (w.getClass().getName().startsWith("com.twelvemonkeys.")) {
        writer = w;
      }
    }
    assertThat(writer).as("TwelveMonkeys JPEG writer").isNotNull();
    ImageWriteParam param = writer.getDefaultWriteParam();
    param.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
    param.setCompressionQuality(0.98f);
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ImageOutputStream out = ImageIO.createImageOutputStream(bytes)) {
      writer.setOutput(out);
      writer.write(null, new IIOImage(img, null, null), param);
    } finally {
      writer.dispose();
    }
    return bytes.toByteArray();
  }

  @Test
  void jpeg_cmyk_isConvertedToRgb() throws IOException {
    byte[] cyan = cmykJpeg(255, 0, 0, 0);
    assertThat(hasMarker(cyan, 0xee)).as("Adobe APP14 marker").isTrue();
    assertAllPixels(uint8(spec(4, 4)).preprocess(cyan), 0, 255, 255, 4);
    assertAllPixels(uint8(spec(4, 4)).preprocess(cmykJpeg(0, 255, 255, 0)), 255, 0, 0, 4);
    assertAllPixels(uint8(spec(4, 4)).preprocess(cmykJpeg(0, 0, 0, 255)), 0, 0, 0, 4);
  }

  @Test
  void jpeg_ycck_isConvertedToRgb() throws IOException {
    // Four raw channels (Y, Cb, Cr, K) from the JDK writer, then Adobe's APP14 marker with
    // transform 2 (YCCK) put after SOI by hand. Y 128, Cb = Cr = 128 (neutral), K 255 (Adobe
    // stores CMYK inverted: no black ink) is a neutral 50% gray. (The JDK's own reader turns
    // this file into 187 gray.)
    WritableRaster raster = Raster.createInterleavedRaster(DataBuffer.TYPE_BYTE, 16, 16, 4, null);
    for (int y = 0; y < 16; y++) {
      for (int x = 0; x < 16; x++) {
        raster.setPixel(x, y, new int[] {128, 128, 128, 255});
      }
    }
    ImageWriter writer = jdkJpegWriter();
    ImageWriteParam param = writer.getDefaultWriteParam();
    param.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
    param.setCompressionQuality(1f);
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ImageOutputStream out = ImageIO.createImageOutputStream(bytes)) {
      writer.setOutput(out);
      writer.write(null, new IIOImage(raster, null, null), param);
    } finally {
      writer.dispose();
    }
    byte[] raw = bytes.toByteArray();
    byte[] app14 = {(byte) 0xff, (byte) 0xee, 0, 14, 'A', 'd', 'o', 'b', 'e', 0, 100, 0, 0, 0, 0, 2};
    byte[] ycck = new byte[raw.length + app14.length];
    System.arraycopy(raw, 0, ycck, 0, 2);
    System.arraycopy(app14, 0, ycck, 2, app14.length);
    System.arraycopy(raw, 2, ycck, 2 + app14.length, raw.length - 2);

    assertAllPixels(uint8(spec(4, 4)).preprocess(ycck), 127, 127, 127, 4);
  }

  // ---- limits and bad input ----------------------------------------------------------

  @Test
  void emptyBytes_areRejected() {
    ImagePreprocessor p = new ImagePreprocessor(spec(2, 2).build(), ImageLimits.DEFAULT);
    assertThatThrownBy(() -> p.preprocess(new byte[0])).isInstanceOf(InvalidInputException.class).hasMessage("is empty");
    assertThatThrownBy(() -> p.preprocess(null)).isInstanceOf(InvalidInputException.class).hasMessage("is empty");
  }

  @Test
  void tooManyBytes_areRejectedBeforeDecoding() throws IOException {
    byte[] png = encode(solid(8, 8, px(1, 2, 3)), "png");
    ImagePreprocessor p = new ImagePreprocessor(spec(2, 2).build(), new ImageLimits(png.length - 1, 1000));
    assertThatThrownBy(() -> p.preprocess(png)).isInstanceOf(InvalidInputException.class)
        .hasMessage("is " + png.length + " bytes, over the limit of " + (png.length - 1) + " bytes");
    // Not even looked at: garbage over the limit says "bytes", not "not decodable".
    assertThatThrownBy(() -> p.preprocess(new byte[png.length])).hasMessageContaining("bytes, over the limit");
  }

  @Test
  void tooManyPixels_areRejected() throws IOException {
    ImagePreprocessor p = new ImagePreprocessor(spec(2, 2).build(), new ImageLimits(1 << 20, 99));
    for (String format : List.of("png", "gif", "bmp")) {
      BufferedImage img = format.equals("gif") ? new BufferedImage(10, 10, BufferedImage.TYPE_BYTE_INDEXED)
          : solid(10, 10, px(1, 2, 3));
      byte[] bytes = encode(img, format);
      assertThatThrownBy(() -> p.preprocess(bytes)).as(format).isInstanceOf(InvalidInputException.class)
          .hasMessage("is 10 x 10 = 100 pixels, over the limit of 99 pixels");
    }
    assertThatThrownBy(() -> p.preprocess(jpeg(solid(10, 10, 0), false)))
        .hasMessage("is 10 x 10 = 100 pixels, over the limit of 99 pixels");
    assertThat(new ImagePreprocessor(spec(2, 2).build(), new ImageLimits(1 << 20, 100))
        .preprocess(encode(solid(10, 10, 0), "png")).shape()).containsExactly(2, 2, 3);
  }

  /** A PNG chunk: length, type, data, CRC over type and data. */
  private static void chunk(ByteArrayOutputStream out, String type, byte[] data) {
    byte[] t = type.getBytes(StandardCharsets.US_ASCII);
    out.writeBytes(ByteBuffer.allocate(4).putInt(data.length).array());
    out.writeBytes(t);
    out.writeBytes(data);
    CRC32 crc = new CRC32();
    crc.update(t);
    crc.update(data);
    out.writeBytes(ByteBuffer.allocate(4).putInt((int) crc.getValue()).array());
  }

  @Test
  void pngHeaderClaimingAHugeCanvas_isRejectedFromTheHeader() {
    // 57 bytes that claim 100000 x 100000 RGB (30 GB decoded): the IHDR alone must decide.
    ByteArrayOutputStream png = new ByteArrayOutputStream();
    png.writeBytes(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'});
    chunk(png, "IHDR", ByteBuffer.allocate(13).putInt(100_000).putInt(100_000)
        .put((byte) 8).put((byte) 2).put((byte) 0).put((byte) 0).put((byte) 0).array());
    chunk(png, "IDAT", new byte[] {0x78, (byte) 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01});
    chunk(png, "IEND", new byte[0]);
    byte[] bomb = png.toByteArray();
    ImagePreprocessor p = new ImagePreprocessor(spec(224, 224).build(), ImageLimits.DEFAULT);

    org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(Duration.ofSeconds(5), () ->
        assertThatThrownBy(() -> p.preprocess(bomb)).isInstanceOf(InvalidInputException.class)
            .hasMessage("is 100000 x 100000 = 10000000000 pixels, over the limit of 40000000 pixels"));
  }

  @Test
  void jpegHeaderClaimingAHugeCanvas_isRejectedFromTheHeader() throws IOException {
    byte[] jpg = jpeg(solid(8, 8, 0), false);
    // SOF0: FF C0, length (2), precision (1), height (2), width (2)
    int sof = -1;
    for (int i = 2; i + 1 < jpg.length; i++) {
      if ((jpg[i] & 0xff) == 0xff && (jpg[i + 1] & 0xff) == 0xc0) {
        sof = i;
        break;
      }
    }
    assertThat(sof).isPositive();
    jpg[sof + 5] = (byte) 0xea; // 60000
    jpg[sof + 6] = 0x60;
    jpg[sof + 7] = (byte) 0xea;
    jpg[sof + 8] = 0x60;
    ImagePreprocessor p = new ImagePreprocessor(spec(224, 224).build(), ImageLimits.DEFAULT);
    org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(Duration.ofSeconds(5), () ->
        assertThatThrownBy(() -> p.preprocess(jpg)).isInstanceOf(InvalidInputException.class)
            .hasMessage("is 60000 x 60000 = 3600000000 pixels, over the limit of 40000000 pixels"));
  }

  /** {@code jpeg} with an APP2 ICC_PROFILE segment after SOI: one chunk of 1, a 128-byte header declaring {@code declared} bytes. */
  private static byte[] withIccProfile(byte[] jpeg, int declared) {
    byte[] profile = new byte[128];
    ByteBuffer.wrap(profile).putInt(0, declared).put(36, "acsp".getBytes(StandardCharsets.US_ASCII));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(0xff);
    out.write(0xd8);
    int length = 2 + 12 + 2 + profile.length;
    out.writeBytes(new byte[] {(byte) 0xff, (byte) 0xe2, (byte) (length >> 8), (byte) length});
    out.writeBytes("ICC_PROFILE\0".getBytes(StandardCharsets.US_ASCII));
    out.writeBytes(new byte[] {1, 1});
    out.writeBytes(profile);
    out.write(jpeg, 2, jpeg.length - 2);
    return out.toByteArray();
  }

  @Test
  void jpegIccProfileClaimingMoreBytesThanTheFile_isRefusedBeforeTheProfileIsAllocated() throws IOException {
    // Found by ImageDecoderFuzzTest: the JPEG plugin allocates the size an ICC profile's header
    // declares before reading it, so 2^31 - 1 threw OutOfMemoryError past the bad-input
    // handling (and a few bytes less allocated 2 GB).
    ImagePreprocessor p = new ImagePreprocessor(spec(2, 2).build(), ImageLimits.DEFAULT);
    byte[] jpg = jpeg(solid(8, 8, px(10, 20, 30)), false);
    byte[] hostile = withIccProfile(jpg, Integer.MAX_VALUE);
    assertThatThrownBy(() -> p.preprocess(hostile)).isInstanceOf(InvalidInputException.class)
        .hasMessage("is not a decodable image (PNG, JPEG, GIF or BMP): JPEG data is corrupt (its ICC profile "
            + "declares 2147483647 bytes, more than the " + hostile.length + " bytes of the whole image)");
    // A truncated profile that claims no more than the file is ignored by the plugin, as before.
    assertThat(p.preprocess(withIccProfile(jpg, 512)).shape()).containsExactly(2, 2, 3);
  }

  @Test
  void garbage_isNotADecodableImage() {
    ImagePreprocessor p = new ImagePreprocessor(spec(2, 2).build(), ImageLimits.DEFAULT);
    byte[] garbage = new byte[1000];
    new Random(7).nextBytes(garbage);
    garbage[0] = 0x42; // not a signature
    assertThatThrownBy(() -> p.preprocess(garbage)).isInstanceOf(InvalidInputException.class)
        .hasMessage("is not a decodable image (PNG, JPEG, GIF or BMP)");
    assertThatThrownBy(() -> p.preprocess("hello".getBytes(StandardCharsets.US_ASCII)))
        .hasMessage("is not a decodable image (PNG, JPEG, GIF or BMP)");
    // TIFF and WebP are images, but not ones we take.
    assertThatThrownBy(() -> p.preprocess(new byte[] {'I', 'I', 42, 0, 8, 0, 0, 0}))
        .hasMessage("is not a decodable image (PNG, JPEG, GIF or BMP)");
  }

  @Test
  void corruptDataAfterAValidSignature_isNotADecodableImage() throws IOException {
    ImagePreprocessor p = new ImagePreprocessor(spec(2, 2).build(), ImageLimits.DEFAULT);
    byte[] png = encode(solid(32, 32, px(1, 2, 3)), "png");
    byte[] truncated = Arrays.copyOf(png, 40);
    assertThatThrownBy(() -> p.preprocess(truncated)).isInstanceOf(InvalidInputException.class)
        .hasMessageStartingWith("is not a decodable image (PNG, JPEG, GIF or BMP): PNG data is corrupt");
    byte[] signatureOnly = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    assertThatThrownBy(() -> p.preprocess(signatureOnly)).isInstanceOf(InvalidInputException.class)
        .hasMessageStartingWith("is not a decodable image");
    for (byte[] head : List.of(new byte[] {(byte) 0xff, (byte) 0xd8, (byte) 0xff, 0, 1, 2},
        "GIF89a\0\0".getBytes(StandardCharsets.US_ASCII), new byte[] {'B', 'M', 1, 2, 3})) {
      assertThatThrownBy(() -> p.preprocess(head)).isInstanceOf(InvalidInputException.class)
          .hasMessageStartingWith("is not a decodable image");
    }
  }

  @Test
  void messages_carryNoFieldName_soCallersCanPrefixIt() {
    ImagePreprocessor p = new ImagePreprocessor(spec(2, 2).build(), new ImageLimits(10, 10));
    for (byte[] bad : List.of(new byte[0], new byte[11], new byte[] {1, 2, 3})) {
      assertThatThrownBy(() -> p.preprocess(bad)).isInstanceOf(InvalidInputException.class)
          .satisfies(e -> assertThat(e.getMessage()).startsWith("is "))
          .satisfies(e -> assertThat(((InvalidInputException) e).at("inputs[3].image").getMessage())
              .startsWith("inputs[3].image is "));
    }
  }

  @Test
  void isThreadSafe() throws Exception {
    ImagePreprocessor p = new ImagePreprocessor(spec(8, 8).build(), ImageLimits.DEFAULT);
    byte[] png = encode(solid(40, 30, px(9, 99, 199)), "png");
    float[] expected = p.preprocess(png).toFloats();
    List<java.util.concurrent.Callable<float[]>> calls = java.util.Collections.nCopies(32, () -> p.preprocess(png).toFloats());
    java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(4);
    try {
      for (java.util.concurrent.Future<float[]> f : pool.invokeAll(calls)) {
        assertThat(f.get()).containsExactly(expected);
      }
    } finally {
      pool.shutdownNow();
    }
  }

  // ---- spec validation ---------------------------------------------------------------

  @Test
  void invalidSpecs_failNamingTheField() {
    assertThatThrownBy(() -> new ImagePreprocessor(spec(0, 2).build(), ImageLimits.DEFAULT))
        .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("image.width must be positive");
    assertThatThrownBy(() -> new ImagePreprocessor(spec(2, -1).build(), ImageLimits.DEFAULT))
        .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("image.height must be positive");
    assertThatThrownBy(() -> new ImagePreprocessor(spec(2, 2).addAllMean(List.of(0.5f, 0.5f)).build(), ImageLimits.DEFAULT))
        .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("image.mean must have 3 values");
    assertThatThrownBy(() -> new ImagePreprocessor(spec(2, 2).addStd(1).build(), ImageLimits.DEFAULT))
        .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("image.std must have 3 values");
    assertThatThrownBy(() -> new ImagePreprocessor(spec(2, 2).addAllStd(List.of(1f, 0f, 1f)).build(), ImageLimits.DEFAULT))
        .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("image.std values must be positive");
    assertThatThrownBy(() -> new ImagePreprocessor(spec(2, 2).addAllStd(List.of(1f, -1f, 1f)).build(), ImageLimits.DEFAULT))
        .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("image.std values must be positive");
    assertThatThrownBy(() -> new ImagePreprocessor(spec(2, 2).setResizeValue(42).build(), ImageLimits.DEFAULT))
        .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("image.resize has an unknown value 42");
    assertThatThrownBy(() -> new ImageLimits(0, 1)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new ImageLimits(1, 0)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void defaultLimits_are20MiBAnd40Megapixels() {
    assertThat(ImageLimits.DEFAULT.maxEncodedBytes()).isEqualTo(20L * 1024 * 1024);
    assertThat(ImageLimits.DEFAULT.maxPixels()).isEqualTo(40_000_000L);
  }
}
