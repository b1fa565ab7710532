package io.jointspace.trainer;

import java.util.Map;

/**
 * What a training run produced: the weights by name (row-major values and shapes), the
 * learned logit scale and how the run went.
 */
public record TrainedModel(TrainConfig config, Map<String, float[]> weights, Map<String, long[]> shapes,
    float logitScale, float finalLoss, double seconds) {

  public long parameterCount() {
    return weights.values().stream().mapToLong(w -> w.length).sum();
  }
}
