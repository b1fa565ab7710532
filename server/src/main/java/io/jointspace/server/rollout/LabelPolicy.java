package io.jointspace.server.rollout;

import com.google.gson.Gson;
import io.jointspace.server.store.Unembeddable;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import javax.annotation.Nullable;

/**
 * How a collection that follows a model label moves when the label moves (CreateCollection's
 * label_policy); kept in the catalog as JSON.
 *
 * @param minNeighbourAgreement 0: no threshold
 * @param classKey empty: no zero-shot measure
 * @param minZeroShotGain null: no threshold
 * @param unembeddable null: refuse rollouts while items cannot be re-embedded
 * @param finalizeAfterMillis null: finalize only when asked
 */
public record LabelPolicy(boolean autoPromote, double minNeighbourAgreement, String classKey, String classTemplate,
    @Nullable Double minZeroShotGain, @Nullable Unembeddable unembeddable, double rateLimit,
    @Nullable Long finalizeAfterMillis) {

  public static final LabelPolicy MANUAL = new LabelPolicy(false, 0, "", "{}", null, null, 0, null);

  private static final Gson GSON = new Gson();

  public String toJson() {
    return GSON.toJson(this);
  }

  public static LabelPolicy fromJson(@Nullable String json) {
    return json == null ? MANUAL : GSON.fromJson(json, LabelPolicy.class);
  }

  @Nullable
  public Duration finalizeAfter() {
    return finalizeAfterMillis == null ? null : Duration.ofMillis(finalizeAfterMillis);
  }

  /** What an automatic promote is decided on. */
  public EvaluationRequest evaluation() {
    return new EvaluationRequest(EvaluationRequest.DEFAULT_SAMPLE, EvaluationRequest.DEFAULT_K, List.of(), classKey,
        classTemplate);
  }

  /** Why {@code e} does not meet the thresholds; null when it does. */
  @Nullable
  public String holdReason(Evaluation e) {
    List<String> why = new ArrayList<>();
    if (e.neighbourAgreement() < minNeighbourAgreement) {
      why.add(String.format(Locale.ROOT, "neighbour agreement %.3f is under %.3f", e.neighbourAgreement(),
          minNeighbourAgreement));
    }
    if (minZeroShotGain != null) {
      Double from = e.from().zeroShotAccuracy();
      Double to = e.to().zeroShotAccuracy();
      if (from == null || to == null) {
        why.add("zero-shot accuracy could not be measured for both versions (" + String.join("; ", e.notes()) + ")");
      } else if (to - from < minZeroShotGain) {
        why.add(String.format(Locale.ROOT, "zero-shot accuracy went from %.3f to %.3f, a gain under %.3f", from, to,
            minZeroShotGain));
      }
    }
    return why.isEmpty() ? null : String.join("; ", why);
  }
}
