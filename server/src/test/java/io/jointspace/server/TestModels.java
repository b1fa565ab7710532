package io.jointspace.server;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Session;
import org.tensorflow.SessionFunction;
import org.tensorflow.Signature;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.core.Variable;
import org.tensorflow.types.TBool;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TFloat64;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;
import org.tensorflow.types.TString;
import org.tensorflow.types.TUint8;

/**
 * Writes small real SavedModels with TF Java, for tests that must not depend on files
 * outside the repository.
 *
 * <p>The "encoder" model: {@code serving_default} maps x FP32 [-1,4] to
 * tanh(scale * x·W) FP32 [-1,3], with W a variable ({@link #W}); further signatures cover
 * each dtype: {@code f64} (a*2), {@code i32} (i+1), {@code i64} (v*3), {@code bool} (not),
 * {@code bytes} (identity), {@code u8} (cast to FP32), {@code add} (a+b, two inputs) and
 * {@code square} (an unbatched FP32 scalar, squared).
 */
public final class TestModels {
  public static final float[][] W = {
    {0.5f, -0.25f, 0.1f},
    {0.2f, 0.3f, -0.4f},
    {-0.6f, 0.05f, 0.7f},
    {0.15f, 0.45f, -0.1f},
  };

  private TestModels() {}

  /** The shipped demo model, models/shapes-clip, from the server module or the project root. */
  public static Path demoModel() {
    for (Path p : java.util.List.of(Path.of("..", "models", "shapes-clip"), Path.of("models", "shapes-clip"))) {
      if (java.nio.file.Files.isDirectory(p)) {
        return p.toAbsolutePath().normalize();
      }
    }
    throw new IllegalStateException("models/shapes-clip not found from " + Path.of("").toAbsolutePath());
  }

