package io.jointspace.server.batching;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Work decided under the dispatcher's lock but done after it is released: completing futures
 * (which runs the callers' dependent stages) and calling the {@link BatchListener}. Confined to
 * one thread; {@link #flush()} must be called without holding the lock.
 */
final class Outbox {
  private static final System.Logger LOG = System.getLogger(Outbox.class.getName());

  private final BatchListener listener;
  private final List<Runnable> actions = new ArrayList<>();

  Outbox(BatchListener listener) {
    this.listener = listener;
  }

  void add(Runnable action) {
    actions.add(action);
  }

  void tell(Consumer<BatchListener> call) {
    actions.add(() -> call.accept(listener));
  }

  /** Runs every action in order; one that throws is logged and does not stop the others. */
  void flush() {
    for (Runnable action : actions) {
      try {
        action.run();
      } catch (RuntimeException e) {
        LOG.log(System.Logger.Level.WARNING, "batching callback failed; ignored", e);
      }
    }
    actions.clear();
  }
}
