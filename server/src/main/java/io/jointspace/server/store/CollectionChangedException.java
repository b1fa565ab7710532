package io.jointspace.server.store;

/**
 * A write was prepared for a set of tables that changed before it committed (a rollout
 * started, was promoted, rolled back, finalized or aborted meanwhile). Nothing was written;
 * the caller reads the collection again, embeds for its tables now, and retries.
 */
public final class CollectionChangedException extends RuntimeException {
  public CollectionChangedException(String message) {
    super(message);
  }
}
