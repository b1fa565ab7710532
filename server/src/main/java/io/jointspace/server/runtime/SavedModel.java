package io.jointspace.server.runtime;

import io.jointspace.server.errors.InvalidInputException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import javax.annotation.Nullable;
import org.tensorflow.Result;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.exceptions.TFInvalidArgumentException;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.proto.MetaGraphDef;

/**
 * The TensorFlow side of one loaded version: its session, its signatures as recorded on disk,
 * and a way to run them. Signatures run by feeding and fetching the graph tensors their
 * SignatureDef names (as TF Serving does), so every signature of every loadable SavedModel can
 * be called. Each signature's graph runs on the calling thread or on TensorFlow's inter-op pool,
 * whichever its first runs measured faster ({@link InlineRuns}). Knows nothing of queues or
 * encoders. Thread-safe: many threads may {@link #run} at once. Owned by its {@link ModelVersion}, which closes it after the last run has returned.
 */
final class SavedModel implements AutoCloseable {
  static {
    NativeMemory.configure(); // before TensorFlow's first use
  }

  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(SavedModel.class);
  private static final String TRAIN_OP_SIGNATURE = "__saved_model_train_op";

  private final Path dir;
  private final List<String> tags;
  private final Map<String, SignatureInfo> signatures;
  @Nullable private final String defaultSignature;
  private final Session session;
  private final AutoCloseable owner;
  /** Per signature: on the calling thread or on TensorFlow's pool (see {@link InlineRuns}); the choice is logged. */
  private final Map<String, InlineRuns> inlineRuns = new java.util.concurrent.ConcurrentHashMap<>();

