package io.jointspace.server.batching;

import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.function.ToIntFunction;
import javax.annotation.Nullable;
import javax.annotation.concurrent.GuardedBy;

/**
 * A queue of items for one processor (in the server: one model version and signature), served
 * by the threads of the {@link BatchScheduler} that made it. Items are batched, not requests: a
 * request of 40 items contributes 40 items, which may share batches with other requests' items
 * and, beyond {@link BatchingOptions#maxBatchSize()}, be split over several batches; the
 * request's future gets the outputs in the order of its items. When a batch is cut is set out
 * in {@link BatchingOptions}.
 *
 * <p><b>Threads.</b> Every method may be called from any thread. {@link #submit} never blocks:
 * when the queue is full it throws {@link QueueFullException} at once. Futures are completed
 * on a batch thread (or on the thread that cancels, or that steps a manual scheduler), so
 * callers should move heavy follow-up work elsewhere with the {@code ...Async} stages.
 *
 * <p><b>Dropping.</b> Cancelling a returned future drops its items that have not yet run and
 * frees their places at once (counted by {@link BatchListener#onCancelled}); so does failing
 * it with a {@link DeadlineExceededException} (counted by {@link BatchListener#onExpired}),
 * which is how a caller whose deadline passes ends its wait early. An item whose request's deadline has passed when its batch is
 * cut is dropped, and the request fails with {@link DeadlineExceededException}. When a batch
 * fails, every request with an item in it fails with the processor's exception and its other
 * waiting items are dropped; the other requests are unaffected.
 *
 * <p><b>Ownership.</b> The queue holds submitted items until they have run or been dropped and
 * hands them to the processor as they are; callers must not change them meanwhile. Whoever
 * made the queue owns it: {@link #close()} it, and wait for {@link #drained()} before releasing
 * what the processor uses (the model's session).
 *
 * @param <I> the item type
 * @param <O> the output type, one per item
 */
public final class BatchQueue<I, O> implements AutoCloseable {
  private final QueueState<I, O> state;
  private final Dispatcher dispatcher;
  @Nullable private final ToIntFunction<? super I> lengthOf;

  BatchQueue(QueueState<I, O> state, @Nullable ToIntFunction<? super I> lengthOf) {
    if (!state.options.lengthBuckets().isEmpty() && lengthOf == null) {
      throw new IllegalArgumentException("queue '" + state.name
          + "' has lengthBuckets, so newQueue needs a length function");
    }
    this.state = state;
    this.dispatcher = state.dispatcher;
    this.lengthOf = lengthOf;
  }

  public String name() {
    return state.name;
  }

  public BatchingOptions options() {
    return state.options;
  }

  /** Submits {@code items} without a deadline; see {@link #submit(List, Duration)}. */
  public CompletableFuture<List<O>> submit(List<? extends I> items) {
    return submit(items, null);
  }

  /**
   * Queues every item of {@code items}. The future completes with one output per item, in
   * order, once all of them have run; an empty list completes at once.
   *
   * @param timeout how long from now the request may take; items still waiting when it has
   *     passed are dropped and the future fails with {@link DeadlineExceededException}. Null:
   *     no deadline
   * @throws QueueFullException when the items do not all fit within
   *     {@link BatchingOptions#maxQueuedItems()}, or more than
   *     {@link BatchingOptions#maxItemsAhead()} items wait already; nothing is queued
   * @throws QueueClosedException when the queue or its scheduler was closed
   * @throws IllegalArgumentException when an item's length lies outside the length buckets
   */
  public CompletableFuture<List<O>> submit(List<? extends I> items, @Nullable Duration timeout) {
    return submit(items, timeout, null);
  }

