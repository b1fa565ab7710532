package io.jointspace.server.store;

/** No rollout answers to the collection (and id) given. */
public final class RolloutNotFoundException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public RolloutNotFoundException(String message) {
    super(message);
  }
}
