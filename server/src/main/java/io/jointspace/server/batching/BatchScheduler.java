package io.jointspace.server.batching;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.ToIntFunction;
import javax.annotation.Nullable;

/**
 * Owns the batch threads shared by all of its {@link BatchQueue queues} (after TF Serving's
 * shared batch scheduler). A free thread looks at the queues round-robin, starting after the
 * queue it served last, and runs the first batch that is due, so one busy queue cannot starve
 * another; at most {@link BatchingOptions#maxConcurrentBatches()} batches of one queue run at
 * once.
 *
 * <p>Production code makes one with {@link #create(int)}, typically one per server, and makes a
 * queue per model version and signature. Tests use {@link #manual(Ticker)}: no threads, time
 * moved by hand, and every scheduling decision made on the thread that calls
 * {@link #runPending()} or {@link #step()}, so nothing sleeps.
 *
 * <p>All methods are thread-safe. The creator owns the scheduler and closes it last, after
 * the queues have drained.
 */
public final class BatchScheduler implements AutoCloseable {
  private final Dispatcher dispatcher;
  private final List<Thread> threads;

  private BatchScheduler(Dispatcher dispatcher, List<Thread> threads) {
    this.dispatcher = dispatcher;
    this.threads = threads;
  }

  /** A scheduler running {@code threads} daemon batch threads on the system clock. */
  public static BatchScheduler create(int threads) {
    return create(threads, BatchListener.NONE);
  }

  /** A scheduler running {@code threads} daemon batch threads, reporting to {@code listener}. */
  public static BatchScheduler create(int threads, BatchListener listener) {
    if (threads < 1) {
      throw new IllegalArgumentException("threads must be at least 1, got " + threads);
    }
    Dispatcher dispatcher = new Dispatcher(Ticker.system(), Objects.requireNonNull(listener), threads);
    List<Thread> started = new ArrayList<>(threads);
    for (int i = 1; i <= threads; i++) {
      Thread thread = new Thread(dispatcher::work, "batch-" + i);
      thread.setDaemon(true);
      started.add(thread);
    }
    started.forEach(Thread::start);
    return new BatchScheduler(dispatcher, List.copyOf(started));
  }

  /** A scheduler without threads: batches run only in {@link #runPending()} and {@link #step()}. */
  public static BatchScheduler manual(Ticker ticker) {
    return manual(ticker, BatchListener.NONE);
  }

  public static BatchScheduler manual(Ticker ticker, BatchListener listener) {
    return new BatchScheduler(new Dispatcher(Objects.requireNonNull(ticker, "ticker"),
        Objects.requireNonNull(listener, "listener"), 1), List.of());
  }

  /** A queue without length buckets. */
  public <I, O> BatchQueue<I, O> newQueue(String name, BatchingOptions options,
      BatchProcessor<I, O> processor) {
    return newQueue(name, options, null, processor);
  }

  /**
   * A queue served by this scheduler's threads.
   *
   * @param name names the queue in errors and metrics, e.g. {@code "clip@2/encode_text"}
   * @param lengthOf the length of an item (e.g. its token count), called on the submitting
   *     thread; required when {@code options} have length buckets, else may be null
   * @throws IllegalStateException when the scheduler is closed
   */
  public <I, O> BatchQueue<I, O> newQueue(String name, BatchingOptions options,
      @Nullable ToIntFunction<? super I> lengthOf, BatchProcessor<I, O> processor) {
    QueueState<I, O> state = new QueueState<>(Objects.requireNonNull(name, "name"),
        Objects.requireNonNull(options, "options"), Objects.requireNonNull(processor, "processor"),
        dispatcher);
    BatchQueue<I, O> queue = new BatchQueue<>(state, lengthOf);
    dispatcher.register(state);
    Outbox out = new Outbox(dispatcher.listener);
    out.tell(l -> l.onQueueOpened(name, queue::depth));
    out.flush();
    return queue;
  }

  /**
   * Runs, on the calling thread, every batch that is due at the ticker's current time, until
   * none is; returns how many ran. Only for schedulers made by {@link #manual(Ticker)}.
   */
  public int runPending() {
    int ran = 0;
    while (step()) {
      ran++;
    }
    return ran;
  }

  /**
   * Runs at most one due batch on the calling thread (the next queue in round-robin order);
   * returns whether one ran. May be called from inside a processor to act as a second batch
   * thread. Only for schedulers made by {@link #manual(Ticker)}.
   */
  public boolean step() {
    if (!threads.isEmpty()) {
      throw new IllegalStateException(
          "step() and runPending() are for manual schedulers; this one runs " + threads.size()
              + " batch threads");
    }
    return dispatcher.runOne();
  }

  /**
   * Closes every queue, fails the items still waiting with {@link QueueClosedException}, lets
   * running batches finish, and waits for the batch threads to end. Close the queues and wait
   * for them to drain first to let waiting work run. Idempotent.
   */
  @Override
  public void close() {
    dispatcher.close();
    boolean interrupted = false;
    for (Thread thread : threads) {
      while (thread != Thread.currentThread() && thread.isAlive()) {
        try {
          thread.join();
        } catch (InterruptedException e) {
          interrupted = true;
        }
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }
}