  /**
   * As {@link #submit(List, Duration)}, with room reserved for the items beforehand: when
   * {@code reservation} is open, it is used up and the items are admitted without another
   * check (they were when it was made); when it is null or already used, they are checked as
   * usual.
   *
   * @throws IllegalArgumentException when {@code reservation} is another queue's
   */
  public CompletableFuture<List<O>> submit(List<? extends I> items, @Nullable Duration timeout,
      @Nullable Reservation reservation) {
    Objects.requireNonNull(items, "items");
    if (reservation != null && !reservation.isFor(this)) {
      throw new IllegalArgumentException("reservation is for another queue than '" + state.name + "'");
    }
    int n = items.size();
    int[] bucketOf = new int[n];
    int[] lengths = new int[n];
    for (int i = 0; i < n; i++) {
      lengths[i] = lengthOf(items.get(i), i);
      bucketOf[i] = bucketOf(lengths[i], i);
    }
    long now = dispatcher.ticker.nanoTime();
    Request<O> request = new Request<>(n, now, timeout);
    if (n == 0) {
      request.future.complete(List.of());
      return request.future;
    }
    Outbox out = new Outbox(dispatcher.listener);
    int fullAt = -1;
    QueueFullException refused = null;
    dispatcher.lock.lock();
    try {
      boolean admitted = reservation != null && takeLocked(reservation);
      if (admitted && state.options.waitOnlyForAdmitted()) {
        dispatcher.wakeOne(); // what waits may be all that is coming now, whatever becomes of this request
      }
      if (state.closed) {
        throw new QueueClosedException("queue '" + state.name + "' is closed to new work");
      }
      if (request.expiredAt(now)) {
        state.expire(request, n, now, out);
      } else if (!admitted && (refused = refusal(state.depth + state.reserved, n, timeout)) != null) {
        fullAt = state.depth + state.reserved;
      } else {
        state.enqueue(request, items, bucketOf, lengths, now);
        dispatcher.wakeOne();
      }
    } finally {
      dispatcher.lock.unlock();
    }
    if (fullAt >= 0) {
      int depth = fullAt;
      out.tell(listener -> listener.onRejected(state.name, n, depth));
      out.flush();
      throw refused;
    }
    out.flush();
    request.future.whenComplete((result, error) -> completedByCaller(request, error));
    return request.future;
  }

  /**
   * As {@link #submit(List, Duration, Reservation)}, but when nothing is worth waiting for, runs
   * the items at once on the calling thread, as one batch, and returns the completed future:
   * when the queue {@linkplain BatchingOptions#waitOnlyForAdmitted waits only for admitted
   * items}, no item waits, the room reserved for items still being prepared is too little to
   * be worth waiting for ({@link BatchingOptions#companyWorthWaitingFor}), fewer than
   * {@link BatchingOptions#maxConcurrentBatches()} of its batches run (or its batches take less
   * than a hand-over would cost: {@link QueueState#runsCheaperThanHandOff}), and the items fit in
   * one batch. A lone caller then pays no hand-over to a batch thread and no wait; items queue
   * (and batch) only while the queue's batches all run and take longer than a hand-over. For
   * callers that would block on the future anyway (it may complete before this returns, on this
   * thread).
   */
  public CompletableFuture<List<O>> run(List<? extends I> items, @Nullable Duration timeout,
      @Nullable Reservation reservation) {
    Objects.requireNonNull(items, "items");
    int n = items.size();
    if (n == 0 || n > state.options.maxBatchSize() || !state.options.waitOnlyForAdmitted()
        || (reservation != null && !reservation.isFor(this)) || !state.options.lengthBuckets().isEmpty()) {
      return submit(items, timeout, reservation);
    }
    ScheduledBatch<I, O> batch;
    Request<O> request;
    dispatcher.lock.lock();
    try {
      long now = dispatcher.ticker.nanoTime();
      if (state.closed || state.depth > 0
          || state.options.waitsFor(n, state.reserved - (reservation != null && reservation.held ? reservation.items : 0))
          || (state.running >= state.options.maxConcurrentBatches() && !state.runsCheaperThanHandOff())) {
        batch = null;
        request = null;
      } else {
        request = new Request<>(n, now, timeout);
        if (request.expiredAt(now)) {
          batch = null; // submit fails it as expired
        } else {
          if (reservation != null) {
            takeLocked(reservation);
          }
          batch = state.runNow(request, items, now);
        }
      }
    } finally {
      dispatcher.lock.unlock();
    }
    if (batch == null) {
      return submit(items, timeout, reservation);
    }
    batch.run();
    return request.future;
  }

  /**
   * Admits {@code items} items now, as {@link #submit} would, and holds their room until they
   * are submitted with the returned reservation or it is closed. Meanwhile the room counts as
   * waiting items for every later admission. This lets a caller refuse a request before it
   * spends work (decoding, tokenizing) on its items, and keeps that work bounded.
   *
   * @throws QueueFullException as {@link #submit} would (counted as rejected); nothing is held
   * @throws QueueClosedException when the queue or its scheduler was closed
   */
  public Reservation reserve(int items) {
    return reserve(items, null);
  }

  /**
   * As {@link #reserve(int)}, for a request that must be answered within {@code timeout}:
   * refused also when the work waiting ahead would outlast it.
   */
  public Reservation reserve(int items, @Nullable Duration timeout) {
    if (items < 0) {
      throw new IllegalArgumentException("items must not be negative, got " + items);
    }
    int depth;
    QueueFullException refused;
    dispatcher.lock.lock();
    try {
      if (state.closed) {
        throw new QueueClosedException("queue '" + state.name + "' is closed to new work");
      }
      depth = state.depth + state.reserved;
      refused = refusal(depth, items, timeout);
      if (refused == null) {
        state.reserved += items;
        return new Reservation(this, items);
      }
    } finally {
      dispatcher.lock.unlock();
    }
    int ahead = depth;
    Outbox out = new Outbox(dispatcher.listener);
    out.tell(listener -> listener.onRejected(state.name, items, ahead));
    out.flush();
    throw refused;
  }

