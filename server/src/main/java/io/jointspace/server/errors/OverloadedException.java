package io.jointspace.server.errors;

import javax.annotation.Nullable;

/**
 * The server is at capacity: a batch queue or the preprocessing pool has no room for the
 * request. Nothing of the request was kept; a retry later may succeed. The server answers
 * RESOURCE_EXHAUSTED. Carries what an operator needs: which resource, how full it was, its
 * limit, and how much the request asked for.
 */
public final class OverloadedException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final String resource;
  private final int depth;
  private final int capacity;
  private final int requested;

  /**
   * @param resource the queue ({@code clip@2/encode_text}) or pool ({@code preprocessing})
   * @param depth what was waiting in it when the request came
   * @param capacity the limit the request met
   * @param requested items or tasks the request needed
   */
  public OverloadedException(String message, String resource, int depth, int capacity, int requested,
      @Nullable Throwable cause) {
    super(message, cause);
    this.resource = resource;
    this.depth = depth;
    this.capacity = capacity;
    this.requested = requested;
  }

  public String resource() {
    return resource;
  }

  public int depth() {
    return depth;
  }

  public int capacity() {
    return capacity;
  }

  public int requested() {
    return requested;
  }
}
