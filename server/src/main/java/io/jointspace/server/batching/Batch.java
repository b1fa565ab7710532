package io.jointspace.server.batching;

import java.util.List;
import java.util.Objects;

/**
 * The items handed to one {@link BatchProcessor#process} call, oldest first; they may come from
 * several requests, and one request's items may be spread over several batches.
 *
 * @param queueName the queue the batch comes from
 * @param items between 1 and {@link BatchingOptions#maxBatchSize()} items, unmodifiable
 * @param lengthBucket the upper bound of the length bucket every item lies in, which is the
 *     length to pad to; 0 when the queue has no {@link BatchingOptions#lengthBuckets()}
 * @param <I> the item type
 */
public record Batch<I>(String queueName, List<I> items, int lengthBucket) {
  public Batch {
    Objects.requireNonNull(queueName, "queueName");
    items = List.copyOf(items);
    if (lengthBucket < 0) {
      throw new IllegalArgumentException("lengthBucket must not be negative, got " + lengthBucket);
    }
  }

  public int size() {
    return items.size();
  }
}
