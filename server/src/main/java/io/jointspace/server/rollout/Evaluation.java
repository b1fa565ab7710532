package io.jointspace.server.rollout;

import com.google.gson.Gson;
import java.util.List;
import javax.annotation.Nullable;

/**
 * Two versions of a collection side by side (RolloutService's Evaluation); kept on the
 * rollout as JSON.
 *
 * @param neighbourAgreement mean overlap@k of each sampled item's neighbours under both versions
 * @param evaluatedAtMillis when, in epoch milliseconds
 * @param notes what could not be measured, and why
 */
public record Evaluation(double neighbourAgreement, int k, int sampledItems, VersionScores from, VersionScores to,
    long evaluatedAtMillis, List<String> notes) {

  /** One version's numbers; the optional ones are null when not measured. */
  public record VersionScores(String model, long version, Distribution rank1, Distribution rankK,
      @Nullable Double recallAtK, @Nullable Double zeroShotAccuracy, @Nullable Double classPrecisionAtK) {}

  /** A score distribution: median, 10th percentile, mean. */
  public record Distribution(double median, double p10, double mean) {

    static Distribution of(List<Double> values) {
      if (values.isEmpty()) {
        return new Distribution(0, 0, 0);
      }
      double[] v = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
      double sum = 0;
      for (double x : v) {
        sum += x;
      }
      return new Distribution(quantile(v, 0.5), quantile(v, 0.1), sum / v.length);
    }

    private static double quantile(double[] sorted, double q) {
      double at = q * (sorted.length - 1);
      int lo = (int) Math.floor(at);
      int hi = Math.min(sorted.length - 1, lo + 1);
      return sorted[lo] + (sorted[hi] - sorted[lo]) * (at - lo);
    }
  }

  private static final Gson GSON = new Gson();

  public String toJson() {
    return GSON.toJson(this);
  }

  public static Evaluation fromJson(String json) {
    return GSON.fromJson(json, Evaluation.class);
  }
}
