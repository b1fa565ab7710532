package io.jointspace.server.runtime;

import io.jointspace.server.batching.DeadlineExceededException;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import javax.annotation.Nullable;

/**
 * The deadline and the cancellation of one call, as the runtime sees them (the gRPC layer
 * makes one per call from its context). Work started for the call registers its futures with
 * {@link #watch}; when the call ends early ({@link #cancel()}, {@link #expire()}), every
 * watched future that is still pending fails at once, which drops its items from their batch
 * queues before they run and frees the waiting thread.
 *
 * <p>Thread-safe. {@link #NONE} has no deadline and is never cancelled.
 */
public final class CallScope {
  /** No deadline, never cancelled. */
  public static final CallScope NONE = new CallScope(Long.MAX_VALUE);

  /** System.nanoTime() at which the call expires; Long.MAX_VALUE: never. */
  private final long deadlineNanos;
  private final Set<CompletableFuture<?>> watched = ConcurrentHashMap.newKeySet();
  /** Why the call ended early, once it has; null while it runs. */
  @Nullable private volatile RuntimeException ended;

  private CallScope(long deadlineNanos) {
    this.deadlineNanos = deadlineNanos;
  }

  /** A scope expiring {@code timeout} from now; null: no deadline. */
  public static CallScope withTimeout(@Nullable Duration timeout) {
    if (timeout == null) {
      return new CallScope(Long.MAX_VALUE);
    }
    long now = System.nanoTime();
    long nanos = saturatedNanos(timeout);
    long deadline = nanos >= Long.MAX_VALUE - now ? Long.MAX_VALUE - 1 : now + nanos;
    return new CallScope(deadline);
  }

  /** Time left before the deadline (zero or negative once passed); null without a deadline. */
  @Nullable
  public Duration remaining() {
    return deadlineNanos == Long.MAX_VALUE ? null : Duration.ofNanos(deadlineNanos - System.nanoTime());
  }

  /**
   * Throws when the call has ended: {@link CancellationException} when it was cancelled,
   * {@link DeadlineExceededException} when its deadline passed. Cheap; call it before
   * starting work that the call may no longer want.
   */
  public void check() {
    RuntimeException e = ended;
    if (e == null && deadlineNanos != Long.MAX_VALUE && System.nanoTime() - deadlineNanos >= 0) {
      e = new DeadlineExceededException("deadline exceeded before the work started");
    }
    if (e != null) {
      throw e instanceof CancellationException c ? copy(c) : e;
    }
  }

  /**
   * Ties {@code future} to this call: when the call ends early, the future fails (cancelled,
   * or with {@link DeadlineExceededException}). Returns {@code future}.
   */
  public <T> CompletableFuture<T> watch(CompletableFuture<T> future) {
    if (this == NONE) {
      return future;
    }
    watched.add(future);
    future.whenComplete((r, e) -> watched.remove(future));
    RuntimeException e = ended;
    if (e != null) {
      end(future, e);
    }
    return future;
  }

  /** The call was cancelled (the client went away): fails the watched futures. */
  public void cancel() {
    endAll(new CancellationException("the call was cancelled"));
  }

  /** The call's deadline passed: fails the watched futures with DEADLINE_EXCEEDED. */
  public void expire() {
    endAll(new DeadlineExceededException("deadline exceeded while the call waited"));
  }

  private void endAll(RuntimeException why) {
    if (this == NONE) {
      return;
    }
    ended = why;
    for (CompletableFuture<?> f : watched) {
      end(f, why);
    }
  }

  private static void end(CompletableFuture<?> future, RuntimeException why) {
    if (why instanceof CancellationException) {
      future.cancel(false);
    } else {
      future.completeExceptionally(why);
    }
  }

  private static CancellationException copy(CancellationException c) {
    return new CancellationException(c.getMessage());
  }

  private static long saturatedNanos(Duration d) {
    try {
      return Math.max(0, d.toNanos());
    } catch (ArithmeticException e) {
      return d.isNegative() ? 0 : Long.MAX_VALUE;
    }
  }
}
