package io.jointspace.server.store;

/** The store's limits on one request. Over them: {@link LimitExceededException}. */
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
  /** Largest top_k of a search. */
  public static final int MAX_TOP_K = 1000;
  /** Conditions in one filter, counting and/or/not. */
  public static final int MAX_FILTER_CONDITIONS = 256;
  /** How deep and/or/not may nest. */
  public static final int MAX_FILTER_DEPTH = 16;
  /** Values of one {@code in} condition. */
  public static final int MAX_IN_VALUES = 1000;
  /** Longest metadata key path in a filter, in characters. */
  public static final int MAX_KEY_CHARS = 256;
}
