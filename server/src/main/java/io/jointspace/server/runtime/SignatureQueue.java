package io.jointspace.server.runtime;

import io.jointspace.server.batching.Batch;
import io.jointspace.server.batching.BatchQueue;
import io.jointspace.server.batching.BatchScheduler;
import io.jointspace.server.batching.BatchingOptions;
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
 * that fetch other outputs: it runs one session call per group of rows alike, and a failing
 * group fails only its own calls. Thread-safe; owned by its {@link SavedModel}.
 */
final class SignatureQueue implements AutoCloseable {
  /**
   * One batch row: one row of every input, and the outputs its call fetches; for a text
   * queue, {@code length} is its length bucket's key: the number of real tokens of a
   * tokenized text ({@code tokens}: its sequences hold those tokens first, then padding, and
   * may be cut to its bucket), else the length fed, which is never cut.
   */
  record Row(Map<String, TensorData> inputs, List<String> fetch, int length, boolean tokens) {
    Row(Map<String, TensorData> inputs, List<String> fetch) {
      this(inputs, fetch, 0, false);
    }
  }

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
   * Whether calls of {@code sig} can be cut into rows: every input and output has a known rank
   * of at least 1 and -1 as its first dimension.
   */
  static boolean batchable(SignatureInfo sig) {
    if (sig.inputs().isEmpty() || sig.outputs().isEmpty()) {
      return false;
    }
    for (TensorSpec t : sig.inputs().values()) {
      if (!strictlyBatched(t)) {
        return false;
      }
    }
    for (TensorSpec t : sig.outputs().values()) {
      if (!strictlyBatched(t)) {
        return false;
      }
    }
    return true;
  }

  private static boolean strictlyBatched(TensorSpec t) {
    return t.rankKnown() && t.shape().length > 0 && t.shape()[0] == -1;
  }

  BatchQueue<Row, RowResult> queue() {
    return queue;
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
      items.add(new Row(row, fetch, fedLength(row), false));
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
   * groups.
   */
  CompletableFuture<List<List<TensorData>>> submitRows(List<Row> rows, CallScope scope,
      @Nullable io.jointspace.server.batching.Reservation room) {
    CompletableFuture<List<RowResult>> queued = scope.watch(queue.submit(rows, scope.remaining(), room));
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
        if (!done[i] && alike(items.get(first), items.get(i))) {
          group.add(i);
          done[i] = true;
        }
      }
      runGroup(items, group, results);
    }
    return Arrays.asList(results);
  }

  private void runGroup(List<Row> items, List<Integer> group, RowResult[] results) {
    Row first = items.get(group.get(0));
    try {
      Map<String, TensorData> stacked = new LinkedHashMap<>();
      for (String key : first.inputs().keySet()) {
        List<TensorData> column = new ArrayList<>(group.size());
        for (int i : group) {
          column.add(items.get(i).inputs().get(key));
        }
        stacked.put(key, TensorData.stack(column));
      }
      Map<String, TensorData> out = model.run(sig, stacked, first.fetch());
      List<List<TensorData>> perRow = new ArrayList<>(group.size());
      for (int g = 0; g < group.size(); g++) {
        perRow.add(new ArrayList<>(first.fetch().size()));
      }
      for (String key : first.fetch()) {
        TensorData t = out.get(key);
        if (t.rank() == 0 || t.dim(0) != group.size()) {
          throw new InvalidInputException("output '" + key + "' of signature '" + sig.name() + "' has shape "
              + Arrays.toString(t.shape()) + ", not one row per input row (" + group.size() + ")");
        }
        for (int g = 0; g < group.size(); g++) {
          perRow.get(g).add(t.row(g));
        }
      }
      for (int g = 0; g < group.size(); g++) {
        results[group.get(g)] = new RowResult(perRow.get(g), null);
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

  private static boolean alike(Row a, Row b) {
    if (a == b) {
      return true;
    }
    if (!a.fetch().equals(b.fetch()) || !a.inputs().keySet().equals(b.inputs().keySet())) {
      return false;
    }
    for (Map.Entry<String, TensorData> e : a.inputs().entrySet()) {
      if (!e.getValue().sameTypeAndShape(b.inputs().get(e.getKey()))) {
        return false;
      }
    }
    return true;
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