  /** Writes the encoder model into {@code versionDir} (created). */
  public static void writeEncoder(Path versionDir, float scale) throws IOException {
    Files.createDirectories(versionDir.getParent());
    try (Graph g = new Graph(); Session s = new Session(g)) {
      Ops tf = Ops.create(g);
      Placeholder<TFloat32> x = tf.withName("x").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, 4)));
      Variable<TFloat32> w = tf.withName("w").variable(tf.constant(W));
      Operand<TFloat32> y = tf.withName("embedding").math.tanh(
          tf.math.mul(tf.linalg.matMul(x, w), tf.constant(scale)));

      Placeholder<TFloat64> a64 = tf.withName("a64").placeholder(TFloat64.class, Placeholder.shape(Shape.of(-1, 2)));
      Operand<TFloat64> f64 = tf.math.mul(a64, tf.constant(2.0));
      Placeholder<TInt32> i32 = tf.withName("i32").placeholder(TInt32.class, Placeholder.shape(Shape.of(-1)));
      Operand<TInt32> i32Out = tf.math.add(i32, tf.constant(1));
      Placeholder<TInt64> i64 = tf.withName("i64").placeholder(TInt64.class, Placeholder.shape(Shape.of(-1, 2)));
      Operand<TInt64> i64Out = tf.math.mul(i64, tf.constant(3L));
      Placeholder<TBool> b = tf.withName("b").placeholder(TBool.class, Placeholder.shape(Shape.of(-1)));
      Operand<TBool> bOut = tf.math.logicalNot(b);
      Placeholder<TString> str = tf.withName("str").placeholder(TString.class, Placeholder.shape(Shape.of(-1)));
      Operand<TString> strOut = tf.identity(str);
      Placeholder<TUint8> u8 = tf.withName("u8").placeholder(TUint8.class, Placeholder.shape(Shape.of(-1, 2)));
      Operand<TFloat32> u8Out = tf.dtypes.cast(u8, TFloat32.class);
      Placeholder<TFloat32> addA = tf.withName("add_a").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, 2)));
      Placeholder<TFloat32> addB = tf.withName("add_b").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, 2)));
      Operand<TFloat32> sum = tf.math.add(addA, addB);
      Placeholder<TFloat32> sq = tf.withName("sq").placeholder(TFloat32.class, Placeholder.shape(Shape.scalar()));
      Operand<TFloat32> sqOut = tf.math.mul(sq, sq);

      s.initialize();
      SavedModelBundle.exporter(versionDir.toString())
          .withSession(s)
          .withFunctions(
              fn(s, Signature.builder().key("serving_default").input("x", x).output("embedding", y)),
              fn(s, Signature.builder().key("f64").input("a", a64).output("out", f64)),
              fn(s, Signature.builder().key("i32").input("i", i32).output("out", i32Out)),
              fn(s, Signature.builder().key("i64").input("v", i64).output("out", i64Out)),
              fn(s, Signature.builder().key("bool").input("b", b).output("out", bOut)),
              fn(s, Signature.builder().key("bytes").input("s", str).output("out", strOut)),
              fn(s, Signature.builder().key("u8").input("u", u8).output("out", u8Out)),
              fn(s, Signature.builder().key("add").input("a", addA).input("b", addB).output("sum", sum)),
              fn(s, Signature.builder().key("square").input("s", sq).output("out", sqOut)))
          .export();
    }
  }

  private static SessionFunction fn(Session s, Signature.Builder b) {
    return SessionFunction.create(b.build(), s);
  }

  /** What the encoder's serving_default returns for one row. */
  public static float[] expectedEmbedding(float[] x, float scale) {
    float[] out = new float[3];
    for (int j = 0; j < 3; j++) {
      float acc = 0;
      for (int i = 0; i < 4; i++) {
        acc += x[i] * W[i][j];
      }
      out[j] = (float) Math.tanh(acc * scale);
    }
    return out;
  }

  /** Words of {@link #writeClip}'s vocabulary, by id; 0 is [PAD], 1 is [UNK]. */
  public static final java.util.List<String> CLIP_VOCAB = java.util.List.of(
      "[PAD]", "[UNK]", "a", "photo", "of", "picture", "an", "image", "rendering", ".", "red", "green", "blue");

  /**
   * Writes a tiny two-tower encoder with an encoder spec, whose embeddings are readable by
   * hand: the text tower averages one-hot rows for the words "red", "green" and "blue"
   * (other words add zeros) and the image tower maps the mean normalized RGB of the image to
   * the same three axes. So a red image is closest to "red". Embedding dimension 3, images
   * 8x8, context length 8, pixels normalized with mean 0.5 and std 0.5.
   */
  public static void writeClip(Path versionDir, float logitScale) throws IOException {
    writeClip(versionDir, logitScale, false);
  }

  /**
   * As {@link #writeClip(Path, float)}; with {@code dynamicLength}, the text signature takes
   * token sequences of any length ({@code [-1, -1]}) and both towers add a fourth axis: for
   * a text, the length of the sequences it was fed divided by 100 (so a test can tell how far
   * a batch was padded), for an image 0.
   */
  public static void writeClip(Path versionDir, float logitScale, boolean dynamicLength) throws IOException {
    Files.createDirectories(versionDir.getParent());
    int len = 8;
    try (Graph g = new Graph(); Session s = new Session(g)) {
      Ops tf = Ops.create(g);
      float[][] table = new float[CLIP_VOCAB.size()][3];
      table[CLIP_VOCAB.indexOf("red")][0] = 1;
      table[CLIP_VOCAB.indexOf("green")][1] = 1;
      table[CLIP_VOCAB.indexOf("blue")][2] = 1;
      Shape sequences = Shape.of(-1, dynamicLength ? -1 : len);
      Placeholder<TInt32> ids = tf.withName("input_ids").placeholder(TInt32.class, Placeholder.shape(sequences));
      Placeholder<TInt32> mask = tf.withName("attention_mask").placeholder(TInt32.class, Placeholder.shape(sequences));
      Variable<TFloat32> embeddings = tf.withName("token_embeddings").variable(tf.constant(table));
      Operand<TFloat32> tokens = tf.gather(embeddings, ids, tf.constant(0));
      Operand<TFloat32> m = tf.expandDims(tf.dtypes.cast(mask, TFloat32.class), tf.constant(-1));
      Operand<TFloat32> summed = tf.reduceSum(tf.math.mul(tokens, m), tf.constant(1));
      Operand<TFloat32> count = tf.math.maximum(tf.reduceSum(m, tf.constant(1)), tf.constant(1f));
      Operand<TFloat32> text = tf.withName("text_embedding").math.div(summed, count);
      if (dynamicLength) { // [r, g, b, fed length / 100]
        Operand<TFloat32> fed = tf.math.div(tf.dtypes.cast(tf.gather(tf.shape(ids), tf.constant(1), tf.constant(0)), TFloat32.class),
            tf.constant(100f));
        Operand<TFloat32> column = tf.math.mul(tf.onesLike(tf.slice(text, tf.constant(new int[] {0, 0}),
            tf.constant(new int[] {-1, 1}))), fed);
        text = tf.withName("text_embedding_with_length").concat(java.util.List.of(text, column), tf.constant(1));
      }

      Placeholder<TFloat32> pixels = tf.withName("pixels").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, 8, 8, 3)));
      Variable<TFloat32> proj = tf.withName("image_projection").variable(tf.constant(dynamicLength
          ? new float[][] {{1, 0, 0, 0}, {0, 1, 0, 0}, {0, 0, 1, 0}}
          : new float[][] {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}}));
      Operand<TFloat32> meanRgb = tf.math.mean(pixels, tf.constant(new int[] {1, 2}));
      Operand<TFloat32> image = tf.withName("image_embedding").linalg.matMul(meanRgb, proj);

      s.initialize();
      SavedModelBundle.exporter(versionDir.toString())
          .withSession(s)
          .withFunctions(
              fn(s, Signature.builder().key("encode_text").input("input_ids", ids).input("attention_mask", mask)
                  .output("embedding", text)),
              fn(s, Signature.builder().key("encode_image").input("pixels", pixels).output("embedding", image)))
          .export();
    }
    StringBuilder vocab = new StringBuilder();
    for (int i = 0; i < CLIP_VOCAB.size(); i++) {
      vocab.append(i == 0 ? "" : ",").append('"').append(CLIP_VOCAB.get(i)).append("\":").append(i);
    }
    String tokenizer = "{\"version\":\"1.0\",\"truncation\":null,\"padding\":null,\"added_tokens\":["
        + "{\"id\":0,\"content\":\"[PAD]\",\"single_word\":false,\"lstrip\":false,\"rstrip\":false,\"normalized\":false,\"special\":true},"
        + "{\"id\":1,\"content\":\"[UNK]\",\"single_word\":false,\"lstrip\":false,\"rstrip\":false,\"normalized\":false,\"special\":true}],"
        + "\"normalizer\":{\"type\":\"Lowercase\"},\"pre_tokenizer\":{\"type\":\"Whitespace\"},\"post_processor\":null,"
        + "\"decoder\":null,\"model\":{\"type\":\"WordLevel\",\"vocab\":{" + vocab + "},\"unk_token\":\"[UNK]\"}}";
    Files.createDirectories(versionDir.resolve("assets"));
    Files.writeString(versionDir.resolve("assets/tokenizer.json"), tokenizer);
    Files.createDirectories(versionDir.resolve("assets.extra"));
    Files.writeString(versionDir.resolve("assets.extra/jointspace.textproto"), """
        text {
          signature: "encode_text"
          input_ids: "input_ids"
          attention_mask: "attention_mask"
          output: "embedding"
          tokenizer: "tokenizer.json"
          context_length: %d
          max_chars: 200
        }
        image {
          signature: "encode_image"
          input: "pixels"
          output: "embedding"
          width: 8
          height: 8
          resize: BILINEAR
          crop: CENTER_CROP
          mean: [0.5, 0.5, 0.5]
          std: [0.5, 0.5, 0.5]
        }
        normalize: true
        logit_scale: %s
        """.formatted(len, logitScale));
  }

  /**
   * Writes a model whose replies are much larger than its requests: {@code serving_default}
   * maps x FP32 [-1,1] to x repeated {@code width} times, FP32 [-1,width].
   */
  public static void writeWide(Path versionDir, int width) throws IOException {
    Files.createDirectories(versionDir.getParent());
    try (Graph g = new Graph(); Session s = new Session(g)) {
      Ops tf = Ops.create(g);
      Placeholder<TFloat32> x = tf.withName("x").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, 1)));
      Operand<TFloat32> y = tf.withName("wide").tile(x, tf.constant(new int[] {1, width}));
      SavedModelBundle.exporter(versionDir.toString())
          .withSession(s)
          .withFunctions(fn(s, Signature.builder().key("serving_default").input("x", x).output("wide", y)))
          .export();
    }
  }

  /** A version folder that is not a loadable SavedModel. */
  public static void writeBroken(Path versionDir) throws IOException {
    Files.createDirectories(versionDir);
    Files.write(versionDir.resolve("saved_model.pb"), "not a protobuf".getBytes(StandardCharsets.UTF_8));
  }
}
