package io.jointspace.trainer;

/**
 * Everything one training run depends on; the same config gives the same model up to
 * floating-point reduction order.
 *
 * @param version version folder the model is exported to
 * @param model the architecture
 * @param steps optimizer steps
 * @param batch scenes per step
 * @param learningRate peak learning rate (linear warmup over 5% of the steps, then cosine decay to 5%)
 * @param seed seeds the scene stream, the text sampling and every initializer op
 * @param threads TensorFlow intra-op threads
 */
public record TrainConfig(int version, ModelConfig model, int steps, int batch, float learningRate, long seed, int threads) {

  /** Version 1: the small, quick one (dimension 32). */
  public static TrainConfig version1(long seed, int threads) {
    return new TrainConfig(1, new ModelConfig(32, new int[] {8, 16, 32, 32}, 64, 16, 32, 64, 16), 250, 128, 3e-3f, seed + 1, threads);
  }

  /** Version 2: wider and trained longer (dimension 64). */
  public static TrainConfig version2(long seed, int threads) {
    return new TrainConfig(2, new ModelConfig(64, new int[] {16, 32, 64, 64}, 128, 32, 64, 64, 16), 1000, 128, 2e-3f, seed + 2, threads);
  }

  public TrainConfig withSteps(int newSteps) {
    return new TrainConfig(version, model, newSteps, batch, learningRate, seed, threads);
  }

  public TrainConfig withBatch(int newBatch) {
    return new TrainConfig(version, model, steps, newBatch, learningRate, seed, threads);
  }

  /** The scheduled learning rate of {@code step} (0-based). */
  public float learningRateAt(int step) {
    int warmup = Math.max(1, steps / 20);
    if (step < warmup) {
      return learningRate * (step + 1) / warmup;
    }
    double progress = (double) (step - warmup) / Math.max(1, steps - warmup);
    return (float) (learningRate * (0.05 + 0.95 * 0.5 * (1 + Math.cos(Math.PI * progress))));
  }
}
