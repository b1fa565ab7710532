package io.jointspace.server.runtime;

/** The server is at capacity (a queue is full); a retry later may succeed. */
public final class OverloadedException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public OverloadedException(String message) {
    super(message);
  }
}
