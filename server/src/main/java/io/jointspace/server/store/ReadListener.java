package io.jointspace.server.store;

/**
 * Told where each routed read was served, when a replica goes up or down, and which plan each
 * Search took (the server feeds them to its metrics). Called on the threads that serve the reads and on the replica checker;
 * implementations must be fast and thread-safe.
 */
public interface ReadListener {
  ReadListener NONE = new ReadListener() {
    @Override
    public void onRead(ReadRoute route, String replica) {}

    @Override
    public void onReplicaHealth(String replica, boolean healthy) {}
  };

  /** @param replica the replica tried or used; empty when none was */
  void onRead(ReadRoute route, String replica);

  void onReplicaHealth(String replica, boolean healthy);

  /** A Search ran with {@code plan}, wherever it was served. */
  default void onSearch(SearchPlan plan) {}
}
