package io.jointspace.server.runtime;

import io.jointspace.server.errors.OverloadedException;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import javax.annotation.Nullable;

/**
 * A bounded pool for image decoding and tokenization, so that this CPU work runs neither on
 * gRPC threads nor on batch threads. Admission never blocks: when the queue is full,
 * {@link #submit} fails at once with {@link OverloadedException}.
 */
public final class PreprocessPool implements AutoCloseable {
  /** Null for a pool that runs work on the submitting thread ({@link #callerRuns()}). */
  @Nullable private final ThreadPoolExecutor executor;
  private final int queueCapacity;

  private PreprocessPool() {
    this.executor = null;
    this.queueCapacity = 0;
  }

  /** Runs each task on the thread that submits it: for one version driven in-process. */
  public static PreprocessPool callerRuns() {
    return new PreprocessPool();
  }

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
    if (executor == null) {
      return CompletableFuture.supplyAsync(work, Runnable::run);
    }
    try {
      return CompletableFuture.supplyAsync(work, executor);
    } catch (RejectedExecutionException e) {
      int waiting = executor.getQueue().size();
      throw new OverloadedException("preprocessing queue is full (" + waiting + " of " + queueCapacity
          + " tasks waiting, " + executor.getActiveCount() + " running); retry later", "preprocessing", waiting,
          queueCapacity, 1, e);
    }
  }

  @Override
  public void close() {
    if (executor != null) {
      executor.shutdownNow();
    }
  }
}
