package io.jointspace.server.batching;

/**
 * A request was refused because its queue holds too many waiting items
 * ({@link BatchingOptions#maxQueuedItems()}, {@link BatchingOptions#maxItemsAhead()}) or because
 * the work waiting ahead of it would outlast its deadline; the message says which. Nothing of
 * it was queued. A retry later may succeed. The server answers RESOURCE_EXHAUSTED.
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

  /**
   * Refused because the work already waiting would outlast the request's deadline: about
   * {@code waitNanos} until its items would have run, with {@code remainingNanos} left.
   */
  static QueueFullException deadline(String queueName, int depth, long waitNanos, long remainingNanos, int requested) {
    return new QueueFullException(String.format(java.util.Locale.ROOT,
        "queue '%s' is busy: %d items wait ahead, about %.1f ms of work before this request's %d items would have"
            + " run, more than the %.1f ms left of the call's deadline; retry later or with a longer deadline",
        queueName, depth, waitNanos / 1e6, requested, Math.max(0, remainingNanos) / 1e6),
        queueName, depth, depth, requested);
  }

  public String queueName() {
    return queueName;
  }

  /** Items waiting when the request arrived. */
  public int depth() {
    return depth;
  }

  /**
   * The limit it met: {@link BatchingOptions#maxQueuedItems()} or {@link BatchingOptions#maxItemsAhead()};
   * for a refusal by deadline, the items waiting ahead.
   */
  public int capacity() {
    return capacity;
  }

  /** Items in the refused request. */
  public int requested() {
    return requested;
  }
}
