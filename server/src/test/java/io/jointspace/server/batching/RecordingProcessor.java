package io.jointspace.server.batching;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Records every batch it is given and answers each item {@code s} with {@code s + "!"}; a batch
 * that holds an item starting with "bad" fails with an {@link IllegalStateException}. An
 * optional hook runs inside {@code process}, e.g. to step the scheduler re-entrantly.
 */
final class RecordingProcessor implements BatchProcessor<String, String> {
  final List<Batch<String>> batches = new CopyOnWriteArrayList<>();
  private final List<String> log;
  private volatile Runnable during = () -> {};

  RecordingProcessor() {
    this(new CopyOnWriteArrayList<>());
  }

  /** Also appends the queue name of every batch to {@code log}, shared between processors. */
  RecordingProcessor(List<String> log) {
    this.log = log;
  }

  void whileProcessing(Runnable hook) {
    this.during = hook;
  }

  @Override
  public List<String> process(Batch<String> batch) {
    batches.add(batch);
    log.add(batch.queueName());
    during.run();
    List<String> outputs = new ArrayList<>();
    for (String item : batch.items()) {
      if (item.startsWith("bad")) {
        throw new IllegalStateException("cannot encode " + item);
      }
      outputs.add(item + "!");
    }
    return outputs;
  }

  /** The items of every batch so far, batch by batch. */
  List<List<String>> itemsPerBatch() {
    List<List<String>> items = new ArrayList<>();
    for (Batch<String> batch : batches) {
      items.add(batch.items());
    }
    return items;
  }
}
