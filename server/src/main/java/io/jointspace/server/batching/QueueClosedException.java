package io.jointspace.server.batching;

/**
 * The queue (or its whole scheduler) was closed: a new request is refused, or, when the
 * scheduler closed, a waiting request is dropped. A retry on another model version or server
 * may succeed; the server answers UNAVAILABLE.
 */
public final class QueueClosedException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  QueueClosedException(String message) {
    super(message);
  }
}
