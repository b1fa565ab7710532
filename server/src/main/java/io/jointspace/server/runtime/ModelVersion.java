package io.jointspace.server.runtime;

import io.jointspace.server.batching.BatchScheduler;
import io.jointspace.server.batching.BatchingOptions;
import io.jointspace.server.errors.InvalidInputException;
import io.jointspace.server.errors.OverloadedException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.IntFunction;
import javax.annotation.Nullable;

/**
 * One loaded model version: what the registry holds and hands out in its leases. It owns, as
 * final fields set at load, the TensorFlow {@link SavedModel}, the {@link Signatures} that run
 * it (its batch queues), and the optional {@link Encoder}; nothing below it calls back up.
 *
 * <p>What a caller does with it: {@link #encode} texts and images (encoder versions), embed raw
 * tensors with one signature ({@link #embedTensors}), or {@link #call} any signature with
 * tensors. Each takes the call's {@link CallScope}: queued work of a call that ended is dropped.
 * Thread-safe. {@link #close()} only after the last call has returned (the registry's handles
 * guarantee it); it closes in order: queues drain, the encoder, the session.
 */
public final class ModelVersion implements AutoCloseable {
  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(ModelVersion.class);
  /** TF Serving's warmup file in a version folder: a TFRecord file of PredictionLog records. */
  public static final String WARMUP_FILE = "assets.extra/" + Warmup.WARMUP_FILE;
  private final String name;
  private final SavedModel model;
  @Nullable private final Encoder encoder;
  private final Signatures signatures;
  private final PreprocessPool pool;

  private ModelVersion(String name, SavedModel model, @Nullable Encoder encoder, Signatures signatures,
      PreprocessPool pool) {
    this.name = name;
    this.model = model;
    this.encoder = encoder;
    this.signatures = signatures;
    this.pool = pool;
  }

  /**
   * Loads the SavedModel in {@code dir}, reads its encoder spec if it has one, and makes its
   * batch queues on {@code scheduler} (named {@code name + "/" + signature}) unless
   * {@code batching} is null.
   *
   * @param name the version as queue names and messages show it ({@code "clip@2"})
   * @param pool where texts are tokenized and images decoded
   * @throws Exception with a message that says why the version cannot load (an unusable spec
   *     names its field)
   */
  public static ModelVersion load(Path dir, String name, LoadOptions options, ImageLimits imageLimits,
      @Nullable BatchScheduler scheduler, @Nullable BatchingOptions batching, PreprocessPool pool) throws Exception {
    Signatures.Batching queueing = batching == null ? null
        : new Signatures.Batching(Objects.requireNonNull(scheduler, "scheduler"), batching, name);
    SavedModel model = SavedModel.load(dir, options);
    Encoder encoder = null;
    try {
      encoder = Encoder.readSpec(dir).map(spec -> Encoder.create(model, spec, imageLimits)).orElse(null);
      return new ModelVersion(name, model, encoder, new Signatures(model, queueing, encoder), pool);
    } catch (RuntimeException e) {
      if (encoder != null) {
        encoder.close();
      }
      model.close();
      throw e;
    }
  }

  /**
   * Loads without batch queues, preparing inputs on the calling thread: for tools and
   * benchmarks that drive one version in-process.
   */
  public static ModelVersion load(Path dir, LoadOptions options) throws Exception {
    return load(dir, dir.toString(), options, ImageLimits.DEFAULT, null, null, PreprocessPool.callerRuns());
  }

  /**
   * Runs the version before it takes calls: its warmup file's records, else synthetic batches
   * of every batch size and length bucket its queues use (see {@link Warmup}). Call it once,
   * before the version is handed out.
   *
   * @return what ran
   * @throws IllegalStateException naming the record or signature that failed, and why
   */
  public Warmup.Report warmUp(WarmupOptions options) {
    Warmup.Report report = new Warmup(model, signatures, encoder, name).run(options);
    log.info("Warmed up {} in {} ms: {} runs from {}{}", name, report.millis(), report.runs().size(), report.source(),
        report.skipped() == 0 ? "" : ", " + report.skipped() + " skipped");
    return report;
  }

  /** The version as queue names show it ({@code "clip@2"}). */
  public String name() {
    return name;
  }

  public Path dir() {
    return model.dir();
  }

  public List<String> tags() {
    return model.tags();
  }

  /** Every signature, by name, sorted. */
  public Map<String, SignatureInfo> signatures() {
    return model.signatures();
  }

  /** The signature a request without a signature name runs, if the model has one. */
  public Optional<String> defaultSignature() {
    return model.defaultSignature();
  }

  /**
   * The signature called {@code name}, or the default one when {@code name} is empty.
   *
   * @throws InvalidInputException when there is no such signature
   */
  public SignatureInfo signature(String name) {
    return model.signature(name);
  }

  /** The text and image encoder, for versions with an encoder spec. */
  public Optional<Encoder> encoder() {
    return Optional.ofNullable(encoder);
  }