  private SavedModel(Path dir, List<String> tags, MetaGraphDef meta, Session session,
      AutoCloseable owner, String configuredDefault) {
    this.dir = dir;
    this.tags = List.copyOf(tags);
    this.session = session;
    this.owner = owner;
    Map<String, SignatureInfo> sigs = new TreeMap<>();
    Map<String, org.tensorflow.proto.DataType> placeholderTypes = SignatureInfo.placeholderTypes(meta.getGraphDef());
    meta.getSignatureDefMap().forEach((name, def) -> {
      if (!name.equals(MetaGraphImport.INIT_OP_SIGNATURE) && !name.equals(TRAIN_OP_SIGNATURE)) {
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
  static SavedModel load(Path dir, LoadOptions options) throws Exception {
    boolean binary = Files.isRegularFile(dir.resolve("saved_model.pb"));
    if (!binary && !Files.isRegularFile(dir.resolve("saved_model.pbtxt"))) {
      throw new IllegalArgumentException(
          "no saved_model.pb or saved_model.pbtxt in " + dir + " (not a SavedModel)");
    }
    // before TensorFlow reads any asset: none may lead outside the version's folder
    VersionFolder.of(dir).checkAssets();
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
          return new SavedModel(dir, options.tags(), meta, imported.session(), imported, options.defaultSignature());
        } catch (RuntimeException e) {
          imported.close();
          throw e;
        }
      } catch (RuntimeException importError) {
        bundleError.addSuppressed(importError);
        // TensorFlow's own line names no file ("Read less bytes than requested" for a truncated
        // variables file): say which version folder it was
        throw new IllegalStateException("cannot load the SavedModel in " + dir + ": "
            + firstLine(bundleError.getMessage()), bundleError);
      }
    }
    try {
      return new SavedModel(dir, options.tags(), bundle.metaGraphDef(), bundle.session(), bundle,
          options.defaultSignature());
    } catch (RuntimeException e) {
      bundle.close();
      throw e;
    }
  }

  Path dir() {
    return dir;
  }

  List<String> tags() {
    return tags;
  }

  Map<String, SignatureInfo> signatures() {
    return signatures;
  }

  /** The signature a request without a signature name runs, if the model has one. */
  Optional<String> defaultSignature() {
    return Optional.ofNullable(defaultSignature);
  }

  /**
   * The signature called {@code name}, or the default one when {@code name} is empty.
   *
   * @throws InvalidInputException when there is no such signature
   */
  SignatureInfo signature(String name) {
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
   * Values per row of the default signature's only output, where its shape fixes them; 0 when
   * unknown (no default signature, several outputs, or a dimension of -1).
   */
  int defaultOutputWidth() {
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
   * Checks a call of {@code sig} before it runs; returns the outputs to fetch.
   *
   * @throws InvalidInputException for a missing, unknown or ill-typed input or an unknown output
   */
  List<String> check(SignatureInfo sig, Map<String, TensorData> inputs, List<String> outputKeys) {
    return check(sig, inputs, outputKeys, Shapes.CHECKED);
  }

  /** As {@link #check(SignatureInfo, Map, List)}, with the signature's shapes checked as {@code shapes} says. */
  List<String> check(SignatureInfo sig, Map<String, TensorData> inputs, List<String> outputKeys, Shapes shapes) {
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
        if (shapes == Shapes.CHECKED) {
          spec.check(data);
        } else {
          spec.checkType(data);
        }
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
  Map<String, TensorData> run(SignatureInfo sig, Map<String, TensorData> inputs, List<String> outputKeys) {
    return run(sig, inputs, outputKeys, Shapes.CHECKED);
  }

  /** As {@link #run(SignatureInfo, Map, List)}, with the signature's shapes checked as {@code shapes} says. */
  Map<String, TensorData> run(SignatureInfo sig, Map<String, TensorData> inputs, List<String> outputKeys,
      Shapes shapes) {
    List<String> fetch = check(sig, inputs, outputKeys, shapes);
    List<Tensor> fed = new ArrayList<>(sig.inputs().size());
    InlineRuns how = inlineRuns.computeIfAbsent(sig.name(), k -> new InlineRuns());
    int rows = inputs.isEmpty() ? 0 : rowsOf(inputs.values().iterator().next());
    boolean inline = how.next(rows);
    try {
      Session.Runner runner = session.runner();
      if (inline) {
        runner.setOptions(InlineRuns.INLINE);
      }
      for (TensorSpec spec : sig.inputs().values()) {
        Tensor t = Tensors.toTensor(inputs.get(spec.key()));
        fed.add(t);
        runner.feed(spec.tensorName(), t);
      }
      for (String key : fetch) {
        runner.fetch(sig.outputs().get(key).tensorName());
      }
      Map<String, TensorData> out = new LinkedHashMap<>();
      long start = System.nanoTime();
      try (Result result = runner.run()) {
        InlineRuns.Decision decision = how.record(rows, inline, System.nanoTime() - start);
        if (decision != null) {
          log.info("{}: signature '{}' runs {} (median of {} runs each way, batches of {}: {} us on the"
              + " calling thread, {} us on TensorFlow's pool)", dir, sig.name(),
              decision.inline() ? "on the calling thread" : "on TensorFlow's inter-op pool", InlineRuns.TRIALS,
              decision.rows(), decision.inlineMedianNanos() / 1000, decision.pooledMedianNanos() / 1000);
        }
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

  /**
   * Runs rows alike (same inputs, shapes and fetches) as one batch: stacks each input, runs
   * once, and splits every output back into one row per input row. The one place where rows
   * become a batch and back.
   *
   * @return each row's outputs, in the rows' fetch order
   * @throws InvalidInputException as {@link #run}, or when an output does not have one row
   *     per input row
   */
  List<List<TensorData>> runRows(SignatureInfo sig, List<Row> rows) {
    Row first = rows.get(0);
    Map<String, TensorData> stacked = new LinkedHashMap<>();
    for (String key : first.inputs().keySet()) {
      List<TensorData> column = new ArrayList<>(rows.size());
      for (Row r : rows) {
        column.add(r.inputs().get(key));
      }
      stacked.put(key, TensorData.stack(column));
    }
    Map<String, TensorData> out = run(sig, stacked, first.fetch());
    List<List<TensorData>> perRow = new ArrayList<>(rows.size());
    for (int r = 0; r < rows.size(); r++) {
      perRow.add(new ArrayList<>(first.fetch().size()));
    }
    for (String key : first.fetch()) {
      TensorData t = out.get(key);
      if (t.rank() == 0 || t.dim(0) != rows.size()) {
        throw new InvalidInputException("output '" + key + "' of signature '" + sig.name() + "' has shape "
            + Arrays.toString(t.shape()) + ", not one row per input row (" + rows.size() + ")");
      }
      for (int r = 0; r < rows.size(); r++) {
        perRow.get(r).add(t.row(r));
      }
    }
    return perRow;
  }

  /** The rows of a fed input: its first dimension, or 0 for a scalar. */
  private static int rowsOf(TensorData t) {
    return t.rank() == 0 ? 0 : (int) Math.min(Integer.MAX_VALUE, t.dim(0));
  }

  static String firstLine(@Nullable String message) {
    if (message == null) {
      return "";
    }
    int nl = message.indexOf('\n');
    return (nl < 0 ? message : message.substring(0, nl)).trim();
  }

  /** Closes the session; only after the last run has returned. */
  @Override
  public void close() {
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
