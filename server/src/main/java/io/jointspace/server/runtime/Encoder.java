package io.jointspace.server.runtime;

import com.google.protobuf.TextFormat;
import io.jointspace.config.v1.EncoderSpec;
import io.jointspace.config.v1.ImageEncoderSpec;
import io.jointspace.config.v1.TextEncoderSpec;
import io.jointspace.server.batching.BatchQueue;
import io.jointspace.server.batching.BatchScheduler;
import io.jointspace.server.batching.BatchingOptions;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import javax.annotation.Nullable;

/**
 * The multimodal side of one model version: its {@link EncoderSpec} (from
 * {@code assets.extra/jointspace.textproto}), tokenizer and image preprocessor, and the
 * signatures that turn token ids and pixels into vectors of one space.
 *
 * <p>Preprocessing ({@link #tokenize}, {@link #preprocessImage}) is pure CPU work meant for
 * the preprocessing pool; {@link #encodeTexts} and {@link #encodeImages} run the model on
 * prepared batches. With {@link Batching}, each signature has a {@link BatchQueue}: a call's
 * items join other calls' items in batches on the scheduler's threads. Thread-safe. Owned by
 * its {@link SavedModel}, which closes it.
 */
public final class Encoder implements AutoCloseable {
  public static final String SPEC_FILE = "assets.extra/jointspace.textproto";
  static final float DEFAULT_LOGIT_SCALE = 100f;
  /** How long {@link #close()} waits for the queued items to run before the session closes. */
  static final long DRAIN_TIMEOUT_SECONDS = 30;

  /**
   * Batching for one version's encoder.
   *
   * @param name the version as queue names show it, e.g. {@code "clip@2"}; each queue is
   *     named {@code name + "/" + signature}
   */
  public record Batching(BatchScheduler scheduler, BatchingOptions options, String name) {
    public Batching {
      Objects.requireNonNull(scheduler, "scheduler");
      Objects.requireNonNull(options, "options");
      Objects.requireNonNull(name, "name");
    }
  }

  private final SavedModel model;
  private final EncoderSpec spec;
  @Nullable private final TextSide text;
  @Nullable private final ImageSide image;
  @Nullable private final BatchQueue<TextTokenizer.Tokens, float[]> textQueue;
  @Nullable private final BatchQueue<TensorData, float[]> imageQueue;

  private record TextSide(TextTokenizer tokenizer, SignatureInfo sig, TensorSpec ids,
      @Nullable TensorSpec mask, String output, int dimension) {}

  private record ImageSide(ImagePreprocessor preprocessor, SignatureInfo sig, TensorSpec pixels,
      String output, int dimension) {}

  private Encoder(SavedModel model, EncoderSpec spec, @Nullable TextSide text, @Nullable ImageSide image,
      @Nullable Batching batching) {
    this.model = model;
    this.spec = spec;
    this.text = text;
    this.image = image;
    this.textQueue = batching == null || text == null ? null : batching.scheduler().newQueue(
        batching.name() + "/" + text.sig().name(), batching.options(), batch -> runTexts(batch.items()));
    this.imageQueue = batching == null || image == null ? null : batching.scheduler().newQueue(
        batching.name() + "/" + image.sig().name(), batching.options(), batch -> runImages(batch.items()));
  }

  /** The spec in a version folder, if it has one. */
  static Optional<EncoderSpec> readSpec(Path versionDir) {
    Path file = versionDir.resolve(SPEC_FILE);
    if (!Files.isRegularFile(file)) {
      return Optional.empty();
    }
    EncoderSpec.Builder b = EncoderSpec.newBuilder();
    try {
      TextFormat.getParser().merge(Files.readString(file, StandardCharsets.UTF_8), b);
    } catch (IOException e) {
      throw new IllegalArgumentException(SPEC_FILE + ": " + e.getMessage(), e);
    }
    return Optional.of(b.build());
  }

  /**
   * Checks the spec against the model's signatures and loads the tokenizer.
   *
   * @throws IllegalArgumentException naming the spec field that is wrong
   */
  static Encoder create(SavedModel model, EncoderSpec spec, ImageLimits limits) {
    return create(model, spec, limits, null);
  }

  /**
   * As {@link #create(SavedModel, EncoderSpec, ImageLimits)}; with {@code batching}, makes a
   * queue for each of the encoder's signatures.
   *
   * @param batching null: {@link #encodeTexts} and {@link #encodeImages} run directly
   */
  static Encoder create(SavedModel model, EncoderSpec spec, ImageLimits limits, @Nullable Batching batching) {
    if (!spec.hasText() && !spec.hasImage()) {
      throw new IllegalArgumentException(SPEC_FILE + " names neither a text nor an image encoder");
    }
    if (spec.getLogitScale() < 0) {
      throw new IllegalArgumentException(SPEC_FILE + ": logit_scale must not be negative");
    }
    ImageSide image = spec.hasImage() ? imageSide(model, spec.getImage(), limits) : null;
    TextSide text = spec.hasText() ? textSide(model, spec.getText()) : null;
    return new Encoder(model, spec, text, image, batching);
  }

