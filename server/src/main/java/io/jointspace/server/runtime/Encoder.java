package io.jointspace.server.runtime;

import com.google.protobuf.TextFormat;
import io.jointspace.config.v1.EncoderSpec;
import io.jointspace.config.v1.ImageEncoderSpec;
import io.jointspace.config.v1.TextEncoderSpec;
import io.jointspace.server.errors.InvalidInputException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import javax.annotation.Nullable;

/**
 * The multimodal side of one model version: its {@link EncoderSpec} (from
 * {@code assets.extra/jointspace.textproto}), tokenizer and image preprocessor, and which
 * signatures turn token ids and pixels into vectors of one space.
 *
 * <p>It prepares inputs ({@link #tokenize}, {@link #preprocessImage}: pure CPU work for the
 * preprocessing pool), turns prepared inputs into signature rows ({@link #textRows},
 * {@link #imageRows}) and rows of outputs into finished vectors ({@link #finish}); it never
 * runs the model itself ({@link EncodeCall} and {@link ModelVersion} do). Thread-safe. Owned by
 * its {@link ModelVersion}, which closes it.
 */
public final class Encoder implements AutoCloseable {
  public static final String SPEC_FILE = "assets.extra/jointspace.textproto";
  static final float DEFAULT_LOGIT_SCALE = 100f;

  private final EncoderSpec spec;
  @Nullable private final TextSide text;
  @Nullable private final ImageSide image;

  private record TextSide(TextTokenizer tokenizer, SignatureInfo sig, TensorSpec ids,
      @Nullable TensorSpec mask, String output, int dimension) {}

  private record ImageSide(ImagePreprocessor preprocessor, SignatureInfo sig, TensorSpec pixels,
      String output, int dimension) {}

  private Encoder(EncoderSpec spec, @Nullable TextSide text, @Nullable ImageSide image) {
    this.spec = spec;
    this.text = text;
    this.image = image;
  }

  /** The spec in a version folder, if it has one. */
  static Optional<EncoderSpec> readSpec(Path versionDir) {
    Path file = versionDir.resolve(SPEC_FILE);
    if (!Files.isRegularFile(file)) {
      return Optional.empty();
    }
    VersionFolder.of(versionDir).requireInside(file);
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
    if (!spec.hasText() && !spec.hasImage()) {
      throw new IllegalArgumentException(SPEC_FILE + " names neither a text nor an image encoder");
    }
    if (spec.getLogitScale() < 0) {
      throw new IllegalArgumentException(SPEC_FILE + ": logit_scale must not be negative");
    }
    ImageSide image = spec.hasImage() ? imageSide(model, spec.getImage(), limits) : null;
    TextSide text = spec.hasText() ? textSide(model, spec.getText()) : null;
    return new Encoder(spec, text, image);
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
    Path tokenizerPath = VersionFolder.of(model.dir()).file("assets", file, SPEC_FILE + ": text.tokenizer");
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

  /** The signature that embeds texts; only when {@link #encodesText()}. */
  SignatureInfo textSignature() {
    return Objects.requireNonNull(text, "no text encoder").sig();
  }

  /** The signature that embeds images; only when {@link #encodesImages()}. */
  SignatureInfo imageSignature() {
    return Objects.requireNonNull(image, "no image encoder").sig();
  }

  /** The text inputs that hold token sequences (ids, and the mask when there is one). */
  Set<String> sequenceInputs() {
    TextSide t = Objects.requireNonNull(text, "no text encoder");
    return t.mask() == null ? Set.of(t.ids().key()) : Set.of(t.ids().key(), t.mask().key());
  }

  /** The spec's context length: texts are padded (or cut) to it. */
  int contextLength() {
    return spec.getText().getContextLength();
  }

  /** Whether the text signature takes sequences of any length (its sequence dimension is -1). */
  boolean dynamicLength() {
    TextSide t = Objects.requireNonNull(text, "no text encoder");
    return sequenceInputs().stream().allMatch(k -> {
      TensorSpec s = t.sig().inputs().get(k);
      return s.rankKnown() && s.shape().length == 2 && s.shape()[1] == -1;
    });
  }

  /** One row of the text signature per tokenized text, bucketed by its real token count. */
  List<Row> textRows(List<TextTokenizer.Tokens> batch) {
    TextSide t = Objects.requireNonNull(text, "no text encoder");
    DType type = t.ids().dtype().orElseThrow();
    DType maskType = t.mask() == null ? type : t.mask().dtype().orElse(type);
    List<String> fetch = List.of(t.output());
    List<Row> rows = new ArrayList<>(batch.size());
    for (TextTokenizer.Tokens tokens : batch) {
      Map<String, TensorData> inputs = t.mask() == null
          ? Map.of(t.ids().key(), ids(tokens.ids(), type))
          : Map.of(t.ids().key(), ids(tokens.ids(), type), t.mask().key(), ids(tokens.attentionMask(), maskType));
      rows.add(new Row(inputs, fetch, tokens.length(), true));
    }
    return rows;
  }

  /** One row of the image signature per preprocessed image. */
  List<Row> imageRows(List<TensorData> batch) {
    ImageSide i = Objects.requireNonNull(image, "no image encoder");
    List<String> fetch = List.of(i.output());
    List<Row> rows = new ArrayList<>(batch.size());
    for (TensorData pixels : batch) {
      rows.add(new Row(Map.of(i.pixels().key(), pixels), fetch));
    }
    return rows;
  }

  /** One text's ids (or mask) as a row of the given integer type. */
  private static TensorData ids(long[] values, DType type) {
    int width = type == DType.INT64 ? 8 : 4;
    ByteBuffer b = ByteBuffer.allocate(values.length * width).order(ByteOrder.LITTLE_ENDIAN);
    for (long v : values) {
      if (width == 8) {
        b.putLong(v);
      } else {
        b.putInt((int) v);
      }
    }
    return TensorData.ofBytes(type, new long[] {values.length}, b.array());
  }

  /** The text signature's output that holds the embedding. */
  String textOutput() {
    return Objects.requireNonNull(text, "no text encoder").output();
  }

  /** The image signature's output that holds the embedding. */
  String imageOutput() {
    return Objects.requireNonNull(image, "no image encoder").output();
  }

  /**
   * Each row's only output ({@code output}, what {@link #textRows} or {@link #imageRows}
   * fetch) as a vector, normalized when the spec asks for it.
   *
   * @throws InvalidInputException when the rows' vectors differ in length
   */
  List<float[]> finish(List<List<TensorData>> rows, String output) {
    List<float[]> vectors = new ArrayList<>(rows.size());
    for (List<TensorData> row : rows) {
      vectors.add(row.get(0).toFloats());
    }
    for (int k = 1; k < vectors.size(); k++) {
      if (vectors.get(k).length != vectors.get(0).length) {
        throw new InvalidInputException("output '" + output + "' gave rows of " + vectors.get(0).length
            + " and " + vectors.get(k).length + " values");
      }
    }
    if (!spec.hasNormalize() || spec.getNormalize()) {
      vectors.forEach(Similarity::normalize);
    }
    return vectors;
  }

  /** Releases the tokenizer; the queues have drained already. */
  @Override
  public void close() {
    if (text != null) {
      text.tokenizer().close();
    }
  }
}
