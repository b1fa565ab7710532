package io.jointspace.server.batching;

/**
 * A request's deadline passed before all of its items ran; its waiting items were dropped and
 * never reached the processor. The server answers DEADLINE_EXCEEDED.
 */
public final class DeadlineExceededException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public DeadlineExceededException(String message) {
    super(message);
  }
}
