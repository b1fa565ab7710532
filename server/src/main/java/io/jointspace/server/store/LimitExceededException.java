package io.jointspace.server.store;

/** A request over one of the store's {@link Limits}. The message names the field and the limit. */
public final class LimitExceededException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public LimitExceededException(String message) {
    super(message);
  }
}
