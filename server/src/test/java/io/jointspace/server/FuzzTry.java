package io.jointspace.server;

import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import javax.annotation.Nullable;

/**
 * One try of a fuzz property: runs the code under test on a thread of its own, with a time
 * limit, and measures the Java heap bytes that thread allocated meanwhile
 * ({@code com.sun.management.ThreadMXBean#getCurrentThreadAllocatedBytes}). A try that passes
 * its time limit fails the property; its thread is left behind (a daemon) and the next try
 * gets a new one.
 */
public final class FuzzTry {
  private static final com.sun.management.ThreadMXBean THREADS =
      (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
  private static ExecutorService worker = newWorker();

  private FuzzTry() {}

  /**
   * What one try did: the value it returned or what it threw, the bytes it allocated and how
   * long it took.
   */
  public record Outcome<T>(@Nullable T value, @Nullable Throwable error, long allocatedBytes, Duration took) {
    /**
     * The value, when the code returned one or threw one of {@code allowed}; any other throwable
     * fails the try with it as the cause.
     *
     * @return the value, or null when an allowed exception was thrown
     */
    @SafeVarargs
    @Nullable
    public final T valueOrOnly(Class<? extends Throwable>... allowed) {
      if (error == null) {
        return value;
      }
      for (Class<? extends Throwable> c : allowed) {
        if (c.isInstance(error)) {
          return null;
        }
      }
      throw new AssertionError("threw " + error + ", which is none of the documented " + Arrays.toString(
          Arrays.stream(allowed).map(Class::getSimpleName).toArray()), error);
    }

    /** Fails unless at most {@code bound} bytes were allocated. */
    public Outcome<T> allocatedAtMost(long bound, String why) {
      if (allocatedBytes > bound) {
        throw new AssertionError("allocated " + allocatedBytes + " bytes, over the bound of " + bound + " (" + why + ")"
            + (error == null ? "" : "; it threw " + error));
      }
      return this;
    }
  }

  /** Runs {@code work} once, waiting at most {@code limit} for it. */
  public static synchronized <T> Outcome<T> run(Duration limit, Callable<T> work) {
    Future<Outcome<T>> f = worker.submit(() -> {
      long t0 = System.nanoTime();
      long before = THREADS.getCurrentThreadAllocatedBytes();
      T value = null;
      Throwable error = null;
      try {
        value = work.call();
      } catch (Throwable t) { // the property decides which throwables are documented
        error = t;
      }
      long allocated = THREADS.getCurrentThreadAllocatedBytes() - before;
      return new Outcome<>(value, error, allocated, Duration.ofNanos(System.nanoTime() - t0));
    });
    try {
      return f.get(limit.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      f.cancel(true);
      worker.shutdownNow();
      worker = newWorker();
      throw new AssertionError("did not finish within " + limit);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted", e);
    } catch (ExecutionException e) {
      throw new AssertionError(e.getCause());
    }
  }

  private static ExecutorService newWorker() {
    return Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "fuzz-try");
      t.setDaemon(true);
      return t;
    });
  }
}
