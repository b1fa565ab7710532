package io.jointspace.server.store;

/**
 * Fixed limits on one request. Over a size limit of the store: {@link LimitExceededException}
 * (RESOURCE_EXHAUSTED); over a limit on the shape of the request (filter nesting and
 * conditions, {@code ef_search}, zero-shot labels and templates): INVALID_ARGUMENT naming the
 * field, checked before anything is built from the request. docs/operations.md's "Limits"
 * table lists them all with the server-wide ones; LimitsTableTest keeps it equal to these.
 */
public final class Limits {
  private Limits() {}

  /** Longest collection name (it is a SQL identifier, with room for the table suffix). */
  public static final int MAX_NAME_CHARS = 40;
  /** Longest item id, in UTF-8 bytes. */
  public static final int MAX_ID_BYTES = 512;
  /** Largest metadata object, as JSON text in UTF-8 bytes. */
  public static final int MAX_METADATA_BYTES = 64 * 1024;
  /** Items in one Upsert call. */
  public static final int MAX_ITEMS_PER_UPSERT = 1000;
  /** Items in one UpsertStream message (one transaction). */
  public static final int MAX_ITEMS_PER_STREAM_MESSAGE = 10_000;
  /** Ids in one Get or Delete call. */
  public static final int MAX_IDS = 1000;
  /**
   * Bytes of the items one Get answers: ids, metadata as JSON text, 4 bytes a vector value,
   * sources, a little for the rest. Measured before the items are read; a Get of one item is
   * always answered.
   */
  public static final long MAX_GET_ANSWER_BYTES = 32L << 20;
  /** Largest top_k of a search. */
  public static final int MAX_TOP_K = 1000;
  /** Largest ef_search of a search: pgvector's own limit on {@code hnsw.ef_search}. */
  public static final int MAX_EF_SEARCH = 1000;
  /** Conditions in one filter, counting and/or/not. */
  public static final int MAX_FILTER_CONDITIONS = 256;
  /** How deep and/or/not may nest. */
  public static final int MAX_FILTER_DEPTH = 16;
  /** Values of one {@code in} condition. */
  public static final int MAX_IN_VALUES = 1000;
  /** Longest metadata key path in a filter, in characters. */
  public static final int MAX_KEY_CHARS = 256;

  /** Labels of one Classify call. */
  public static final int MAX_LABELS = 1000;
  /** Templates of one Classify call. */
  public static final int MAX_TEMPLATES = 64;
  /** Longest Classify label, in characters (UTF-16 units, as the tokenizer's {@code max_chars}). */
  public static final int MAX_LABEL_CHARS = 1000;
  /** Longest Classify template, in characters, its {@code {}} included. */
  public static final int MAX_TEMPLATE_CHARS = 1000;
  /** Label texts one Classify call may build: labels x templates. */
  public static final int MAX_LABEL_TEXTS = 16_384;
  /**
   * Characters of all label texts one Classify call may build together: every template with
   * each of its {@code {}} replaced by every label, summed.
   */
  public static final long MAX_LABEL_TEXT_CHARS = 4L << 20;
}
