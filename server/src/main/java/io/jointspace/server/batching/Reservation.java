package io.jointspace.server.batching;

/**
 * Room held in a {@link BatchQueue} for items that are not ready yet (an image still being
 * decoded, a text being tokenized): from {@link BatchQueue#reserve} until the items are
 * submitted with it or it is closed, the room counts as waiting items when the queue admits
 * other requests, so a request admitted before its inputs are prepared cannot be overtaken by a
 * backlog that built up meanwhile, and the work in preparation is bounded along with the
 * queue. Submitting with it uses it up; closing it after that does nothing. Thread-safe.
 */
public final class Reservation implements AutoCloseable {
  private final BatchQueue<?, ?> queue;
  final int items;
  /** Guarded by the queue's dispatcher lock. */
  boolean held = true;

  Reservation(BatchQueue<?, ?> queue, int items) {
    this.queue = queue;
    this.items = items;
  }

  /** The number of items it holds room for. */
  public int items() {
    return items;
  }

  boolean isFor(BatchQueue<?, ?> q) {
    return queue == q;
  }

  /** Gives the room back unless it was used by a submit. */
  @Override
  public void close() {
    queue.release(this);
  }
}
