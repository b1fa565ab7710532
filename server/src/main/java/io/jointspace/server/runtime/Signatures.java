package io.jointspace.server.runtime;

import io.jointspace.server.batching.BatchScheduler;
import io.jointspace.server.batching.BatchingOptions;
import io.jointspace.server.batching.Reservation;
import io.jointspace.server.errors.InvalidInputException;
import io.jointspace.server.errors.OverloadedException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import javax.annotation.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How each signature of one loaded version runs: through its batch queue when it has one
 * (the rows of concurrent calls run together; the outputs are the same as a direct run's),
 * else directly on the session. The queues are made once, at load: the encoder's text queue
 * (bucketed by length) and image queue first, then one per {@link #batchable} signature.
 * Thread-safe. Owned by its {@link ModelVersion}: {@link #close()} closes the queues and waits
 * for what they hold to run, before the session closes.
 */
final class Signatures implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Signatures.class);
  /** How long {@link #close()} waits for the queued rows to run. */
  static final long DRAIN_TIMEOUT_SECONDS = 30;

  /** Where and how a version's queues batch; {@code name} is the version, e.g. "clip@2". */
  record Batching(BatchScheduler scheduler, BatchingOptions options, String name) {}

  private final SavedModel model;
  /** Batch queues by signature name; fixed at construction. */
  private final Map<String, SignatureQueue> queues;

  /**
   * @param batching null: every signature runs directly
   * @param encoder the version's encoder, whose signatures get queues of their own kind
   */
  Signatures(SavedModel model, @Nullable Batching batching, @Nullable Encoder encoder) {
    this.model = model;
    Map<String, SignatureQueue> made = new LinkedHashMap<>();
    if (batching != null) {
      try {
        if (encoder != null && encoder.encodesText()) {
          made.put(encoder.textSignature().name(), textQueue(model, batching, encoder));
        }
        if (encoder != null && encoder.encodesImages() && !made.containsKey(encoder.imageSignature().name())) {
          SignatureInfo sig = encoder.imageSignature();
          // callers reserve room before they decode; the queue waits only while some is reserved
          made.put(sig.name(), new SignatureQueue(model, sig, batching.scheduler(), batching.options(),
              queueName(batching, sig)));
        }
        for (SignatureInfo sig : model.signatures().values()) {
          if (!made.containsKey(sig.name()) && batchable(sig)) {
            // nothing to prepare, so nothing is ever reserved: a call runs at once while a batch slot is
            // free, and calls batch only while every slot is busy, never waiting for company
            made.put(sig.name(), new SignatureQueue(model, sig, batching.scheduler(), batching.options(),
                queueName(batching, sig)));
          }
        }
      } catch (RuntimeException e) {
        made.values().forEach(SignatureQueue::close);
        throw e;
      }
    }
    this.queues = Collections.unmodifiableMap(made);
  }

  private static String queueName(Batching batching, SignatureInfo sig) {
    return batching.name() + "/" + sig.name();
  }

  /**
   * The text queue: texts are bucketed by their token count. When the signature's sequence
   * dimension is -1, the buckets are the configured {@code length_buckets} below the context
   * length and the context length itself, and each batch's sequence inputs are cut to its
   * bucket; else the one bucket is the context length, the length the signature fixes. Either
   * way, the padding of each batch is measured.
   */
  private static SignatureQueue textQueue(SavedModel model, Batching batching, Encoder encoder) {
    SignatureInfo sig = encoder.textSignature();
    int contextLength = encoder.contextLength();
    List<Integer> configured = batching.options().lengthBuckets();
    List<Integer> buckets = new ArrayList<>();
    if (encoder.dynamicLength()) {
      configured.stream().filter(b -> b < contextLength).forEach(buckets::add);
    } else if (!configured.isEmpty()) {
      log.warn("{}: length_buckets {} unused: the signature fixes the sequence length at {}",
          queueName(batching, sig), configured, contextLength);
    }
    buckets.add(contextLength);
    BatchingOptions options = batching.options().withLengthBuckets(buckets.toArray(Integer[]::new));
    return new SignatureQueue(model, sig, batching.scheduler(), options, queueName(batching, sig),
        encoder.sequenceInputs());
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

  /** The batch queue of {@code sig}, if it has one. */
  @Nullable
  SignatureQueue queue(SignatureInfo sig) {
    return queues.get(sig.name());
  }

  /**
   * Admits {@code rows} rows of {@code sig} before they are prepared, holding their room in the
   * signature's queue (see {@link Reservation}); null when {@code sig} has no queue or there are
   * no rows.
   *
   * @throws OverloadedException when the queue has no room
   */
  @Nullable
  Reservation reserve(SignatureInfo sig, int rows, CallScope scope) {
    SignatureQueue queue = queues.get(sig.name());
    return queue != null && rows > 0 ? queue.reserve(rows, scope.remaining()) : null;
  }

  /**
   * The most rows one call should submit to {@code sig}'s queue at a time (see
   * {@link SignatureQueue#rowsPerSubmission()}); unbounded for a signature without a queue.
   */
  int rowsPerSubmission(SignatureInfo sig) {
    SignatureQueue queue = queues.get(sig.name());
    return queue == null ? Integer.MAX_VALUE : queue.rowsPerSubmission();
  }

  /**
   * Runs one signature for a call: through the signature's batch queue when it has one, else
   * directly, as {@link SavedModel#run}.
   *
   * @param scope the call's deadline and cancellation; queued rows of an ended call are dropped
   * @throws InvalidInputException as {@link SavedModel#run}
   * @throws OverloadedException when the queue has no room
   * @throws io.jointspace.server.batching.DeadlineExceededException when the deadline passed
   *     before the rows ran
   * @throws java.util.concurrent.CancellationException when the call was cancelled
   */
  Map<String, TensorData> call(SignatureInfo sig, Map<String, TensorData> inputs, List<String> outputKeys,
      CallScope scope, Shapes shapes) {
    SignatureQueue queue = queues.get(sig.name());
    if (queue == null) {
      return model.run(sig, inputs, outputKeys, shapes);
    }
    List<String> fetch;
    try {
      fetch = model.check(sig, inputs, outputKeys);
    } catch (InvalidInputException e) {
      if (shapes == Shapes.CHECKED) {
        throw e;
      }
      // shapes the signature does not record cannot share a batch: run alone, as TensorFlow takes them
      try {
        return model.run(sig, inputs, outputKeys, shapes);
      } catch (InvalidInputException rejected) {
        // the graph refused them too: say which input does not fit the signature as well
        throw new InvalidInputException(rejected.getMessage() + " (" + e.getMessage() + ")", rejected);
      }
    }
    int rows = SignatureQueue.rowCount(inputs);
    if (rows <= 0) {
      return model.run(sig, inputs, outputKeys);
    }
    return join(queue.submit(inputs, rows, fetch, scope));
  }

  /**
   * Runs ready-made rows of a signature: through its queue when it has one, in the room
   * {@code room} holds for them when not null ({@link #reserve}), and the future completes
   * from a batch thread with each row's outputs in fetch order; without a queue the rows run
   * now, on this thread, as one batch, and the future is already done.
   */
  CompletableFuture<List<List<TensorData>>> submitRows(SignatureInfo sig, List<Row> rows, CallScope scope,
      @Nullable Reservation room) {
    SignatureQueue queue = queues.get(sig.name());
    if (queue != null) {
      return queue.submitRows(rows, scope, room);
    }
    try {
      return CompletableFuture.completedFuture(model.runRows(sig, rows));
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  /** Waits for {@code future}, rethrowing the failure's own exception. */
  static <T> T join(CompletableFuture<T> future) {
    try {
      return future.join();
    } catch (CompletionException e) {
      if (e.getCause() instanceof RuntimeException re) {
        throw re;
      }
      if (e.getCause() instanceof Error err) {
        throw err;
      }
      throw e;
    }
  }

  /** Closes the queues to new rows and waits for the queued ones to run. */
  @Override
  public void close() {
    queues.values().forEach(SignatureQueue::close);
    for (SignatureQueue queue : queues.values()) {
      try {
        queue.drained().get(DRAIN_TIMEOUT_SECONDS, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } catch (ExecutionException | TimeoutException e) {
        throw new IllegalStateException(queue + " did not drain within " + DRAIN_TIMEOUT_SECONDS + " s", e);
      }
    }
  }
}
