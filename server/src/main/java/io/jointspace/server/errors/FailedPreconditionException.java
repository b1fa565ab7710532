package io.jointspace.server.errors;

/**
 * The request is valid but the system is not in a state to carry it out (a label onto a
 * version in ERROR, or one still loading without the caller's consent). Retrying the same
 * request fails until that state changes; the server answers FAILED_PRECONDITION.
 */
public final class FailedPreconditionException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public FailedPreconditionException(String message) {
    super(message);
  }
}
