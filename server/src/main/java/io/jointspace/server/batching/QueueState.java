package io.jointspace.server.batching;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import javax.annotation.Nullable;
import javax.annotation.concurrent.GuardedBy;

/**
 * The mutable heart of one {@link BatchQueue}: its buckets of waiting items, its counts and the
 * decisions made on them. Every method runs under the {@link Dispatcher}'s lock (the one lock of
 * a scheduler), and leaves the completions and listener calls it decides in an {@link Outbox}
 * to be flushed after the lock is released.
 */
final class QueueState<I, O> {
  final String name;
  final BatchingOptions options;
  final BatchProcessor<I, O> processor;
  final Dispatcher dispatcher;
  final CompletableFuture<Void> drained = new CompletableFuture<>();
  private final long maxDelayNanos;

  @GuardedBy("dispatcher.lock")
  private final List<Bucket<I, O>> buckets = new ArrayList<>();
  @GuardedBy("dispatcher.lock")
  int depth;
  /** Room held by open {@link Reservation}s; counts as waiting items for admission. */
  @GuardedBy("dispatcher.lock")
  int reserved;
  @GuardedBy("dispatcher.lock")
  int running;
  /**
   * How long one of this queue's batches takes to run, smoothed over the recent ones
   * (exponentially weighted, 1/8 per batch); 0 until one has run. What admission estimates a
   * new request's wait with.
   */
  @GuardedBy("dispatcher.lock")
  long batchNanos;
  /**
   * Batches that take less than this are not worth handing a call to a batch thread for: the
   * hand-off there and back cost about 25 us of CPU a call on 2 cores (ModelInfer of
   * half_plus_two, 4 callers: 133 against 109 us a call with batching off), more than such a
   * batch can save by running rows together.
   */
  static final long HAND_OFF_NANOS = 50_000;
  @GuardedBy("dispatcher.lock")
  boolean closed;
  @GuardedBy("dispatcher.lock")
  private boolean drainedSignalled;

  QueueState(String name, BatchingOptions options, BatchProcessor<I, O> processor,
      Dispatcher dispatcher) {
    this.name = name;
    this.options = options;
    this.processor = processor;
    this.dispatcher = dispatcher;
    this.maxDelayNanos = Request.saturatedNanos(options.maxQueueDelay());
    if (options.lengthBuckets().isEmpty()) {
      buckets.add(new Bucket<>(0));
    } else {
      for (int bound : options.lengthBuckets()) {
        buckets.add(new Bucket<>(bound));
      }
    }
  }

  @GuardedBy("dispatcher.lock")
  void enqueue(Request<O> request, List<? extends I> items, int[] bucketOf, int[] lengths, long now) {
    for (int i = 0; i < items.size(); i++) {
      buckets.get(bucketOf[i]).add(new QueuedItem<>(request, i, items.get(i), lengths[i], now));
    }
    depth += items.size();
    request.queued = items.size();
  }

  /**
   * Counts {@code items} of a request that arrived at {@code now} as a batch running now,
   * without queueing them; the caller checked that a batch may run and runs it.
   */
  @GuardedBy("dispatcher.lock")
  ScheduledBatch<I, O> runNow(Request<O> request, List<? extends I> items, long now) {
    List<QueuedItem<I, O>> taken = new ArrayList<>(items.size());
    for (int i = 0; i < items.size(); i++) {
      taken.add(new QueuedItem<>(request, i, items.get(i), 0, now));
    }
    running++;
    return new ScheduledBatch<>(this, taken, 0, 0);
  }

  /**
   * Whether {@code waiting} items, the oldest of which waited {@code waited} ns, are cut
   * whether or not their batch is full: their delay has passed, or they wait only for
   * admitted items and too few are reserved to be worth waiting for.
   */
  @GuardedBy("dispatcher.lock")
  private boolean due(long waited, int waiting) {
    return waited >= maxDelayNanos
        || (options.waitOnlyForAdmitted() && !options.waitsFor(waiting, reserved));
  }

  /** Nanoseconds until a batch may be cut (0: now), or Long.MAX_VALUE when none is due. */
  @GuardedBy("dispatcher.lock")
  long nanosUntilReady(long now) {
    if (running >= options.maxConcurrentBatches()) {
      return Long.MAX_VALUE;
    }
    long soonest = Long.MAX_VALUE;
    for (Bucket<I, O> bucket : buckets) {
      if (bucket.isEmpty()) {
        continue;
      }
      long waited = now - bucket.oldestEnqueuedNanos();
      if (options.batchSizeToCut(bucket.size(), due(waited, bucket.size()), closed) > 0) {
        return 0;
      }
      soonest = Math.min(soonest, maxDelayNanos - waited);
    }
    return soonest;
  }

  /**
   * Cuts the batch due now from the ready bucket with the oldest item and counts it as
   * running; expired items met on the way are dropped. Null when no batch is due.
   */
  @GuardedBy("dispatcher.lock")
  @Nullable
  ScheduledBatch<I, O> takeReady(long now, Outbox out) {
    while (running < options.maxConcurrentBatches()) {
      Bucket<I, O> chosen = null;
      int size = 0;
      for (Bucket<I, O> bucket : buckets) {
        if (bucket.isEmpty()
            || (chosen != null && bucket.oldestEnqueuedNanos() - chosen.oldestEnqueuedNanos() >= 0)) {
          continue;
        }
        long waited = now - bucket.oldestEnqueuedNanos();
        int cut = options.batchSizeToCut(bucket.size(), due(waited, bucket.size()), closed);
        if (cut > 0) {
          chosen = bucket;
          size = cut;
        }
      }
      if (chosen == null) {
        return null;
      }
      List<QueuedItem<I, O>> taken = new ArrayList<>(size);
      while (taken.size() < size && !chosen.isEmpty()) {
        QueuedItem<I, O> item = chosen.poll();
        Request<O> request = item.request();
        depth--;
        request.queued--;
        if (request.expiredAt(now)) {
          expire(request, 1 + dropWaiting(request), now, out);
        } else {
          taken.add(item);
        }
      }
      if (!taken.isEmpty()) {
        running++;
        return new ScheduledBatch<>(this, taken, chosen.lengthBound,
            now - taken.get(0).enqueuedNanos());
      }
      signalIfDrained(out); // every item taken had expired: look again
    }
    return null;
  }

