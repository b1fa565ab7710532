package io.jointspace.server.runtime;

import com.google.protobuf.InvalidProtocolBufferException;
import io.jointspace.server.batching.BatchingOptions;
import io.jointspace.server.errors.InvalidInputException;
import io.jointspace.tensorflow.serving.PredictRequest;
import io.jointspace.tensorflow.serving.PredictionLog;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import javax.annotation.Nullable;
import javax.imageio.ImageIO;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a freshly loaded version before it takes calls, so that its first calls do not pay for
 * TensorFlow's lazy work (building the executor of each feed/fetch set, allocating buffers,
 * oneDNN kernels made per shape) nor for the JIT of the Java paths.
 *
 * <p>With a warmup file ({@value #WARMUP_FILE}, TF Serving's: a TFRecord file of
 * {@code tensorflow.serving.PredictionLog}, at most {@value #MAX_RECORDS} records), each
 * {@code predict_log} record runs {@link WarmupOptions#requestIterations()} times as a call
 * would (through the signature's queue). Records of TF Serving's other kinds (classify,
 * regress, multi-inference, session-run) are skipped with a warning: this server has no such
 * calls; a file with none but those is treated as no file. Any failure of a record fails the
 * warm-up, as in TF Serving.
 *
 * <p>Without one, synthetic batches run directly on the session, on the calling thread: per
 * signature with a batch queue, one batch per batch size the queue cuts ({@link #batchSizes}:
 * 1, the preferred sizes, the powers of two and the largest, at most {@value #MAX_SIZES})
 * and per length bucket for the encoder's text signature (texts of each bucket's length), with
 * images of the encoder's input size; per other signature that batches (every input and
 * output has a batch dimension), zeros of its shapes at each size, or one row without a
 * queue. Signatures that do not batch are not run: they are often a stateful model's (a
 * counter's increment), which a guessed call would change; a warmup file covers them.
 * The runs of one signature are capped at {@value #MAX_RUNS_PER_SIGNATURE}: with more buckets,
 * fewer sizes per bucket (always 1 and the largest). No synthetic batch starts once the
 * version's warm-up has run for {@link #SYNTHETIC_BUDGET_NANOS} (20 s): sizes run smallest
 * first, so a large model at a large batch size loses only its largest warm-up batches. Encoder signatures must run (their inputs
 * are what calls send); another signature whose graph rejects zeros of its declared shapes
 * (an Example parser, say) is skipped with a warning, since the guess, not the model, is wrong.
 */
public final class Warmup {
  private static final Logger log = LoggerFactory.getLogger(Warmup.class);

  static final String WARMUP_FILE = "tf_serving_warmup_requests";
  /** TF Serving's limit on the records of a warmup file. */
  static final int MAX_RECORDS = 1000;
  /** Most batch sizes warmed per signature and length bucket. */
  static final int MAX_SIZES = 8;
  /** Most synthetic batches per signature. */
  static final int MAX_RUNS_PER_SIGNATURE = 24;
  /**
   * Time after which no further synthetic batch starts: the cost of a batch grows with the
   * model and the batch size, and a large model at a large max_batch_size must not hold its
   * load for minutes. The sizes run smallest first, so what the budget cuts is the largest.
   */
  static final long SYNTHETIC_BUDGET_NANOS = java.util.concurrent.TimeUnit.SECONDS.toNanos(20);
  private static final String WARMUP_TEXT = "a photo of a warm-up";

  /**
   * What a warm-up did.
   *
   * @param source the warmup file, or "synthetic"
   * @param runs each run, as "signature rows x tokens" (synthetic) or "record n" (file)
   * @param skipped records of other kinds than predict_log, or signatures that rejected
   *     synthetic inputs
   */
  public record Report(String source, List<String> runs, int skipped, long millis) {}

  private final SavedModel model;
  private final Signatures signatures;
  @Nullable private final Encoder encoder;
  private final String name;
  private long syntheticDeadline;
  private int overBudget;

  Warmup(SavedModel model, Signatures signatures, @Nullable Encoder encoder, String name) {
    this.model = model;
    this.signatures = signatures;
    this.encoder = encoder;
    this.name = name;
  }

  /**
   * Warms the version up.
   *
   * @throws IllegalStateException saying which record or signature failed and why
   */
  Report run(WarmupOptions options) {
    long start = System.nanoTime();
    Path file = VersionFolder.of(model.dir()).file("assets.extra", WARMUP_FILE, "the warmup file");
    List<String> runs = new ArrayList<>();
    boolean fromFile = Files.isRegularFile(file);
    int skipped = fromFile ? replay(file, options.requestIterations(), runs) : 0;
    String source = "assets.extra/" + WARMUP_FILE;
    if (runs.isEmpty()) { // no file, or only records of kinds this server does not run
      skipped += synthetic(runs);
      source = fromFile ? "synthetic (the warmup file has no predict_log record)" : "synthetic";
    }
    return new Report(source, List.copyOf(runs), skipped, (System.nanoTime() - start) / 1_000_000);
  }

  /** Runs each predict record of the warmup file; returns the records skipped. */
  private int replay(Path file, int iterations, List<String> runs) {
    int skipped = 0;
    Map<Integer, Integer> skippedKinds = new LinkedHashMap<>();
    try (TfRecordFile.Reader reader = TfRecordFile.open(file)) {
      for (byte[] record = reader.next(); record != null; record = reader.next()) {
        int index = reader.count() - 1;
        if (reader.count() > MAX_RECORDS) {
          throw new IllegalStateException("assets.extra/" + WARMUP_FILE + " has more than " + MAX_RECORDS
              + " records, TF Serving's limit");
        }
        PredictionLog entry;
        try {
          entry = PredictionLog.parseFrom(record);
        } catch (InvalidProtocolBufferException e) {
          throw new IllegalStateException(where(index) + "is not a PredictionLog: " + e.getMessage(), e);
        }
        if (!entry.hasPredictLog()) {
          skipped++;
          entry.getUnknownFields().asMap().keySet().forEach(k -> skippedKinds.merge(k, 1, Integer::sum));
          continue;
        }
        PredictRequest request = entry.getPredictLog().getRequest();
        for (int i = 0; i < iterations; i++) {
          predict(request, index);
          runs.add("record " + index);
        }
      }
    } catch (IOException e) {
      throw new IllegalStateException("assets.extra/" + WARMUP_FILE + ": " + e.getMessage(), e);
    }
    if (skipped > 0) {
      log.warn("{}: skipped {} warmup records that are not predict_log (PredictionLog fields {}: TF Serving's"
          + " classify_log 2, regress_log 3, multi_inference_log 4, session_run_log 5, predict_streamed_log 7);"
          + " this server runs only Predict-style calls", name, skipped, skippedKinds);
    }
    return skipped;
  }

  private void predict(PredictRequest request, int index) {
    try {
      SignatureInfo sig = model.signature(request.getModelSpec().getSignatureName());
      Map<String, TensorData> inputs = TensorProtos.toTensorData(request.getInputsMap(), key -> "input '" + key + "'");
      signatures.call(sig, inputs, request.getOutputFilterList(), CallScope.NONE, Shapes.AS_TENSORFLOW);
    } catch (RuntimeException e) {
      throw new IllegalStateException(where(index) + "failed: " + e.getMessage(), e);
    }
  }

  private static String where(int index) {
    return "assets.extra/" + WARMUP_FILE + " record " + index + " ";
  }

  /** Runs synthetic batches; returns the signatures skipped. */
  private int synthetic(List<String> runs) {
    int skipped = 0;
    syntheticDeadline = System.nanoTime() + SYNTHETIC_BUDGET_NANOS;
    for (SignatureInfo sig : model.signatures().values()) {
      boolean text = encoder != null && encoder.encodesText() && encoder.textSignature().name().equals(sig.name());
      boolean image = encoder != null && encoder.encodesImages() && encoder.imageSignature().name().equals(sig.name());
      try {
        if (text) {
          warmText(sig, runs);
        }
        if (image) {
          warmImages(sig, runs);
        }
        if (!text && !image) {
          warmTensors(sig, runs);
        }
      } catch (InvalidInputException e) {
        if (text || image) {
          throw new IllegalStateException("signature '" + sig.name() + "' failed on synthetic "
              + (text ? "texts" : "images") + ": " + e.getMessage(), e);
        }
        skipped++;
        log.warn("{}: signature '{}' not warmed up: it rejected zeros of its declared shapes: {}", name, sig.name(),
            e.getMessage());
      } catch (RuntimeException e) {
        throw new IllegalStateException("signature '" + sig.name() + "' failed on synthetic inputs: "
            + e.getMessage(), e);
      }
    }
    if (overBudget > 0) {
      log.warn("{}: {} synthetic warm-up batches (the largest) not run: warm-up stops starting batches after {} s",
          name, overBudget, SYNTHETIC_BUDGET_NANOS / 1_000_000_000L);
    }
    return skipped;
  }

  /** Whether the synthetic budget is spent; counts the batch that is then not run. */
  private boolean overBudget() {
    if (System.nanoTime() - syntheticDeadline > 0) {
      overBudget++;
      return true;
    }
    return false;
  }

  /** One batch per length bucket and batch size, of texts exactly as long as the bucket. */
  private void warmText(SignatureInfo sig, List<String> runs) {
    TextTokenizer.Tokens tokens = encoder.tokenize(WARMUP_TEXT);
    SignatureQueue queue = signatures.queue(sig);
    List<Integer> buckets = queue == null ? List.of(0) : queue.options().lengthBuckets();
    if (buckets.isEmpty()) {
      buckets = List.of(0);
    }
    List<Integer> sizes = queue == null ? List.of(1)
        : batchSizes(queue.options(), Math.min(MAX_SIZES, Math.max(2, MAX_RUNS_PER_SIGNATURE / buckets.size())));
    int done = 0;
    for (int size : sizes) { // smallest first, every bucket at each size
      for (int bucket : buckets) {
        if (done >= MAX_RUNS_PER_SIGNATURE || overBudget()) {
          continue;
        }
        long[] mask = new long[tokens.ids().length];
        java.util.Arrays.fill(mask, 0, bucket == 0 ? tokens.length() : Math.min(bucket, mask.length), 1L);
        List<Row> rows = encoder.textRows(Collections.nCopies(size, new TextTokenizer.Tokens(tokens.ids(), mask)));
        List<float[]> vectors = encoder.finish(queue == null ? model.runRows(sig, rows) : queue.runNow(rows, bucket),
            encoder.textOutput());
        check(vectors, size);
        runs.add(sig.name() + " " + size + " x " + (bucket == 0 ? tokens.ids().length : bucket) + " tokens");
        done++;
      }
    }
  }

  /** One batch per batch size of a synthetic image of the encoder's input size, preprocessed as a call's. */
  private void warmImages(SignatureInfo sig, List<String> runs) {
    int width = encoder.spec().getImage().getWidth();
    int height = encoder.spec().getImage().getHeight();
    TensorData pixels = encoder.preprocessImage(syntheticJpeg(width, height));
    SignatureQueue queue = signatures.queue(sig);
    List<Integer> sizes = queue == null ? List.of(1) : batchSizes(queue.options(), MAX_SIZES);
    for (int size : sizes) {
      if (overBudget()) {
        continue;
      }
      List<Row> rows = encoder.imageRows(Collections.nCopies(size, pixels));
      check(encoder.finish(queue == null ? model.runRows(sig, rows) : queue.runNow(rows, 0), encoder.imageOutput()),
          size);
      runs.add(sig.name() + " " + size + " x " + width + "x" + height + " image");
    }
  }

  /**
   * Zeros of the declared shapes, for a signature that batches ({@link Signatures#batchable}):
   * per batch size when it has a queue, else one row. Other signatures (scalars, unknown
   * shapes: often a stateful model's, such as a counter's increment) are left alone.
   */
  private void warmTensors(SignatureInfo sig, List<String> runs) {
    if (!Signatures.batchable(sig) || sig.inputs().values().stream().anyMatch(s -> s.dtype().isEmpty())) {
      return;
    }
    SignatureQueue queue = signatures.queue(sig);
    List<Integer> sizes = queue == null ? List.of(1) : batchSizes(queue.options(), MAX_SIZES);
    for (int size : sizes) {
      if (overBudget()) {
        continue;
      }
      Map<String, TensorData> inputs = new LinkedHashMap<>();
      for (TensorSpec spec : sig.inputs().values()) {
        inputs.put(spec.key(), zeros(spec, size));
      }
      if (queue == null) {
        model.run(sig, inputs, List.of());
      } else {
        List<Row> rows = new ArrayList<>(size);
        for (int r = 0; r < size; r++) {
          Map<String, TensorData> row = new LinkedHashMap<>();
          inputs.forEach((k, v) -> row.put(k, v.row(0)));
          rows.add(new Row(row, sig.outputKeys()));
        }
        queue.runNow(rows, 0);
      }
      runs.add(sig.name() + " " + size + " rows");
    }
  }

  /**
   * The batch sizes to warm for a queue: 1, the preferred sizes, the powers of two below the
   * largest, and the largest, at most {@code max} of them (1 and the largest always).
   */
  static List<Integer> batchSizes(BatchingOptions options, int max) {
    int largest = options.maxBatchSize();
    TreeSet<Integer> sizes = new TreeSet<>();
    sizes.add(1);
    sizes.add(largest);
    for (int p : options.preferredBatchSizes()) {
      if (sizes.size() < max) {
        sizes.add(p);
      }
    }
    for (int p = 2; p < largest && sizes.size() < max; p *= 2) {
      sizes.add(p);
    }
    return List.copyOf(sizes);
  }

  /** Zeros of {@code spec}'s shape, with {@code batch} as the batch dimension and 1 for other free ones. */
  private static TensorData zeros(TensorSpec spec, int batch) {
    long[] shape = spec.shape().clone(); // the record's own array: never change it
    for (int i = 0; i < shape.length; i++) {
      if (shape[i] < 0) {
        shape[i] = i == 0 ? batch : 1;
      }
    }
    DType dtype = spec.dtype().orElseThrow();
    int n = Math.toIntExact(TensorData.elementCount(shape));
    if (dtype == DType.BYTES) {
      return TensorData.ofStrings(shape, Collections.nCopies(n, new byte[0]));
    }
    return TensorData.ofBytes(dtype, shape, new byte[Math.multiplyExact(n, dtype.byteSize())]);
  }

  private static void check(List<float[]> vectors, int rows) {
    if (vectors.size() != rows) {
      throw new IllegalStateException("gave " + vectors.size() + " vectors for " + rows + " rows");
    }
  }

  /** A gray JPEG of the given size, so image warm-up takes the decode and resize path of a call. */
  static byte[] syntheticJpeg(int width, int height) {
    BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < height; y++) {
      for (int x = 0; x < width; x++) {
        img.setRGB(x, y, ((x * 255 / Math.max(1, width)) << 16) | ((y * 255 / Math.max(1, height)) << 8) | 128);
      }
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      if (!ImageIO.write(img, "jpg", out)) {
        throw new IllegalStateException("no JPEG writer");
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }
}
