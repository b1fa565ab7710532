package io.jointspace.server.store;

/** Where a read was served, and why there: one line per case. */
public enum ReadRoute {
  /** A healthy streaming replica (round-robin). */
  REPLICA("replica", "replica"),
  /** The primary: no read replica is configured. */
  NO_REPLICAS("primary", "no_replicas"),
  /** The primary: no replica is healthy now. */
  NO_HEALTHY_REPLICA("primary", "no_healthy_replica"),
  /** The primary: the replica had not replayed the read's consistency token within the wait. */
  LAG("primary", "lag"),
  /** The primary: the replica failed during the read (down, or a recovery conflict cancelled it). */
  REPLICA_FAILED("primary", "replica_failed"),
  /** The primary: the replica lacks the collection or its table (created a moment ago, or not there at all). */
  NOT_ON_REPLICA("primary", "not_on_replica");

  private final String target;
  private final String reason;

  ReadRoute(String target, String reason) {
    this.target = target;
    this.reason = reason;
  }

  /** {@code replica} or {@code primary}. */
  public String target() {
    return target;
  }

  /** The case in snake case, for metrics. */
  public String reason() {
    return reason;
  }
}