  private static TextSide textSide(SavedModel model, TextEncoderSpec t) {
    SignatureInfo sig = signature(model, t.getSignature(), "text.signature");
    TensorSpec ids = input(sig, t.getInputIds(), "text.input_ids");
    if (ids.dtype().filter(d -> d == DType.INT32 || d == DType.INT64).isEmpty()) {
      throw new IllegalArgumentException(SPEC_FILE + ": text.input_ids '" + t.getInputIds() + "' must be INT32 or INT64");
    }
    TensorSpec mask = t.getAttentionMask().isEmpty() ? null : input(sig, t.getAttentionMask(), "text.attention_mask");
    int fed = mask == null ? 1 : 2;
    if (sig.inputs().size() != fed) {
      throw new IllegalArgumentException(SPEC_FILE + ": text signature '" + sig.name() + "' takes inputs "
          + sig.inputs().keySet() + "; the spec feeds only input_ids" + (mask == null ? "" : " and attention_mask"));
    }
    String output = output(sig, t.getOutput(), "text.output");
    if (t.getContextLength() <= 0) {
      throw new IllegalArgumentException(SPEC_FILE + ": text.context_length must be positive");
    }
    String file = t.getTokenizer().isEmpty() ? "tokenizer.json" : t.getTokenizer();
    Path tokenizerPath = model.dir().resolve("assets").resolve(file);
    if (!Files.isRegularFile(tokenizerPath)) {
      throw new IllegalArgumentException(SPEC_FILE + ": text.tokenizer '" + file + "' is not in assets/");
    }
    TextTokenizer tokenizer = TextTokenizer.load(tokenizerPath, t);
    return new TextSide(tokenizer, sig, ids, mask, output, dimension(sig, output));
  }

  private static ImageSide imageSide(SavedModel model, ImageEncoderSpec i, ImageLimits limits) {
    SignatureInfo sig = signature(model, i.getSignature(), "image.signature");
    TensorSpec pixels = input(sig, i.getInput(), "image.input");
    if (sig.inputs().size() != 1) {
      throw new IllegalArgumentException(SPEC_FILE + ": image signature '" + sig.name() + "' takes inputs "
          + sig.inputs().keySet() + "; the spec feeds only " + i.getInput());
    }
    String output = output(sig, i.getOutput(), "image.output");
    ImagePreprocessor preprocessor;
    try {
      preprocessor = new ImagePreprocessor(i, limits);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(SPEC_FILE + ": " + e.getMessage(), e);
    }
    return new ImageSide(preprocessor, sig, pixels, output, dimension(sig, output));
  }

  private static SignatureInfo signature(SavedModel model, String name, String field) {
    SignatureInfo sig = model.signatures().get(name);
    if (sig == null) {
      throw new IllegalArgumentException(SPEC_FILE + ": " + field + " '" + name + "' is not a signature of the model; signatures: "
          + model.signatures().keySet());
    }
    return sig;
  }

  private static TensorSpec input(SignatureInfo sig, String key, String field) {
    TensorSpec spec = sig.inputs().get(key);
    if (spec == null) {
      throw new IllegalArgumentException(SPEC_FILE + ": " + field + " '" + key + "' is not an input of signature '"
          + sig.name() + "'; inputs: " + sig.inputs().keySet());
    }
    return spec;
  }

  private static String output(SignatureInfo sig, String key, String field) {
    if (!sig.outputs().containsKey(key)) {
      throw new IllegalArgumentException(SPEC_FILE + ": " + field + " '" + key + "' is not an output of signature '"
          + sig.name() + "'; outputs: " + sig.outputs().keySet());
    }
    return key;
  }

  private static int dimension(SignatureInfo sig, String output) {
    TensorSpec out = sig.outputs().get(output);
    long[] shape = out.shape();
    return out.rankKnown() && shape.length == 2 && shape[1] > 0 ? (int) shape[1] : 0;
  }

  public EncoderSpec spec() {
    return spec;
  }

  public boolean encodesText() {
    return text != null;
  }

  public boolean encodesImages() {
    return image != null;
  }

  /** Softmax scale for zero-shot scores. */
  public float logitScale() {
    return spec.getLogitScale() > 0 ? spec.getLogitScale() : DEFAULT_LOGIT_SCALE;
  }

  /** Embedding length as the signatures declare it; 0 when they do not fix it. */
  public int dimension() {
    return text != null && text.dimension() > 0 ? text.dimension() : image != null ? image.dimension() : 0;
  }

  /** @throws InvalidInputException for empty or too long text, or a model without a text encoder */
  public TextTokenizer.Tokens tokenize(String input) {
    if (text == null) {
      throw new InvalidInputException("is text, but model version has no text encoder (see GetModelMetadata)");
    }
    return text.tokenizer().encode(input);
  }

