package io.jointspace.server.store;

/** The collection has an open rollout already; a second one cannot start. */
public final class RolloutExistsException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public RolloutExistsException(String message) {
    super(message);
  }
}
