package io.jointspace.server.batching;

import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * How one {@link BatchQueue} forms batches. Start from {@link #DEFAULT} and change fields with
 * the {@code with...} methods; every instance is validated when made, and an invalid value
 * fails with an {@link IllegalArgumentException} that names the field.
 *
 * <p>When a batch is cut, for the items of one length bucket, oldest first:
 * <ol>
 *   <li>the queue is closing: at once, up to {@code maxBatchSize} items (draining);
 *   <li>the oldest item has waited {@code maxQueueDelay}, or {@code waitOnlyForAdmitted} is set
 *       and no room is reserved, or so little that the waiting and reserved items together are
 *       fewer than a quarter of {@code maxBatchSize} (at least 2): at once, up to
 *       {@code maxBatchSize};
 *   <li>{@code maxBatchSize} items are waiting: at once, exactly {@code maxBatchSize};
 *   <li>the waiting items reach a preferred size: at once, the largest preferred size that
 *       the waiting items fill (Triton's rule);
 *   <li>otherwise the items wait.
 * </ol>
 *
 * @param maxBatchSize most items in one batch; a request with more items is split across
 *     batches. Default 32
 * @param maxQueueDelay longest an item waits for others to fill its batch; zero runs every
 *     batch as soon as a thread is free. Default 2 ms
 * @param preferredBatchSizes sizes at which a batch is cut without waiting for
 *     {@code maxQueueDelay}, each in 1..maxBatchSize; sorted and deduplicated here. Default
 *     empty
 * @param maxQueuedItems most items waiting (not yet running) in the queue; a request that
 *     would exceed it is rejected at once with {@link QueueFullException}. Default 1024
 * @param lengthBuckets upper bounds of item lengths (e.g. token counts) for text; an item goes
 *     to the first bucket at least as long as it, a batch never mixes buckets, and an item
 *     longer than the last bucket is rejected. Padding to {@link Batch#lengthBucket()} is the
 *     processor's job. Sorted and deduplicated here. Default empty: one bucket, no lengths
 * @param maxConcurrentBatches most batches of this queue running at the same time on the
 *     scheduler's threads. Default {@link Integer#MAX_VALUE}: as many as the scheduler has
 *     threads
 * @param maxItemsAhead most items that may be waiting when a request arrives: with more, the
 *     request is rejected at once with {@link QueueFullException}, whatever its own size.
 *     This bounds how long an admitted request waits for others' items (about
 *     {@code maxItemsAhead / maxBatchSize} batches) without refusing a large request that
 *     finds the queue short. Default {@link Integer#MAX_VALUE}: no bound by count; a request
 *     with a deadline is refused when the work ahead of it, at the queue's recent batch
 *     times, would outlast that deadline
 * @param waitOnlyForAdmitted wait {@code maxQueueDelay} only for items that are known to be
 *     coming: while room is {@link BatchQueue#reserve reserved} for items still being prepared,
 *     and only when they would make a batch worth waiting for (with the waiting items, a
 *     quarter of {@code maxBatchSize}, at least 2). Otherwise the waiting items are cut at once
 *     (as if their delay had passed), so a lone caller does not wait for company that will not
 *     come, nor a few callers for each other. For callers that reserve before they prepare
 *     their items. Default true; false waits for any arrival
 */
public record BatchingOptions(
    int maxBatchSize,
    Duration maxQueueDelay,
    List<Integer> preferredBatchSizes,
    int maxQueuedItems,
    List<Integer> lengthBuckets,
    int maxConcurrentBatches,
    int maxItemsAhead,
    boolean waitOnlyForAdmitted) {

  /**
   * The defaults, the server's too ({@code jointspace.config.v1.BatchingConfig} states them):
   * batches of up to 32, a 2 ms queue delay, 1024 queued items, no bound on the items ahead
   * (a request's deadline bounds its wait instead), as many batches at once as the scheduler
   * has threads, and waiting only for admitted items.
   */
  public static final BatchingOptions DEFAULT = new BatchingOptions(32, Duration.ofMillis(2), List.of(), 1024,
      List.of(), Integer.MAX_VALUE, Integer.MAX_VALUE, true);

  public BatchingOptions {
    if (maxBatchSize < 1) {
      throw new IllegalArgumentException("maxBatchSize must be at least 1, got " + maxBatchSize);
    }
    Objects.requireNonNull(maxQueueDelay, "maxQueueDelay");
    if (maxQueueDelay.isNegative()) {
      throw new IllegalArgumentException("maxQueueDelay must not be negative, got " + maxQueueDelay);
    }
    preferredBatchSizes = sortedDistinct("preferredBatchSizes", preferredBatchSizes);
    for (int size : preferredBatchSizes) {
      if (size < 1 || size > maxBatchSize) {
        throw new IllegalArgumentException("preferredBatchSizes must lie in 1..maxBatchSize ("
            + maxBatchSize + "), got " + size);
      }
    }
    if (maxQueuedItems < 1) {
      throw new IllegalArgumentException("maxQueuedItems must be at least 1, got " + maxQueuedItems);
    }
    lengthBuckets = sortedDistinct("lengthBuckets", lengthBuckets);
    for (int bound : lengthBuckets) {
      if (bound < 1) {
        throw new IllegalArgumentException("lengthBuckets must be positive, got " + bound);
      }
    }
    if (maxConcurrentBatches < 1) {
      throw new IllegalArgumentException(
          "maxConcurrentBatches must be at least 1, got " + maxConcurrentBatches);
    }
    if (maxItemsAhead < 0) {
      throw new IllegalArgumentException("maxItemsAhead must not be negative, got " + maxItemsAhead);
    }
  }

  public BatchingOptions withMaxBatchSize(int value) {
    return new BatchingOptions(value, maxQueueDelay, preferredBatchSizes, maxQueuedItems,
        lengthBuckets, maxConcurrentBatches, maxItemsAhead, waitOnlyForAdmitted);
  }

  public BatchingOptions withMaxQueueDelay(Duration value) {
    return new BatchingOptions(maxBatchSize, value, preferredBatchSizes, maxQueuedItems,
        lengthBuckets, maxConcurrentBatches, maxItemsAhead, waitOnlyForAdmitted);
  }

  public BatchingOptions withPreferredBatchSizes(Integer... values) {
    return new BatchingOptions(maxBatchSize, maxQueueDelay, List.of(values), maxQueuedItems,
        lengthBuckets, maxConcurrentBatches, maxItemsAhead, waitOnlyForAdmitted);
  }

  public BatchingOptions withMaxQueuedItems(int value) {
    return new BatchingOptions(maxBatchSize, maxQueueDelay, preferredBatchSizes, value,
        lengthBuckets, maxConcurrentBatches, maxItemsAhead, waitOnlyForAdmitted);
  }

  public BatchingOptions withLengthBuckets(Integer... values) {
    return new BatchingOptions(maxBatchSize, maxQueueDelay, preferredBatchSizes, maxQueuedItems,
        List.of(values), maxConcurrentBatches, maxItemsAhead, waitOnlyForAdmitted);
  }

  public BatchingOptions withMaxConcurrentBatches(int value) {
    return new BatchingOptions(maxBatchSize, maxQueueDelay, preferredBatchSizes, maxQueuedItems,
        lengthBuckets, value, maxItemsAhead, waitOnlyForAdmitted);
  }

  public BatchingOptions withMaxItemsAhead(int value) {
    return new BatchingOptions(maxBatchSize, maxQueueDelay, preferredBatchSizes, maxQueuedItems,
        lengthBuckets, maxConcurrentBatches, value, waitOnlyForAdmitted);
  }

  public BatchingOptions withWaitOnlyForAdmitted(boolean value) {
    return new BatchingOptions(maxBatchSize, maxQueueDelay, preferredBatchSizes, maxQueuedItems,
        lengthBuckets, maxConcurrentBatches, maxItemsAhead, value);
  }

  /**
   * With {@link #waitOnlyForAdmitted}, the fewest items (waiting and reserved together) worth
   * holding a batch for: a quarter of {@link #maxBatchSize}, at least 2. Fewer than that run as
   * soon as a slot is free, without waiting for the reserved ones: a few callers' items would
   * make a batch of two or three, which saves less than a core left idle while they are
   * prepared (four image callers on two cores: 0.80x the calls of batching off when they
   * waited for each other, 0.94x when they did not, while 64 callers still gained 1.75x;
   * bench/run-overhead.sh, medians of three alternating windows).
   */
  int companyWorthWaitingFor() {
    return Math.max(2, (maxBatchSize + 3) / 4);
  }

  /**
   * Whether {@code items} items (waiting, or about to) are held for {@code reserved} items
   * still being prepared: with {@link #waitOnlyForAdmitted}, only when some are reserved and
   * together they reach {@link #companyWorthWaitingFor}. The one rule for a call that could run
   * at once and for items already waiting.
   */
  boolean waitsFor(int items, int reserved) {
    return reserved > 0 && items + reserved >= companyWorthWaitingFor();
  }

  /** The size of a batch to cut from {@code waiting} items now, or 0 to keep waiting. */
  int batchSizeToCut(int waiting, boolean delayElapsed, boolean draining) {
    if (waiting == 0) {
      return 0;
    }
    if (draining || delayElapsed || waiting >= maxBatchSize) {
      return Math.min(waiting, maxBatchSize);
    }
    for (int i = preferredBatchSizes.size() - 1; i >= 0; i--) {
      if (preferredBatchSizes.get(i) <= waiting) {
        return preferredBatchSizes.get(i);
      }
    }
    return 0;
  }

  /** The bucket index for an item of {@code length}, or -1 when it is longer than every bucket. */
  int bucketOf(int length) {
    if (lengthBuckets.isEmpty()) {
      return 0;
    }
    for (int i = 0; i < lengthBuckets.size(); i++) {
      if (length <= lengthBuckets.get(i)) {
        return i;
      }
    }
    return -1;
  }

  private static List<Integer> sortedDistinct(String field, List<Integer> values) {
    Objects.requireNonNull(values, field);
    for (Integer value : values) {
      Objects.requireNonNull(value, () -> field + " must not contain null");
    }
    return values.stream().distinct().sorted().toList();
  }
}