  /** @throws InvalidInputException for an image that cannot be decoded or is over the limits */
  public TensorData preprocessImage(byte[] encoded) {
    if (image == null) {
      throw new InvalidInputException("is an image, but model version has no image encoder (see GetModelMetadata)");
    }
    return image.preprocessor().preprocess(encoded);
  }

  /**
   * Embeds tokenized texts; vectors in order. With batching, the texts join the text queue
   * (and may share batches with other calls'); else they run as one batch.
   *
   * @throws io.jointspace.server.batching.QueueFullException when the queue has no room
   */
  public List<float[]> encodeTexts(List<TextTokenizer.Tokens> batch) {
    Objects.requireNonNull(text, "no text encoder");
    return textQueue == null ? runTexts(batch) : join(textQueue, batch);
  }

  /**
   * Embeds preprocessed images; vectors in order. With batching, the images join the image
   * queue; else they run as one batch.
   *
   * @throws io.jointspace.server.batching.QueueFullException when the queue has no room
   */
  public List<float[]> encodeImages(List<TensorData> batch) {
    Objects.requireNonNull(image, "no image encoder");
    return imageQueue == null ? runImages(batch) : join(imageQueue, batch);
  }

  /** Submits {@code items} and waits for their outputs, rethrowing the processor's exception. */
  private static <I> List<float[]> join(BatchQueue<I, float[]> queue, List<I> items) {
    try {
      return queue.submit(items).join();
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

  /** Runs tokenized texts through the text signature as one batch; vectors in order. */
  private List<float[]> runTexts(List<TextTokenizer.Tokens> batch) {
    TextSide t = Objects.requireNonNull(text, "no text encoder");
    int n = batch.size();
    int len = batch.get(0).ids().length;
    DType type = t.ids().dtype().orElseThrow();
    TensorData ids = packIds(batch, type, len, false);
    Map<String, TensorData> feed = t.mask() == null
        ? Map.of(t.ids().key(), ids)
        : Map.of(t.ids().key(), ids, t.mask().key(), packIds(batch, t.mask().dtype().orElse(type), len, true));
    TensorData out = model.run(t.sig(), feed, List.of(t.output())).get(t.output());
    return finish(TensorEmbedder.split(out, n, t.output()));
  }

  /** Runs preprocessed images through the image signature as one batch; vectors in order. */
  private List<float[]> runImages(List<TensorData> batch) {
    ImageSide i = Objects.requireNonNull(image, "no image encoder");
    TensorData pixels = TensorEmbedder.stack(batch);
    TensorData out = model.run(i.sig(), Map.of(i.pixels().key(), pixels), List.of(i.output())).get(i.output());
    return finish(TensorEmbedder.split(out, batch.size(), i.output()));
  }

  private static TensorData packIds(List<TextTokenizer.Tokens> batch, DType type, int len, boolean mask) {
    int width = type == DType.INT64 ? 8 : 4;
    ByteBuffer b = ByteBuffer.allocate(batch.size() * len * width).order(ByteOrder.LITTLE_ENDIAN);
    for (TextTokenizer.Tokens tokens : batch) {
      long[] values = mask ? tokens.attentionMask() : tokens.ids();
      for (long v : values) {
        if (width == 8) {
          b.putLong(v);
        } else {
          b.putInt((int) v);
        }
      }
    }
    return TensorData.ofBytes(type, new long[] {batch.size(), len}, b.array());
  }

  private List<float[]> finish(List<float[]> vectors) {
    if (!spec.hasNormalize() || spec.getNormalize()) {
      vectors.forEach(Encoder::normalize);
    }
    return vectors;
  }

  /** Scales {@code v} to unit length in place (a zero vector stays zero). */
  public static void normalize(float[] v) {
    double sum = 0;
    for (float x : v) {
      sum += (double) x * x;
    }
    if (sum > 0) {
      float inv = (float) (1 / Math.sqrt(sum));
      for (int i = 0; i < v.length; i++) {
        v[i] *= inv;
      }
    }
  }

  /**
   * Closes the batch queues and waits (up to {@link #DRAIN_TIMEOUT_SECONDS}) for the items
   * already queued to run, then releases the tokenizer. The session may close afterwards.
   */
  @Override
  public void close() {
    for (BatchQueue<?, ?> queue : new BatchQueue<?, ?>[] {textQueue, imageQueue}) {
      if (queue != null) {
        queue.close();
      }
    }
    for (BatchQueue<?, ?> queue : new BatchQueue<?, ?>[] {textQueue, imageQueue}) {
      if (queue != null) {
        awaitDrained(queue);
      }
    }
    if (text != null) {
      text.tokenizer().close();
    }
  }

  private static void awaitDrained(BatchQueue<?, ?> queue) {
    try {
      queue.drained().get(DRAIN_TIMEOUT_SECONDS, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException | TimeoutException e) {
      throw new IllegalStateException(queue + " did not drain within " + DRAIN_TIMEOUT_SECONDS + " s", e);
    }
  }

}
