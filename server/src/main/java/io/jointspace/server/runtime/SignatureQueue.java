package io.jointspace.server.runtime;

import io.jointspace.server.batching.Batch;
import io.jointspace.server.batching.BatchQueue;
import io.jointspace.server.batching.BatchScheduler;
import io.jointspace.server.batching.BatchingOptions;
import io.jointspace.server.batching.QueueFullException;
import io.jointspace.server.batching.Reservation;
import io.jointspace.server.errors.OverloadedException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import javax.annotation.Nullable;

/**
 * The batch queue of one signature of one loaded version: a call's inputs are cut into rows
 * along their first (batch) dimension, the rows of concurrent calls run together, and each
 * call gets its own rows of every output back, stacked in order. Used for signatures whose
 * inputs and outputs all have the batch as their first dimension, and for the encoder's
 * signatures.
 *
 * <p>A batch may hold rows of different shapes (e.g. calls with images of other sizes) or
 * that fetch other outputs: it runs one session call per group of rows alike
 * ({@link SavedModel#runRows}), and a failing group fails only its own calls. A full queue
 * refuses a request with {@link OverloadedException}. Thread-safe; owned by {@link Signatures}.
 */
final class SignatureQueue implements AutoCloseable {
  /** A row's outputs in fetch order, or why its group failed. */
  record RowResult(@Nullable List<TensorData> outputs, @Nullable RuntimeException error) {}

  private final SavedModel model;
  private final SignatureInfo sig;
  private final BatchQueue<Row, RowResult> queue;
  /** Inputs that hold token sequences, cut to a batch's length bucket; empty for other queues. */
  private final Set<String> sequences;

  /** A queue without length buckets (any in {@code options} are dropped). */
  SignatureQueue(SavedModel model, SignatureInfo sig, BatchScheduler scheduler, BatchingOptions options,
      String name) {
    this(model, sig, scheduler, options.withLengthBuckets(), name, Set.of());
  }

  /**
   * A text queue: rows go to {@code options}' length buckets by {@link Row#length()}, and the
   * {@code sequences} inputs of a batch are cut to its bucket's bound before it runs (they hold
   * the real tokens first, then padding).
   */
  SignatureQueue(SavedModel model, SignatureInfo sig, BatchScheduler scheduler, BatchingOptions options,
      String name, Set<String> sequences) {
    this.model = model;
    this.sig = sig;
    this.sequences = Set.copyOf(sequences);
    this.queue = sequences.isEmpty()
        ? scheduler.newQueue(name, options, this::process)
        : scheduler.newQueue(name, options, Row::length, this::process);
  }

  /**
   * Holds room for {@code rows} rows being prepared (see {@link Reservation}).
   *
   * @throws OverloadedException when the queue has no room
   */
  Reservation reserve(int rows, @Nullable java.time.Duration timeout) {
    try {
      return queue.reserve(rows, timeout);
    } catch (QueueFullException e) {
      throw overloaded(e);
    }
  }

  /**
   * The most rows one call should submit at a time: a quarter of the queue's backlog limit (at
   * least one batch), so that a call with more rows than that (Classify's label texts) takes
   * its turns instead of being refused by an otherwise idle queue.
   */
  int rowsPerSubmission() {
    var options = queue.options();
    return Math.max(1, Math.min(options.maxQueuedItems(), Math.max(options.maxBatchSize(), options.maxQueuedItems() / 4)));
  }

  /** The queue's refusal as the runtime reports overload. */
  static OverloadedException overloaded(QueueFullException e) {
    return new OverloadedException(e.getMessage(), e.queueName(), e.depth(), e.capacity(), e.requested(), e);
  }

  /** Waits until the rows queued before {@link #close()} have run. */
  CompletableFuture<Void> drained() {
    return queue.drained();
  }

  /**
   * The number of rows of {@code inputs}, or -1 when they cannot be cut into rows (a scalar,
   * inputs that disagree on the first dimension, or none at all).
   */
  static int rowCount(Map<String, TensorData> inputs) {
    int rows = -1;
    for (TensorData t : inputs.values()) {
      if (t.rank() == 0) {
        return -1;
      }
      long n = t.dim(0);
      if (rows >= 0 && n != rows) {
        return -1;
      }
      rows = (int) n;
    }
    return rows;
  }

  /**
   * Queues the rows of {@code inputs} (already checked against the signature, {@code rows}
   * rows each) and returns the outputs of {@code fetch}, stacked, once every row has run.
   */
  CompletableFuture<Map<String, TensorData>> submit(Map<String, TensorData> inputs, int rows,
      List<String> fetch, CallScope scope) {
    List<Row> items = new ArrayList<>(rows);
    for (int r = 0; r < rows; r++) {
      Map<String, TensorData> row = new LinkedHashMap<>();
      for (Map.Entry<String, TensorData> e : inputs.entrySet()) {
        row.put(e.getKey(), e.getValue().row(r));
      }
      items.add(new Row(row, fetch));
    }
    return submitRows(items, scope, null).thenApply(results -> {
      Map<String, TensorData> out = new LinkedHashMap<>();
      for (int k = 0; k < fetch.size(); k++) {
        List<TensorData> column = new ArrayList<>(results.size());
        for (List<TensorData> r : results) {
          column.add(r.get(k));
        }
        out.put(fetch.get(k), TensorData.stack(column));
      }
      return out;
    });
  }

