package io.jointspace.server.batching;

/**
 * A request was refused because its queue holds too many waiting items
 * ({@link BatchingOptions#maxQueuedItems()}, {@link BatchingOptions#maxItemsAhead()}); nothing
 * of it was queued. A retry later may
 * succeed. The server answers RESOURCE_EXHAUSTED.
 */
public final class QueueFullException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final String queueName;
  private final int depth;
  private final int capacity;
  private final int requested;

  QueueFullException(String queueName, int depth, int capacity, int requested) {
    this(requested > capacity
        ? "queue '" + queueName + "' holds at most " + capacity + " waiting items: a request of "
            + requested + " items can never fit, split it (" + depth + " waiting now)"
        : "queue '" + queueName + "' is full: " + depth + " of " + capacity + " items waiting, "
            + "cannot add " + requested + " more; retry later", queueName, depth, capacity, requested);
  }

  private QueueFullException(String message, String queueName, int depth, int capacity, int requested) {
    super(message);
    this.queueName = queueName;
    this.depth = depth;
    this.capacity = capacity;
    this.requested = requested;
  }

  /** Refused by {@link BatchingOptions#maxItemsAhead()}: too much waiting ahead of it. */
  static QueueFullException backlog(String queueName, int depth, int maxAhead, int requested) {
    return new QueueFullException("queue '" + queueName + "' is busy: " + depth + " items waiting,"
        + " more than the " + maxAhead + " a new request may wait behind; retry later",
        queueName, depth, maxAhead, requested);
  }

  public String queueName() {
    return queueName;
  }

  /** Items waiting when the request arrived. */
  public int depth() {
    return depth;
  }

  /** The limit it met: {@link BatchingOptions#maxQueuedItems()} or {@link BatchingOptions#maxItemsAhead()}. */
  public int capacity() {
    return capacity;
  }

  /** Items in the refused request. */
  public int requested() {
    return requested;
  }
}
