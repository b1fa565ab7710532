package io.jointspace.server.batching;

import java.util.ArrayDeque;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * The waiting items of one length bucket of a {@link BatchQueue}, oldest first. A batch is
 * always cut from a single bucket. Not thread-safe: used only under the dispatcher's lock.
 */
final class Bucket<I, O> {
  /** The upper bound of the lengths in this bucket; 0 when the queue has no length buckets. */
  final int lengthBound;
  private final ArrayDeque<QueuedItem<I, O>> items = new ArrayDeque<>();

  Bucket(int lengthBound) {
    this.lengthBound = lengthBound;
  }

  void add(QueuedItem<I, O> item) {
    items.addLast(item);
  }

  QueuedItem<I, O> poll() {
    return items.pollFirst();
  }

  int size() {
    return items.size();
  }

  boolean isEmpty() {
    return items.isEmpty();
  }

  /** When the oldest item was queued; only for a non-empty bucket. */
  long oldestEnqueuedNanos() {
    return items.getFirst().enqueuedNanos();
  }

  /** Removes every waiting item of {@code request}; returns how many there were. */
  int removeAll(Request<O> request) {
    int before = items.size();
    items.removeIf(item -> item.request() == request);
    return before - items.size();
  }

  /** The distinct requests that have items waiting here, in queue order. */
  Set<Request<O>> requests() {
    Set<Request<O>> requests = new LinkedHashSet<>();
    for (QueuedItem<I, O> item : items) {
      requests.add(item.request());
    }
    return requests;
  }
}
