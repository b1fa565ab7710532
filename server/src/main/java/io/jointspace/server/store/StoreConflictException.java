package io.jointspace.server.store;

/** The database refused a change because of its current state (for example objects that depend on a view). */
public final class StoreConflictException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public StoreConflictException(String message, Throwable cause) {
    super(message, cause);
  }
}