  /** Gives back the room of {@code reservation} unless it was used. */
  void release(Reservation reservation) {
    dispatcher.lock.lock();
    try {
      if (takeLocked(reservation) && state.options.waitOnlyForAdmitted()) {
        dispatcher.wakeOne(); // what waits may be all that is coming now
      }
    } finally {
      dispatcher.lock.unlock();
    }
  }

  /** Ends {@code reservation}'s hold; true when it was still held. */
  @GuardedBy("dispatcher.lock")
  private boolean takeLocked(Reservation reservation) {
    if (!reservation.held) {
      return false;
    }
    reservation.held = false;
    state.reserved -= reservation.items;
    return true;
  }

  /**
   * Why a request of {@code items} items with {@code depth} waiting ahead of it is refused, or
   * null when it is admitted: it would pass {@link BatchingOptions#maxQueuedItems()} (what
   * bounds the memory waiting items hold), more than {@link BatchingOptions#maxItemsAhead()}
   * wait, or the work ahead of it would outlast {@code timeout}, as the queue's recent batch
   * times estimate it. An empty queue refuses nobody by time: the request's own deadline
   * ends its wait if it must.
   */
  @GuardedBy("dispatcher.lock")
  @Nullable
  private QueueFullException refusal(int depth, int items, @Nullable Duration timeout) {
    if (depth + items > state.options.maxQueuedItems()) {
      return new QueueFullException(state.name, depth, state.options.maxQueuedItems(), items);
    }
    if (depth > state.options.maxItemsAhead()) {
      return QueueFullException.backlog(state.name, depth, state.options.maxItemsAhead(), items);
    }
    if (timeout != null && depth > 0) {
      long wait = state.estimatedWaitNanos(depth, items);
      long remaining = Request.saturatedNanos(timeout);
      if (wait > remaining) {
        return QueueFullException.deadline(state.name, depth, wait, remaining, items);
      }
    }
    return null;
  }

  /** Room held by open reservations, in items. */
  public int reserved() {
    dispatcher.lock.lock();
    try {
      return state.reserved;
    } finally {
      dispatcher.lock.unlock();
    }
  }

  /** Items waiting (queued, not yet running). */
  public int depth() {
    dispatcher.lock.lock();
    try {
      return state.depth;
    } finally {
      dispatcher.lock.unlock();
    }
  }

  /** Batches of this queue running now. */
  public int runningBatches() {
    dispatcher.lock.lock();
    try {
      return state.running;
    } finally {
      dispatcher.lock.unlock();
    }
  }

  /**
   * Refuses new work from now on ({@link QueueClosedException}); the items already queued still
   * run, without waiting for {@link BatchingOptions#maxQueueDelay()}. Returns at once: wait on
   * {@link #drained()} for them. Idempotent.
   */
  @Override
  public void close() {
    Outbox out = new Outbox(dispatcher.listener);
    dispatcher.lock.lock();
    try {
      state.close(out);
      dispatcher.wakeAll();
    } finally {
      dispatcher.lock.unlock();
    }
    out.flush();
  }

  /**
   * Completes once the queue is closed, no item waits and no batch of it runs (also when the
   * scheduler's close dropped the waiting items). Cancelling the returned copy has no effect.
   */
  public CompletableFuture<Void> drained() {
    return state.drained.copy();
  }

  @Override
  public String toString() {
    return "BatchQueue[" + state.name + "]";
  }

  /** The item's length, or 0 when the queue has no length buckets. */
  private int lengthOf(I item, int index) {
    Objects.requireNonNull(item, () -> "items[" + index + "] is null");
    return state.options.lengthBuckets().isEmpty() ? 0 : lengthOf.applyAsInt(item);
  }

  private int bucketOf(int length, int index) {
    List<Integer> bounds = state.options.lengthBuckets();
    if (bounds.isEmpty()) {
      return 0;
    }
    int bucket = length < 0 ? -1 : state.options.bucketOf(length);
    if (bucket < 0) {
      throw new IllegalArgumentException("items[" + index + "] has length " + length
          + ", outside the length buckets of queue '" + state.name + "' (0.."
          + bounds.get(bounds.size() - 1) + ")");
    }
    return bucket;
  }

  private void completedByCaller(Request<O> request, @Nullable Throwable error) {
    Outbox out = new Outbox(dispatcher.listener);
    dispatcher.lock.lock();
    try {
      state.completedByCaller(request, error, out);
    } finally {
      dispatcher.lock.unlock();
    }
    out.flush();
  }
}
