package io.jointspace.server.batching;

import java.time.Duration;

/** Options for tests of the queue's own rules, independent of the library's defaults. */
final class TestOptions {
  private TestOptions() {}

  /**
   * A queue that waits its delay (5 ms) for any arrival, runs one batch at a time and admits
   * any backlog up to {@code maxQueuedItems}: Triton's plain dynamic batcher.
   */
  static final BatchingOptions WAITING = BatchingOptions.DEFAULT
      .withMaxQueueDelay(Duration.ofMillis(5))
      .withWaitOnlyForAdmitted(false)
      .withMaxConcurrentBatches(1)
      .withMaxItemsAhead(Integer.MAX_VALUE);
}
