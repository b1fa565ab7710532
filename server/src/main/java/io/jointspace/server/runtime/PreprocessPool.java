package io.jointspace.server.runtime;

import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * A bounded pool for image decoding and tokenization, so that this CPU work runs neither on
 * gRPC threads nor on batch threads. Admission never blocks: when the queue is full,
 * {@link #submit} fails at once with {@link OverloadedException}.
 */
public final class PreprocessPool implements AutoCloseable {
  private final ThreadPoolExecutor executor;
  private final int queueCapacity;

  /**
   * @param threads worker threads (typically the number of cores)
   * @param queueCapacity tasks that may wait
   */
  public PreprocessPool(int threads, int queueCapacity) {
    this.queueCapacity = queueCapacity;
    AtomicInteger n = new AtomicInteger();
    this.executor = new ThreadPoolExecutor(threads, threads, 0, TimeUnit.MILLISECONDS,
        new ArrayBlockingQueue<>(queueCapacity), r -> {
          Thread t = new Thread(r, "preprocess-" + n.incrementAndGet());
          t.setDaemon(true);
          return t;
        });
  }

  /** Runs {@code work} on the pool. @throws OverloadedException when the queue is full */
  public <T> CompletableFuture<T> submit(Supplier<T> work) {
    try {
      return CompletableFuture.supplyAsync(work, executor);
    } catch (RejectedExecutionException e) {
      throw new OverloadedException("preprocessing queue is full (" + executor.getQueue().size() + " of "
          + queueCapacity + " tasks waiting, " + executor.getActiveCount() + " running); retry later");
    }
  }

  @Override
  public void close() {
    executor.shutdownNow();
  }
}
