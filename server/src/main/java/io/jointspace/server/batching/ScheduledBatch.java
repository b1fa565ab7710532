package io.jointspace.server.batching;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import javax.annotation.Nullable;

/**
 * A batch cut from a queue and counted as running there. {@link #run()} must be called exactly
 * once, without holding the dispatcher's lock: it calls the processor on the calling thread and
 * then records the outcome.
 */
final class ScheduledBatch<I, O> {
  final QueueState<I, O> queue;
  final List<QueuedItem<I, O>> items;
  final int lengthBound;
  /** How long the oldest item waited before the batch was cut. */
  final long queueNanos;

  ScheduledBatch(QueueState<I, O> queue, List<QueuedItem<I, O>> items, int lengthBound,
      long queueNanos) {
    this.queue = queue;
    this.items = items;
    this.lengthBound = lengthBound;
    this.queueNanos = queueNanos;
  }

  void run() {
    List<I> values = new ArrayList<>(items.size());
    long length = 0;
    for (QueuedItem<I, O> item : items) {
      values.add(item.value());
      length += item.length();
    }
    double padding = lengthBound == 0 ? 0 : 1 - (double) length / ((long) lengthBound * items.size());
    Batch<I> batch = new Batch<>(queue.name, values, lengthBound);
    Dispatcher dispatcher = queue.dispatcher;
    List<O> outputs = null;
    Throwable failure = null;
    long start = dispatcher.ticker.nanoTime();
    try {
      outputs = queue.processor.process(batch);
      failure = checkSize(outputs, batch.size());
    } catch (Throwable t) { // whatever the processor throws belongs to the batch's requests
      failure = t;
    }
    Duration compute = Duration.ofNanos(dispatcher.ticker.nanoTime() - start);
    Duration queued = Duration.ofNanos(queueNanos);
    Outbox out = new Outbox(dispatcher.listener);
    out.tell(l -> l.onBatch(queue.name, batch.size(), lengthBound, padding, queued, compute));
    dispatcher.lock.lock();
    try {
      queue.finish(this, outputs, failure, compute.toNanos(), out);
      if (queue.depth > 0 || queue.closed) {
        dispatcher.wakeOne(); // a slot is free: one thread may cut what waited for it
      }
    } finally {
      dispatcher.lock.unlock();
    }
    out.flush();
  }

  @Nullable
  private IllegalStateException checkSize(@Nullable List<O> outputs, int size) {
    if (outputs != null && outputs.size() == size) {
      return null;
    }
    return new IllegalStateException("processor of queue '" + queue.name + "' returned "
        + (outputs == null ? "null" : outputs.size() + " outputs") + " for a batch of " + size
        + " items");
  }
}
