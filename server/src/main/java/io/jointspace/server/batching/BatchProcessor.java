package io.jointspace.server.batching;

import java.util.List;

/**
 * Runs one batch: for an encoder, packs the items into tensors (padded to
 * {@link Batch#lengthBucket()} when the queue has length buckets), calls the model and splits
 * the result.
 *
 * <p>Called on a batch thread of the {@link BatchScheduler} (or, for a manual scheduler, on the
 * thread that calls {@link BatchScheduler#runPending()}), never under a lock of this package,
 * and at most {@link BatchingOptions#maxConcurrentBatches()} times at once per queue. The
 * batch and its items belong to the processor only for the duration of the call.
 *
 * @param <I> the item type
 * @param <O> the output type, one per item
 */
@FunctionalInterface
public interface BatchProcessor<I, O> {
  /**
   * Returns exactly one output per item, in the order of {@link Batch#items()}. An exception
   * (or a list of the wrong size) fails every request that has an item in this batch, with
   * that exception; other requests are not affected.
   */
  List<O> process(Batch<I> batch) throws Exception;
}
