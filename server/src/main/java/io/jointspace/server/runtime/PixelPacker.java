package io.jointspace.server.runtime;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The last step of {@link ImagePreprocessor}: 8-bit RGB to the tensor the encoder takes, in its
 * layout (NHWC or NCHW), channel order (RGB or BGR) and pixel type (raw UINT8, or FP32 through
 * a per-channel table of {@code (v / 255 - mean) / std}). Immutable and thread-safe.
 */
final class PixelPacker {
  private final int width;
  private final int height;
  private final boolean bgr;
  private final boolean nchw;
  private final boolean uint8;
  /** Per output channel: the FP32 value of each 8-bit input value. */
  private final float[][] lut;

  PixelPacker(int width, int height, boolean bgr, boolean nchw, boolean uint8, float[][] lut) {
    this.width = width;
    this.height = height;
    this.bgr = bgr;
    this.nchw = nchw;
    this.uint8 = uint8;
    this.lut = lut;
  }

  /** {@code [h, w, 3]} or {@code [3, h, w]}. */
  long[] shape() {
    return nchw ? new long[] {3, height, width} : new long[] {height, width, 3};
  }


  /** The image as the encoder's input tensor, without the batch dimension. */
  TensorData pack(Rgb img) {
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