  /**
   * About how long a request of {@code items} items would wait before its last item has run,
   * with {@code ahead} items waiting before it: full batches of the ahead and its own items,
   * as many at once as the queue may run, each taking {@link #batchNanos}. 0 while no batch has
   * run yet (nothing to estimate from).
   */
  @GuardedBy("dispatcher.lock")
  long estimatedWaitNanos(int ahead, int items) {
    long batches = ((long) ahead + items + options.maxBatchSize() - 1) / options.maxBatchSize();
    int parallel = Math.max(1, Math.min(options.maxConcurrentBatches(), dispatcher.threads));
    return (batches + parallel - 1) / parallel * batchNanos;
  }

  /**
   * Whether this queue's batches, as recently timed ({@link #batchNanos}), take less than
   * {@link #HAND_OFF_NANOS}: a call that finds nothing waiting then runs at once on its own thread
   * even when every slot of {@code max_concurrent_batches} is taken. False until a batch has run.
   */
  @GuardedBy("dispatcher.lock")
  boolean runsCheaperThanHandOff() {
    return batchNanos > 0 && batchNanos < HAND_OFF_NANOS;
  }

  /** Records a finished batch: outputs to their requests, or its failure to each of them. */
  @GuardedBy("dispatcher.lock")
  void finish(ScheduledBatch<I, O> batch, @Nullable List<O> outputs, @Nullable Throwable failure,
      long computeNanos, Outbox out) {
    running--;
    batchNanos = batchNanos == 0 ? computeNanos : batchNanos + (computeNanos - batchNanos) / 8;
    for (int i = 0; i < batch.items.size(); i++) {
      QueuedItem<I, O> item = batch.items.get(i);
      Request<O> request = item.request();
      if (request.finished) {
        continue; // cancelled, expired or failed meanwhile: the output is not wanted
      }
      if (failure != null) {
        request.finished = true;
        dropWaiting(request);
        out.add(() -> request.future.completeExceptionally(failure));
      } else {
        List<O> result = request.recordOutput(item.index(), outputs.get(i));
        if (result != null) {
          out.add(() -> request.future.complete(result));
        }
      }
    }
    signalIfDrained(out);
  }

  /**
   * The future was completed from outside (cancelled, or failed by the caller): drop its
   * waiting items, counted as expired when the caller's failure is a
   * {@link DeadlineExceededException}, else as cancelled.
   */
  @GuardedBy("dispatcher.lock")
  void completedByCaller(Request<O> request, @Nullable Throwable error, Outbox out) {
    if (!request.finished) {
      request.finished = true;
      int dropped = dropWaiting(request);
      if (dropped > 0) {
        Throwable cause = error instanceof java.util.concurrent.CompletionException && error.getCause() != null
            ? error.getCause() : error;
        if (cause instanceof DeadlineExceededException) {
          out.tell(listener -> listener.onExpired(name, dropped));
        } else {
          out.tell(listener -> listener.onCancelled(name, dropped));
        }
      }
      signalIfDrained(out);
    }
  }

  @GuardedBy("dispatcher.lock")
  void close(Outbox out) {
    closed = true;
    signalIfDrained(out);
  }

  /** Fails every waiting request (the scheduler is closing) and refuses new work. */
  @GuardedBy("dispatcher.lock")
  void abort(Outbox out) {
    closed = true;
    for (Bucket<I, O> bucket : buckets) {
      for (Request<O> request : bucket.requests()) {
        int dropped = dropWaiting(request);
        if (!request.finished) {
          request.finished = true;
          QueueClosedException error = new QueueClosedException("batch scheduler closed: queue '"
              + name + "' dropped " + dropped + " waiting items of a request of " + request.size);
          out.add(() -> request.future.completeExceptionally(error));
        }
      }
    }
    signalIfDrained(out);
  }

  /** Fails a request whose deadline passed, of which {@code dropped} items were waiting. */
  @GuardedBy("dispatcher.lock")
  void expire(Request<O> request, int dropped, long now, Outbox out) {
    request.finished = true;
    DeadlineExceededException error = new DeadlineExceededException(String.format(
        "deadline exceeded after %.1f ms in queue '%s': %d of %d items dropped before running",
        (now - request.submittedNanos) / 1e6, name, dropped, request.size));
    out.tell(listener -> listener.onExpired(name, dropped));
    out.add(() -> request.future.completeExceptionally(error));
  }

  @GuardedBy("dispatcher.lock")
  boolean isDrained() {
    return drainedSignalled;
  }

  @GuardedBy("dispatcher.lock")
  private int dropWaiting(Request<O> request) {
    if (request.queued == 0) {
      return 0;
    }
    int dropped = 0;
    for (Bucket<I, O> bucket : buckets) {
      dropped += bucket.removeAll(request);
    }
    depth -= dropped;
    request.queued -= dropped;
    return dropped;
  }

  @GuardedBy("dispatcher.lock")
  private void signalIfDrained(Outbox out) {
    if (closed && depth == 0 && running == 0 && !drainedSignalled) {
      drainedSignalled = true;
      out.tell(listener -> listener.onDrained(name));
      out.add(() -> drained.complete(null));
    }
  }
}
