package io.jointspace.server.store;

/** The database cannot be reached now; the same call may succeed once it is back. */
public final class StoreUnavailableException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public StoreUnavailableException(String message, Throwable cause) {
    super(message, cause);
  }
}
