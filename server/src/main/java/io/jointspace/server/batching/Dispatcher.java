package io.jointspace.server.batching;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import javax.annotation.Nullable;
import javax.annotation.concurrent.GuardedBy;

/**
 * Decides which queue's batch runs next, round-robin over the queues of one
 * {@link BatchScheduler}, and runs it on the calling thread: a batch thread's loop in
 * {@link #work()}, or a test's {@link #runOne()}.
 *
 * <p>{@link #lock} is the one lock of a scheduler: it guards the queue list here and the state
 * of every {@link QueueState} and {@link Request}. It is held only for bookkeeping, never while a
 * processor, a listener or a future's dependents run. {@link #wakeOne()} is signalled whenever
 * something may have become ready (items queued, a batch finished): the batch threads are
 * alike, so one is enough, and a thread that takes a batch while another is due wakes the next
 * one; {@link #wakeAll()} when a queue or the scheduler closes. Idle threads park without a
 * timeout unless a queue has items whose delay runs out, so waiting costs no CPU.
 */
final class Dispatcher {
  /**
   * The shortest timed wait: a batch due sooner waits this long rather than spinning through
   * waits of a few nanoseconds (the kernel's timer slack is about as long anyway).
   */
  static final long MIN_WAIT_NANOS = TimeUnit.MICROSECONDS.toNanos(50);
  final ReentrantLock lock = new ReentrantLock();
  final Ticker ticker;
  final BatchListener listener;
  /** Batch threads serving the queues (1 for a manual scheduler): how many batches can run at once. */
  final int threads;
  private final Condition changed = lock.newCondition();

  @GuardedBy("lock")
  private final List<QueueState<?, ?>> queues = new ArrayList<>();
  /** The index in {@link #queues} to look at first. */
  @GuardedBy("lock")
  private int cursor;
  @GuardedBy("lock")
  private boolean closed;

  Dispatcher(Ticker ticker, BatchListener listener, int threads) {
    this.ticker = ticker;
    this.listener = listener;
    this.threads = threads;
  }

  void register(QueueState<?, ?> queue) {
    lock.lock();
    try {
      if (closed) {
        throw new IllegalStateException("batch scheduler is closed; cannot add queue '"
            + queue.name + "'");
      }
      queues.add(queue);
    } finally {
      lock.unlock();
    }
  }

  @GuardedBy("lock")
  void wakeAll() {
    changed.signalAll();
  }

  @GuardedBy("lock")
  void wakeOne() {
    changed.signal();
  }

  /** Runs one batch that is due now on the calling thread; false when none is due. */
  boolean runOne() {
    ScheduledBatch<?, ?> batch;
    Outbox out = new Outbox(listener);
    lock.lock();
    try {
      batch = next(ticker.nanoTime(), out);
    } finally {
      lock.unlock();
    }
    out.flush();
    if (batch == null) {
      return false;
    }
    batch.run();
    return true;
  }

  /** A batch thread's loop: waits for a due batch, runs it, until the scheduler closes. */
  void work() {
    while (true) {
      ScheduledBatch<?, ?> batch = null;
      Outbox out = new Outbox(listener);
      lock.lock();
      try {
        while (!closed) {
          long now = ticker.nanoTime();
          batch = next(now, out);
          if (batch != null) {
            if (nanosUntilReady(now) <= MIN_WAIT_NANOS) {
              changed.signal(); // more is due: another thread takes it
            }
            break;
          }
          long wait = nanosUntilReady(now);
          if (wait == Long.MAX_VALUE) {
            changed.await();
          } else {
            changed.awaitNanos(wait);
          }
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return; // only close() may stop a batch thread; an interrupt ends it as well
      } finally {
        lock.unlock();
        out.flush();
      }
      if (batch == null) {
        return;
      }
      batch.run();
    }
  }

  /** Fails every waiting item, refuses new work and wakes the batch threads so they end. */
  void close() {
    Outbox out = new Outbox(listener);
    lock.lock();
    try {
      closed = true;
      for (QueueState<?, ?> queue : queues) {
        queue.abort(out);
      }
      changed.signalAll();
    } finally {
      lock.unlock();
    }
    out.flush();
  }

  /** The next due batch, looking at the queues round-robin from {@link #cursor}. */
  @GuardedBy("lock")
  @Nullable
  private ScheduledBatch<?, ?> next(long now, Outbox out) {
    queues.removeIf(QueueState::isDrained);
    int n = queues.size();
    for (int k = 0; k < n; k++) {
      int i = (cursor + k) % n;
      ScheduledBatch<?, ?> batch = queues.get(i).takeReady(now, out);
      if (batch != null) {
        cursor = (i + 1) % n;
        return batch;
      }
    }
    return null;
  }

  /** Nanoseconds until some queue has a batch due (at least {@link #MIN_WAIT_NANOS}), or Long.MAX_VALUE. */
  @GuardedBy("lock")
  private long nanosUntilReady(long now) {
    long soonest = Long.MAX_VALUE;
    for (QueueState<?, ?> queue : queues) {
      soonest = Math.min(soonest, queue.nanosUntilReady(now));
    }
    return soonest == Long.MAX_VALUE ? soonest : Math.max(soonest, MIN_WAIT_NANOS);
  }
}
