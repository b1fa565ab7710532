package io.jointspace.server.rollout;

import io.jointspace.server.runtime.Content;
import java.util.List;
import java.util.Set;

/**
 * What to measure when comparing two versions.
 *
 * @param sampleSize stored items compared (neighbourhoods, score distributions, zero-shot)
 * @param k neighbours per item, and k of recall@k and precision@k
 * @param queries labelled queries: recall@k for both versions
 * @param classKey metadata key holding each item's class, or empty
 * @param classTemplate the text a class name is put into ("{}" replaced)
 */
public record EvaluationRequest(int sampleSize, int k, List<LabeledQuery> queries, String classKey,
    String classTemplate) {

  public static final int DEFAULT_SAMPLE = 200;
  public static final int MAX_SAMPLE = 2000;
  public static final int DEFAULT_K = 10;
  public static final int MAX_K = 100;
  public static final int MAX_QUERIES = 1000;

  /** What a rollout measures by itself when its backfill is done. */
  public static final EvaluationRequest AUTOMATIC = new EvaluationRequest(DEFAULT_SAMPLE, DEFAULT_K, List.of(), "",
      "{}");

  /** A query and the ids a good answer holds. */
  public record LabeledQuery(Content query, Set<String> expectedIds) {}
}
