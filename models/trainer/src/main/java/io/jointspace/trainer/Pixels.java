package io.jointspace.trainer;

import java.awt.image.BufferedImage;

/**
 * The image preprocessing shared by training, export (the encoder spec's mean and std) and
 * evaluation: RGB, NHWC, FP32, {@code (v / 255 - mean) / std} per channel.
 */
public final class Pixels {
  public static final float[] MEAN = {0.5f, 0.5f, 0.5f};
  public static final float[] STD = {0.25f, 0.25f, 0.25f};

  private Pixels() {}

  /** Writes {@code image} (exactly the model's size) into {@code dst} from {@code offset}, HWC order. */
  public static void write(BufferedImage image, float[] dst, int offset) {
    int w = image.getWidth();
    int h = image.getHeight();
    int[] px = image.getRGB(0, 0, w, h, null, 0, w);
    int o = offset;
    for (int p : px) {
      dst[o++] = (((p >> 16) & 0xFF) / 255f - MEAN[0]) / STD[0];
      dst[o++] = (((p >> 8) & 0xFF) / 255f - MEAN[1]) / STD[1];
      dst[o++] = ((p & 0xFF) / 255f - MEAN[2]) / STD[2];
    }
  }
}
