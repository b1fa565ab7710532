package io.jointspace.server.batching;

import java.time.Duration;
import java.util.function.IntSupplier;

/**
 * Hooks for metrics (the server connects them to Prometheus); every method does nothing by
 * default. One listener serves every queue of a {@link BatchScheduler}.
 *
 * <p>Called on batch threads and, for {@link #onRejected}, on the thread that submits, never
 * under a lock of this package. Implementations must be thread-safe and quick; an exception
 * they throw is logged and otherwise ignored.
 */
public interface BatchListener {
  /** Does nothing. */
  BatchListener NONE = new BatchListener() {};

  /**
   * A batch ran (successfully or not).
   *
   * @param size items in the batch
   * @param lengthBucket the batch's {@link Batch#lengthBucket()}, 0 without length buckets
   * @param paddingRatio the share of the padded batch that is padding: {@code 1 - (sum of the
   *     items' lengths) / (size x lengthBucket)}; 0 without length buckets
   * @param queueTime how long the oldest item of the batch waited in the queue
   * @param computeTime how long {@link BatchProcessor#process} took
   */
  default void onBatch(String queueName, int size, int lengthBucket, double paddingRatio,
      Duration queueTime, Duration computeTime) {}

  /**
   * A queue was made; {@code depth} tells, whenever asked from any thread, how many of its
   * items wait (not yet running). Called on the thread that makes the queue.
   */
  default void onQueueOpened(String queueName, IntSupplier depth) {}

  /**
   * A request of {@code items} items was refused because the queue already held {@code depth}
   * waiting items ({@link QueueFullException}).
   */
  default void onRejected(String queueName, int items, int depth) {}

  /** {@code items} waiting items were dropped because their request's deadline passed. */
  default void onExpired(String queueName, int items) {}

  /** {@code items} waiting items were dropped because their caller cancelled the request. */
  default void onCancelled(String queueName, int items) {}

  /** The queue is closed and has nothing left to run: no event of it follows. */
  default void onDrained(String queueName) {}
}
