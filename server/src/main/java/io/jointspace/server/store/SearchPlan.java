package io.jointspace.server.store;

import java.util.Locale;

/**
 * How a Search found its hits (docs/sql.md, "How the API's Search runs"); each search's plan is
 * logged at DEBUG and counted in {@code jointspace_search_plans_total{plan}}.
 */
public enum SearchPlan {
  /** A small table: every row, or every match, ranked exactly. */
  SMALL,
  /** One unfiltered HNSW index scan. */
  INDEX,
  /** That scan, then again with wider candidate lists: the query was far from the data ({@link Widening}). */
  WIDENED,
  /**
   * That scan, then one with pgvector's most candidates that goes on past them, its rows ranked:
   * the query was far from every item alike ({@link Widening#isFlat}).
   */
  FLAT,
  /** A filtered HNSW walk of the whole graph. */
  WALK,
  /** That walk found fewer than top_k within its bound; a second one, farther, found them. */
  WALK_FARTHER,
  /** Both walks found fewer than top_k, so every match was ranked exactly. */
  WALK_THEN_EXACT,
  /** Every match ranked at once: a walk with this filter found too few lately. */
  EXACT,
  /** A walk of the partial index of a value the filter requires ({@link KeyIndexes}). */
  KEYED,
  /** That walk found fewer than top_k, so every match was ranked exactly. */
  KEYED_THEN_EXACT,
  /** The filtered walk of the whole graph, then again wider: even its nearest hit was far from the data. */
  WALK_WIDENED;

  /** Whether its last walk had more candidates than the first (the debug log says how many). */
  boolean walkedWider() {
    return this == WIDENED || this == FLAT || this == WALK_WIDENED;
  }

  /** Its name as a metric label: {@code walk_then_exact}. */
  public String label() {
    return name().toLowerCase(Locale.ROOT);
  }
}
