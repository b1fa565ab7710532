package io.jointspace.server.batching;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import javax.annotation.Nullable;
import javax.annotation.concurrent.GuardedBy;

/**
 * One {@link BatchQueue#submit} call: its future, the outputs gathered so far from the batches
 * its items ran in, and its deadline. Mutable state is guarded by the lock of the
 * {@link Dispatcher} that serves its queue; the future is completed only after that lock is
 * released (see {@link Outbox}).
 */
final class Request<O> {
  final CompletableFuture<List<O>> future = new CompletableFuture<>();
  final int size;
  final long submittedNanos;
  /** Long.MAX_VALUE: no deadline. */
  private final long timeoutNanos;

  @GuardedBy("Dispatcher.lock")
  private final List<O> outputs;
  /** Items whose output is not yet known. */
  @GuardedBy("Dispatcher.lock")
  int remaining;
  /** Items still waiting in the queue (not taken into a batch). */
  @GuardedBy("Dispatcher.lock")
  int queued;
  /** The future is (or is about to be) completed; nothing more is done for this request. */
  @GuardedBy("Dispatcher.lock")
  boolean finished;

  Request(int size, long submittedNanos, @Nullable Duration timeout) {
    this.size = size;
    this.submittedNanos = submittedNanos;
    this.timeoutNanos = timeout == null ? Long.MAX_VALUE : saturatedNanos(timeout);
    this.outputs = new ArrayList<>(Collections.nCopies(size, null));
    this.remaining = size;
  }

  boolean expiredAt(long nowNanos) {
    return timeoutNanos != Long.MAX_VALUE && nowNanos - submittedNanos >= timeoutNanos;
  }

  /** Records one output; returns the complete result once every item has one, else null. */
  @GuardedBy("Dispatcher.lock")
  @Nullable
  List<O> recordOutput(int index, @Nullable O output) {
    outputs.set(index, output);
    remaining--;
    if (remaining > 0) {
      return null;
    }
    finished = true;
    return Collections.unmodifiableList(outputs);
  }

  static long saturatedNanos(Duration duration) {
    try {
      return duration.toNanos();
    } catch (ArithmeticException e) {
      return duration.isNegative() ? Long.MIN_VALUE : Long.MAX_VALUE;
    }
  }
}
