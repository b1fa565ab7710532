package io.jointspace.server.store;

/** Where a rollout stands. Every state but FINALIZED and ABORTED keeps both versions written. */
public enum RolloutState {
  /** Created; the target table exists; no server has started re-embedding yet. */
  PENDING,
  /** Servers re-embed stored sources with the target version, then build its index and evaluate. */
  BACKFILLING,
  /** Backfill stopped by the user; resume continues where it stopped. */
  PAUSED,
  /** Every item is re-embedded, the index built and the evaluation done: ready to promote. */
  READY,
  /** The target version is the collection's active one; the old one still receives writes. */
  PROMOTED,
  /** Back on the old version after a promote; the target still receives writes and may be promoted again. */
  ROLLED_BACK,
  /** Done: the old version's table is dropped (or retired). */
  FINALIZED,
  /** Some items could not be re-embedded (listed with their error); resume retries them, abort gives up. */
  FAILED,
  /** Given up: the target version's table is dropped. */
  ABORTED;

  public String catalogName() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }

  public boolean open() {
    return this != FINALIZED && this != ABORTED;
  }

  static RolloutState fromCatalog(String name) {
    return valueOf(name.toUpperCase(java.util.Locale.ROOT));
  }
}