  /**
   * Length of the embeddings: the encoder's, else the default signature's only output per
   * batch row, where its shape fixes it; 0 when unknown.
   */
  public int embeddingDimension() {
    return encoder != null && encoder.dimension() > 0 ? encoder.dimension() : model.defaultOutputWidth();
  }

  /**
   * Embeds texts and images into the encoder's space (see {@link EncodeCall} for the steps).
   *
   * @param fieldOf the request field of the i-th input, for messages ("inputs[3]")
   * @return one vector per input, in input order
   * @throws InvalidInputException naming the field for a bad input, or {@code model:} when this
   *     version has no encoder spec
   * @throws OverloadedException when a queue or the preprocessing pool has no room
   */
  public List<float[]> encode(List<Content> inputs, IntFunction<String> fieldOf, CallScope scope) {
    return new EncodeCall(requireEncoder(), signatures, pool, scope).encode(inputs, fieldOf);
  }

  /**
   * Embeds more texts than one submission to the text queue should hold (Classify's labels x
   * templates) in consecutive parts of {@link Signatures#rowsPerSubmission} texts each, so a
   * large label set waits its turns in an idle queue instead of being refused as overload.
   *
   * @param fieldOf the field of the i-th text, for messages
   * @return one vector per text, in order
   */
  public List<float[]> encodeTextsInParts(List<Content.Text> texts, IntFunction<String> fieldOf, CallScope scope) {
    int part = signatures.rowsPerSubmission(requireEncoder().textSignature());
    List<float[]> out = new ArrayList<>(texts.size());
    for (int from = 0; from < texts.size(); from += part) {
      int offset = from;
      out.addAll(encode(List.<Content>copyOf(texts.subList(from, Math.min(texts.size(), from + part))),
          i -> fieldOf.apply(offset + i), scope));
    }
    return out;
  }

  /** The encoder, or a bad-input error naming {@code model} for a version without one. */
  public Encoder requireEncoder() {
    if (encoder == null) {
      throw new InvalidInputException("model: version " + name + " has no encoder spec (" + Encoder.SPEC_FILE
          + "); it embeds tensor inputs only");
    }
    return encoder;
  }

  /** Embeds texts already tokenized, without a deadline: the encoder's own work, for benchmarks. */
  public List<float[]> encodeTexts(List<TextTokenizer.Tokens> tokens) {
    Encoder e = requireEncoder();
    return e.finish(Signatures.join(signatures.submitRows(e.textSignature(), e.textRows(tokens), CallScope.NONE,
        null)), e.textOutput());
  }

  /** Embeds images already preprocessed, without a deadline: the encoder's own work, for benchmarks. */
  public List<float[]> encodeImages(List<TensorData> pixels) {
    Encoder e = requireEncoder();
    return e.finish(Signatures.join(signatures.submitRows(e.imageSignature(), e.imageRows(pixels), CallScope.NONE,
        null)), e.imageOutput());
  }

  /**
   * Embeds raw tensors with one signature input: each tensor is a row, the output flattened
   * per row is its vector.
   *
   * @param fieldPrefix how the request names its inputs in messages ("inputs")
   * @throws InvalidInputException naming the input index for a bad input
   */
  public List<float[]> embedTensors(SignatureInfo sig, TensorSpec input, String outputKey, List<TensorData> rows,
      String fieldPrefix, CallScope scope) {
    return TensorEmbedder.embed(signatures, model, sig, input, outputKey, rows, fieldPrefix, scope);
  }

  /**
   * Runs one signature: through its batch queue when it has one, else directly.
   *
   * @param outputKeys which outputs to fetch, in this order; empty fetches all, sorted by key
   * @return the outputs by key, in fetch order
   * @throws InvalidInputException for a missing, unknown or ill-typed input or output
   * @throws OverloadedException when the queue has no room
   */
  public Map<String, TensorData> call(SignatureInfo sig, Map<String, TensorData> inputs, List<String> outputKeys,
      CallScope scope) {
    return signatures.call(sig, inputs, outputKeys, scope, Shapes.CHECKED);
  }

  /**
   * As {@link #call(SignatureInfo, Map, List, CallScope)}, with the signature's shapes checked
   * as {@code shapes} says: TF Serving's API takes any shape TensorFlow takes.
   */
  public Map<String, TensorData> call(SignatureInfo sig, Map<String, TensorData> inputs, List<String> outputKeys,
      CallScope scope, Shapes shapes) {
    return signatures.call(sig, inputs, outputKeys, scope, shapes);
  }

  /** Drains the queues, then closes the encoder and the session. */
  @Override
  public void close() {
    try {
      signatures.close();
    } finally {
      try {
        if (encoder != null) {
          encoder.close();
        }
      } finally {
        model.close();
      }
    }
  }

  @Override
  public String toString() {
    return "ModelVersion[" + name + ", " + model.dir() + "]";
  }
}
