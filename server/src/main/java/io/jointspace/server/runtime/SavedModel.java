package io.jointspace.server.runtime;

import io.jointspace.server.batching.BatchScheduler;
import io.jointspace.server.batching.BatchingOptions;
import io.jointspace.server.batching.Reservation;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import javax.annotation.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.tensorflow.Result;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.exceptions.TFInvalidArgumentException;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.proto.MetaGraphDef;

/**
 * One loaded SavedModel version: its session, its signatures as recorded on disk, and a
 * way to run them. Signatures run by feeding and fetching the graph tensors their
 * SignatureDef names (as TF Serving does), so every signature of every loadable SavedModel
 * can be called. Thread-safe: many threads may {@link #run} at once. {@link #close()} only
 * after the last run has returned (the registry's handles guarantee this).
 */
public final class SavedModel implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(SavedModel.class);
  static final String INIT_OP_SIGNATURE = "__saved_model_init_op";
  private static final String TRAIN_OP_SIGNATURE = "__saved_model_train_op";
  /** How long {@link #close()} waits for the queued rows to run before the session closes. */
  static final long DRAIN_TIMEOUT_SECONDS = 30;

  private final Path dir;
  private final List<String> tags;
  private final Map<String, SignatureInfo> signatures;
  @Nullable private final String defaultSignature;
  private final Session session;
  private final AutoCloseable owner;
  @Nullable private Encoder encoder; // set once by load(), before the model is published
  /** Batch queues by signature name; filled by load(), before the model is published. */
  private final Map<String, SignatureQueue> queues = new java.util.concurrent.ConcurrentHashMap<>();
  @Nullable private Batching batching;

  /** Where and how this version's queues batch; {@code name} is the version, e.g. "clip@2". */
  private record Batching(BatchScheduler scheduler, BatchingOptions options, String name) {}

  private SavedModel(Path dir, List<String> tags, MetaGraphDef meta, Session session,
      AutoCloseable owner, String configuredDefault) {
    this.dir = dir;
    this.tags = List.copyOf(tags);
    this.session = session;
    this.owner = owner;
    Map<String, SignatureInfo> sigs = new TreeMap<>();
    Map<String, org.tensorflow.proto.DataType> placeholderTypes = SignatureInfo.placeholderTypes(meta.getGraphDef());
    meta.getSignatureDefMap().forEach((name, def) -> {
      if (!name.equals(INIT_OP_SIGNATURE) && !name.equals(TRAIN_OP_SIGNATURE)) {
        sigs.put(name, SignatureInfo.of(name, def, placeholderTypes));
      }
    });
    this.signatures = Collections.unmodifiableMap(sigs);
    if (!configuredDefault.isEmpty()) {
      if (!sigs.containsKey(configuredDefault)) {
        throw new IllegalArgumentException("default_signature '" + configuredDefault
            + "' is not in the model; signatures: " + sigs.keySet());
      }
      this.defaultSignature = configuredDefault;
    } else if (sigs.containsKey("serving_default")) {
      this.defaultSignature = "serving_default";
    } else if (sigs.size() == 1) {
      this.defaultSignature = sigs.keySet().iterator().next();
    } else {
      this.defaultSignature = null;
    }
  }

  /**
   * Loads the SavedModel in {@code dir} with TensorFlow's loader. If that refuses the model
   * (TF Java rejects a whole model for one SignatureDef whose dtype disagrees with its graph,
   * which TF Serving accepts), imports the MetaGraph by hand: restore the variables, run the
   * init op with the asset paths fed.
   *
   * @throws Exception with a message that says why the version cannot load
   */
  public static SavedModel load(Path dir, LoadOptions options) throws Exception {
    return load(dir, options, ImageLimits.DEFAULT);
  }

  /** As {@link #load(Path, LoadOptions)}, with the limits its image encoder enforces. */
  public static SavedModel load(Path dir, LoadOptions options, ImageLimits imageLimits) throws Exception {
    return load(dir, options, imageLimits, null, null, dir.toString());
  }

  /**
   * As {@link #load(Path, LoadOptions, ImageLimits)}; with {@code batching}, the encoder's
   * signatures and every {@link SignatureQueue#batchable batchable} signature run through
   * queues of {@code scheduler} named {@code name + "/" + signature}.
   *
   * @param batching null: every call runs directly
   * @param name the version, as queue names show it ({@code "clip@2"})
   */
  public static SavedModel load(Path dir, LoadOptions options, ImageLimits imageLimits,
      @Nullable BatchScheduler scheduler, @Nullable BatchingOptions batching, String name) throws Exception {
    Batching queueing = batching == null ? null
        : new Batching(java.util.Objects.requireNonNull(scheduler, "scheduler"), batching, name);
    boolean binary = Files.isRegularFile(dir.resolve("saved_model.pb"));
    if (!binary && !Files.isRegularFile(dir.resolve("saved_model.pbtxt"))) {
      throw new IllegalArgumentException(
          "no saved_model.pb or saved_model.pbtxt in " + dir + " (not a SavedModel)");
    }
    ConfigProto config = ConfigProto.newBuilder()
        .setAllowSoftPlacement(options.allowSoftPlacement())
        .setIntraOpParallelismThreads(options.intraOpThreads())
        .setInterOpParallelismThreads(options.interOpThreads())
        .setExperimental(ConfigProto.Experimental.newBuilder().setDisableThreadSpinning(!options.threadSpinning()))
        .build();
    String[] tags = options.tags().toArray(new String[0]);
    SavedModelBundle bundle;
    try {
      bundle = SavedModelBundle.loader(dir.toString()).withTags(tags).withConfigProto(config).load();
    } catch (RuntimeException bundleError) {
      MetaGraphDef meta = MetaGraphImport.readMetaGraph(dir, options.tags());
      try {
        MetaGraphImport imported = MetaGraphImport.load(dir, meta, config);
        try {
          return withEncoder(new SavedModel(dir, options.tags(), meta, imported.session(), imported,
              options.defaultSignature()), imageLimits, queueing);
        } catch (RuntimeException e) {
          imported.close();
          throw e;
        }
      } catch (RuntimeException importError) {
        bundleError.addSuppressed(importError);
        throw new IllegalStateException(firstLine(bundleError.getMessage()), bundleError);
      }
    }
    SavedModel model;
    try {
      model = new SavedModel(dir, options.tags(), bundle.metaGraphDef(), bundle.session(), bundle,
          options.defaultSignature());
    } catch (RuntimeException e) {
      bundle.close();
      throw e;
    }
    return withEncoder(model, imageLimits, queueing);
  }

  /**
   * Makes the batch queues (one per batchable signature) and reads the version's encoder
   * spec, if any; closes the model when the spec is unusable.
   */
  private static SavedModel withEncoder(SavedModel model, ImageLimits imageLimits, @Nullable Batching batching) {
    try {
      model.batching = batching;
      // the encoder's signatures first: its text queue buckets by length
      Encoder.readSpec(model.dir).ifPresent(spec -> model.encoder = Encoder.create(model, spec, imageLimits));
      if (batching != null) {
        model.signatures.values().stream().filter(SignatureQueue::batchable).forEach(model::queueFor);
      }
      return model;
    } catch (RuntimeException e) {
      model.close();
      throw e;
    }
  }

  /** The text and image encoder, for versions with an encoder spec. */
  public Optional<Encoder> encoder() {
    return Optional.ofNullable(encoder);
  }

  public Path dir() {
    return dir;
  }

  public List<String> tags() {
    return tags;
  }

  public Map<String, SignatureInfo> signatures() {
    return signatures;
  }

  /** The signature a request without a signature name runs, if the model has one. */
  public Optional<String> defaultSignature() {
    return Optional.ofNullable(defaultSignature);
  }

  /**
   * The signature called {@code name}, or the default one when {@code name} is empty.
   *
   * @throws InvalidInputException when there is no such signature
   */
  public SignatureInfo signature(String name) {
    if (name.isEmpty()) {
      if (defaultSignature == null) {
        throw new InvalidInputException("is empty and the model has no serving_default signature;"
            + " name one of " + signatures.keySet());
      }
      return signatures.get(defaultSignature);
    }
    SignatureInfo sig = signatures.get(name);
    if (sig == null) {
      throw new InvalidInputException("'" + name + "' is not a signature of the model; signatures: "
          + signatures.keySet());
    }
    return sig;
  }

  /**
   * Length of the embeddings: the encoder's, else the default signature's only output per
   * batch row, where its shape fixes it; 0 when unknown.
   */
  public int embeddingDimension() {
    if (encoder != null && encoder.dimension() > 0) {
      return encoder.dimension();
    }
    if (defaultSignature == null) {
      return 0;
    }
    SignatureInfo sig = signatures.get(defaultSignature);
    if (sig.outputs().size() != 1) {
      return 0;
    }
    TensorSpec out = sig.outputs().values().iterator().next();
    if (!out.rankKnown() || !out.batched()) {
      return 0;
    }
    long n = 1;
    for (long d : out.rowShape()) {
      if (d < 0) {
        return 0;
      }
      n *= d;
    }
    return (int) n;
  }

  /**
   * Makes the batch queue of {@code sig} unless it has one or batching is off for this
   * version. For load time only (the encoder asks for its signatures' queues, which it
   * knows to be batchable whatever their declared shapes).
   */
  void queueFor(SignatureInfo sig) {
    queueFor(sig, false);
  }

  /**
   * As {@link #queueFor(SignatureInfo)}; with {@code reserved}, callers {@link #reserve} room
   * before they prepare their rows, and the queue waits for a batch to fill only while some
   * room is reserved, unless the version's options turn that off
   * ({@link BatchingOptions#waitForReservedOnly()}): the encoder's image queue.
   */
  void queueFor(SignatureInfo sig, boolean reserved) {
    if (batching != null) {
      queues.computeIfAbsent(sig.name(), n -> new SignatureQueue(this, sig, batching.scheduler(),
          batching.options().withWaitForReservedOnly(reserved && batching.options().waitForReservedOnly()),
          batching.name() + "/" + n));
    }
  }

  /**
   * Makes the batch queue of a text signature, as {@link #queueFor}: texts are bucketed by
   * their token count. When {@code dynamicLength} (the signature's sequence dimension is -1),
   * the buckets are the configured {@code length_buckets} below {@code contextLength} and
   * {@code contextLength} itself, and each batch's {@code sequences} inputs are cut to its
   * bucket; else the one bucket is {@code contextLength}, the length the signature fixes.
   * Either way, the padding of each batch is measured. Callers {@link #reserve} room before
   * they tokenize, and (unless the options turn it off) the queue waits for a batch to fill only
   * while some room is reserved.
   */
  void textQueueFor(SignatureInfo sig, Set<String> sequences, int contextLength, boolean dynamicLength) {
    if (batching == null) {
      return;
    }
    List<Integer> configured = batching.options().lengthBuckets();
    List<Integer> buckets = new ArrayList<>();
    if (dynamicLength) {
      configured.stream().filter(b -> b < contextLength).forEach(buckets::add);
    } else if (!configured.isEmpty()) {
      LOG.warn("{}/{}: length_buckets {} unused: the signature fixes the sequence length at {}", batching.name(),
          sig.name(), configured, contextLength);
    }
    buckets.add(contextLength);
    BatchingOptions options = batching.options().withLengthBuckets(buckets.toArray(Integer[]::new));
    queues.computeIfAbsent(sig.name(), n -> new SignatureQueue(this, sig, batching.scheduler(), options,
        batching.name() + "/" + n, sequences));
  }

  /**
   * Admits {@code rows} rows of {@code sig} before they are prepared, holding their room in the
   * signature's queue (see {@link Reservation}); null when
   * {@code sig} has no queue or there are no rows.
   *
   * @throws io.jointspace.server.batching.QueueFullException when the queue is full
   */
  @Nullable
  Reservation reserve(SignatureInfo sig, int rows) {
    SignatureQueue queue = queues.get(sig.name());
    return queue != null && rows > 0 ? queue.queue().reserve(rows) : null;
  }

  /**
   * Runs one signature for a call: through the signature's batch queue when it has one (the
   * rows of concurrent calls run together; the outputs are the same as a direct run's), else
   * directly, as {@link #run}.
   *
   * @param scope the call's deadline and cancellation; queued rows of an ended call are dropped
   * @throws InvalidInputException as {@link #run}
   * @throws io.jointspace.server.batching.QueueFullException when the queue has no room
   * @throws io.jointspace.server.batching.DeadlineExceededException when the deadline passed
   *     before the rows ran
   * @throws java.util.concurrent.CancellationException when the call was cancelled
   */
  public Map<String, TensorData> call(SignatureInfo sig, Map<String, TensorData> inputs, List<String> outputKeys,
      CallScope scope) {
    SignatureQueue queue = queues.get(sig.name());
    if (queue == null) {
      return run(sig, inputs, outputKeys);
    }
    List<String> fetch = check(sig, inputs, outputKeys);
    int rows = SignatureQueue.rowCount(inputs);
    if (rows <= 0) {
      return run(sig, inputs, outputKeys);
    }
    return join(queue.submit(inputs, rows, fetch, scope));
  }

  /**
   * Runs ready-made rows of a signature: through its queue when it has one ({@link #queueFor}),
   * in the room {@code room} holds for them when not null ({@link #reserve}), and the future
   * completes from a batch thread with each row's outputs in fetch order; without a queue the
   * rows run now, on this thread, as one batch, and the future is already done.
   */
  CompletableFuture<List<List<TensorData>>> submitRows(SignatureInfo sig,
      List<SignatureQueue.Row> rows, CallScope scope, @Nullable Reservation room) {
    SignatureQueue queue = queues.get(sig.name());
    if (queue != null) {
      return queue.submitRows(rows, scope, room);
    }
    try {
      return CompletableFuture.completedFuture(runRows(sig, rows));
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  /** Runs rows directly as one batch; each row's outputs in fetch order. */
  private List<List<TensorData>> runRows(SignatureInfo sig, List<SignatureQueue.Row> rows) {
    List<String> fetch = rows.get(0).fetch();
    Map<String, TensorData> stacked = new LinkedHashMap<>();
    for (String key : rows.get(0).inputs().keySet()) {
      stacked.put(key, TensorData.stack(rows.stream().map(r -> r.inputs().get(key)).toList()));
    }
    Map<String, TensorData> out = run(sig, stacked, fetch);
    List<List<TensorData>> perRow = new ArrayList<>(rows.size());
    for (int r = 0; r < rows.size(); r++) {
      List<TensorData> outputs = new ArrayList<>(fetch.size());
      for (String key : fetch) {
        TensorData t = out.get(key);
        if (t.rank() == 0 || t.dim(0) != rows.size()) {
          throw new InvalidInputException("output '" + key + "' has shape " + java.util.Arrays.toString(t.shape())
              + ", not one row per input (" + rows.size() + ")");
        }
        outputs.add(t.row(r));
      }
      perRow.add(outputs);
    }
    return perRow;
  }

  /** Waits for {@code future}, rethrowing the failure's own exception. */
  static <T> T join(CompletableFuture<T> future) {
    try {
      return future.join();
    } catch (java.util.concurrent.CompletionException e) {
      if (e.getCause() instanceof RuntimeException re) {
        throw re;
      }
      if (e.getCause() instanceof Error err) {
        throw err;
      }
      throw e;
    }
  }

  /**
   * Checks a call of {@code sig} before it runs; returns the outputs to fetch.
   *
   * @throws InvalidInputException for a missing, unknown or ill-typed input or an unknown output
   */
  private List<String> check(SignatureInfo sig, Map<String, TensorData> inputs, List<String> outputKeys) {
    for (String key : inputs.keySet()) {
      if (!sig.inputs().containsKey(key)) {
        throw new InvalidInputException("input '" + key + "' is not an input of signature '" + sig.name()
            + "'; inputs: " + sig.inputs().keySet());
      }
    }
    List<String> fetch = outputKeys.isEmpty() ? sig.outputKeys() : outputKeys;
    for (String key : fetch) {
      TensorSpec spec = sig.outputs().get(key);
      if (spec == null) {
        throw new InvalidInputException("output '" + key + "' is not an output of signature '" + sig.name()
            + "'; outputs: " + sig.outputs().keySet());
      }
      if (spec.tensorName().isEmpty()) {
        throw new InvalidInputException("output '" + key + "' is a composite tensor, which the server cannot fetch");
      }
    }
    for (TensorSpec spec : sig.inputs().values()) {
      TensorData data = inputs.get(spec.key());
      if (data == null) {
        throw new InvalidInputException("input '" + spec.key() + "' of signature '" + sig.name()
            + "' is missing; the signature's inputs: " + sig.inputs().keySet());
      }
      try {
        spec.check(data);
      } catch (InvalidInputException e) {
        throw e.at("input '" + spec.key() + "'");
      }
    }
    return fetch;
  }

  /**
   * Runs one signature.
   *
   * @param inputs by signature key; must be exactly the signature's inputs
   * @param outputKeys which outputs to fetch, in this order; empty fetches all, sorted by key
   * @return the outputs by key, in fetch order
   * @throws InvalidInputException for a missing, unknown or ill-typed input, an unknown
   *     output, or an input the graph rejects
   */
  public Map<String, TensorData> run(SignatureInfo sig, Map<String, TensorData> inputs, List<String> outputKeys) {
    List<String> fetch = check(sig, inputs, outputKeys);
    List<Tensor> fed = new ArrayList<>(sig.inputs().size());
    try {
      Session.Runner runner = session.runner();
      for (TensorSpec spec : sig.inputs().values()) {
        Tensor t = Tensors.toTensor(inputs.get(spec.key()));
        fed.add(t);
        runner.feed(spec.tensorName(), t);
      }
      for (String key : fetch) {
        runner.fetch(sig.outputs().get(key).tensorName());
      }
      Map<String, TensorData> out = new LinkedHashMap<>();
      try (Result result = runner.run()) {
        for (int i = 0; i < fetch.size(); i++) {
          out.put(fetch.get(i), Tensors.fromTensor(result.get(i)));
        }
      }
      return out;
    } catch (TFInvalidArgumentException e) {
      throw new InvalidInputException("the model rejected the inputs: " + firstLine(e.getMessage()), e);
    } finally {
      fed.forEach(Tensor::close);
    }
  }

  private static void awaitDrained(SignatureQueue queue) {
    try {
      queue.queue().drained().get(DRAIN_TIMEOUT_SECONDS, java.util.concurrent.TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
      throw new IllegalStateException(queue + " did not drain within " + DRAIN_TIMEOUT_SECONDS + " s", e);
    }
  }

  static String firstLine(@Nullable String message) {
    if (message == null) {
      return "";
    }
    int nl = message.indexOf('\n');
    return (nl < 0 ? message : message.substring(0, nl)).trim();
  }

  /** Closes the batch queues and waits for them to drain, closes the encoder, then the session. */
  @Override
  public void close() {
    queues.values().forEach(SignatureQueue::close);
    for (SignatureQueue queue : queues.values()) {
      awaitDrained(queue);
    }
    if (encoder != null) {
      encoder.close();
    }
    try {
      owner.close();
    } catch (Exception e) {
      throw new IllegalStateException("closing " + dir + " failed", e);
    }
  }

  @Override
  public String toString() {
    return "SavedModel[" + dir + ", tags=" + tags + ", signatures=" + signatures.keySet() + "]";
  }

}