  /**
   * Queues ready-made rows, in the room {@code room} holds for them when not null; the future
   * gets each row's outputs in fetch order, or fails with the first failure among the rows'
   * groups. On a text queue, a row that is not a tokenized text (a call feeding the signature
   * directly) goes to the bucket of the length it feeds.
   */
  CompletableFuture<List<List<TensorData>>> submitRows(List<Row> rows, CallScope scope, @Nullable Reservation room) {
    CompletableFuture<List<RowResult>> queued;
    List<Row> keyed = sequences.isEmpty() ? rows
        : rows.stream().map(r -> r.tokens() ? r : new Row(r.inputs(), r.fetch(), fedLength(r.inputs()), false)).toList();
    try {
      queued = scope.watch(queue.run(keyed, scope.remaining(), room));
    } catch (QueueFullException e) {
      throw overloaded(e);
    }
    return queued.thenApply(results -> {
      List<List<TensorData>> out = new ArrayList<>(results.size());
      for (RowResult r : results) {
        if (r.error() != null) {
          throw new CompletionException(r.error());
        }
        out.add(r.outputs());
      }
      return out;
    });
  }

  /** How the queue cuts batches: its sizes and, for a text queue, its length buckets. */
  BatchingOptions options() {
    return queue.options();
  }

  /**
   * Runs {@code rows} (all alike) on the calling thread as a batch of length bucket
   * {@code bucket} would run on a batch thread (0: no bucket), bypassing the queue: for
   * warm-up, before the version takes calls.
   */
  List<List<TensorData>> runNow(List<Row> rows, int bucket) {
    List<Row> items = sequences.isEmpty() || bucket == 0 ? rows
        : rows.stream().map(r -> r.tokens() ? cut(r, bucket) : r).toList();
    return model.runRows(sig, items);
  }

  /** Runs a batch: one session call per group of rows with equal shapes and fetches. */
  private List<RowResult> process(Batch<Row> batch) {
    List<Row> items = sequences.isEmpty() || batch.lengthBucket() == 0 ? batch.items()
        : batch.items().stream().map(r -> r.tokens() ? cut(r, batch.lengthBucket()) : r).toList();
    RowResult[] results = new RowResult[items.size()];
    boolean[] done = new boolean[items.size()];
    for (int first = 0; first < items.size(); first++) {
      if (done[first]) {
        continue;
      }
      List<Integer> group = new ArrayList<>();
      for (int i = first; i < items.size(); i++) {
        if (!done[i] && items.get(first).alike(items.get(i))) {
          group.add(i);
          done[i] = true;
        }
      }
      runGroup(items, group, results);
    }
    return Arrays.asList(results);
  }

  private void runGroup(List<Row> items, List<Integer> group, RowResult[] results) {
    try {
      List<Row> rows = new ArrayList<>(group.size());
      for (int i : group) {
        rows.add(items.get(i));
      }
      List<List<TensorData>> out = model.runRows(sig, rows);
      for (int g = 0; g < group.size(); g++) {
        results[group.get(g)] = new RowResult(out.get(g), null);
      }
    } catch (RuntimeException e) {
      for (int i : group) {
        results[i] = new RowResult(null, e);
      }
    }
  }

  /**
   * The bucket key of a raw-tensor row of a text queue (a call that feeds the signature
   * directly): the longest sequence it feeds, or the last bucket when that is longer, so that
   * it is never cut; 0 for other queues.
   */
  private int fedLength(Map<String, TensorData> row) {
    List<Integer> buckets = queue.options().lengthBuckets();
    if (sequences.isEmpty() || buckets.isEmpty()) {
      return 0;
    }
    long fed = 0;
    for (String key : sequences) {
      TensorData t = row.get(key);
      if (t != null && t.rank() >= 1) {
        fed = Math.max(fed, t.dim(0));
      }
    }
    return (int) Math.min(fed, buckets.get(buckets.size() - 1));
  }

  /** {@code row} with its sequence inputs cut to their first {@code length} values. */
  private Row cut(Row row, int length) {
    Map<String, TensorData> inputs = new LinkedHashMap<>(row.inputs());
    for (String key : sequences) {
      TensorData t = inputs.get(key);
      if (t != null && t.rank() == 1 && t.dim(0) > length) {
        int width = t.bytes().length / (int) t.dim(0);
        inputs.put(key, TensorData.ofBytes(t.dtype(), new long[] {length}, Arrays.copyOf(t.bytes(), length * width)));
      }
    }
    return new Row(inputs, row.fetch(), row.length(), true);
  }

  /** Refuses new rows; the queued ones still run. */
  @Override
  public void close() {
    queue.close();
  }

  @Override
  public String toString() {
    return queue.toString();
  }
}
