package io.jointspace.trainer;

import com.google.protobuf.TextFormat;
import io.jointspace.config.v1.EncoderSpec;
import io.jointspace.config.v1.ImageEncoderSpec;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.tensorflow.Result;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * An exported shapes-clip version loaded back from disk the way a server would: the
 * SavedModel, the encoder spec in {@code assets.extra/} and the tokenizer it names.
 * Preprocessing follows the spec (mean, std, size, context length); embeddings are
 * L2-normalized when the spec says {@code normalize: true}. Not thread-safe.
 */
public final class ShapesClipModel implements AutoCloseable {
  private static final int CHUNK = 256;

  private final Path dir;
  private final EncoderSpec spec;
  private final SavedModelBundle bundle;
  private final WordTokenizer tokenizer;

  private ShapesClipModel(Path dir, EncoderSpec spec, SavedModelBundle bundle, WordTokenizer tokenizer) {
    this.dir = dir;
    this.spec = spec;
    this.bundle = bundle;
    this.tokenizer = tokenizer;
  }

  public static ShapesClipModel load(Path versionDir) throws IOException {
    EncoderSpec.Builder b = EncoderSpec.newBuilder();
    TextFormat.merge(Files.readString(versionDir.resolve("assets.extra").resolve(ModelExport.SPEC_FILE)), b);
    EncoderSpec spec = b.build();
    WordTokenizer tokenizer = WordTokenizer.load(versionDir.resolve("assets").resolve(spec.getText().getTokenizer()),
        spec.getText().getContextLength());
    SavedModelBundle bundle = SavedModelBundle.loader(versionDir.toString())
        .withTags("serve").withConfigProto(ClipTraining.sessionConfig(Runtime.getRuntime().availableProcessors()))
        .load();
    return new ShapesClipModel(versionDir, spec, bundle, tokenizer);
  }

  public EncoderSpec spec() {
    return spec;
  }

  public Path dir() {
    return dir;
  }

  public float logitScale() {
    return spec.getLogitScale() > 0 ? spec.getLogitScale() : 100f;
  }

  /** Image embeddings, in order; images must have the spec's size. */
  public List<float[]> encodeImages(List<BufferedImage> images) {
    ImageEncoderSpec is = spec.getImage();
    int w = is.getWidth();
    int h = is.getHeight();
    List<float[]> out = new ArrayList<>(images.size());
    for (int from = 0; from < images.size(); from += CHUNK) {
      List<BufferedImage> chunk = images.subList(from, Math.min(images.size(), from + CHUNK));
      float[] px = new float[chunk.size() * w * h * 3];
      for (int i = 0; i < chunk.size(); i++) {
        BufferedImage img = chunk.get(i);
        if (img.getWidth() != w || img.getHeight() != h) {
          throw new IllegalArgumentException("image " + (from + i) + " is " + img.getWidth() + "x" + img.getHeight()
              + ", the model takes " + w + "x" + h);
        }
        Pixels.write(img, px, i * w * h * 3);
      }
      try (TFloat32 t = TFloat32.tensorOf(Shape.of(chunk.size(), h, w, 3), DataBuffers.of(px, true, false));
           Result r = bundle.function(is.getSignature()).call(Map.of(is.getInput(), t))) {
        out.addAll(rows((TFloat32) r.get(is.getOutput()).orElseThrow()));
      }
    }
    return out;
  }

  /** Text embeddings, in order. */
  public List<float[]> encodeTexts(List<String> texts) {
    int len = tokenizer.contextLength();
    List<float[]> out = new ArrayList<>(texts.size());
    for (int from = 0; from < texts.size(); from += CHUNK) {
      List<String> chunk = texts.subList(from, Math.min(texts.size(), from + CHUNK));
      int[] ids = new int[chunk.size() * len];
      int[] mask = new int[chunk.size() * len];
      for (int i = 0; i < chunk.size(); i++) {
        int[][] t = tokenizer.encode(chunk.get(i));
        System.arraycopy(t[0], 0, ids, i * len, len);
        System.arraycopy(t[1], 0, mask, i * len, len);
      }
      try (TInt32 idT = TInt32.tensorOf(Shape.of(chunk.size(), len), DataBuffers.of(ids, true, false));
           TInt32 maskT = TInt32.tensorOf(Shape.of(chunk.size(), len), DataBuffers.of(mask, true, false));
           Result r = bundle.function(spec.getText().getSignature())
               .call(Map.of(spec.getText().getInputIds(), idT, spec.getText().getAttentionMask(), maskT))) {
        out.addAll(rows((TFloat32) r.get(spec.getText().getOutput()).orElseThrow()));
      }
    }
    return out;
  }

  private List<float[]> rows(TFloat32 t) {
    int n = (int) t.shape().get(0);
    int d = (int) t.shape().get(1);
    float[] all = new float[n * d];
    t.copyTo(DataBuffers.of(all, false, false));
    List<float[]> rows = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      float[] v = new float[d];
      System.arraycopy(all, i * d, v, 0, d);
      if (!spec.hasNormalize() || spec.getNormalize()) {
        normalize(v);
      }
      rows.add(v);
    }
    return rows;
  }

  static void normalize(float[] v) {
    double sum = 0;
    for (float x : v) {
      sum += x * x;
    }
    if (sum > 0) {
      float inv = (float) (1 / Math.sqrt(sum));
      for (int i = 0; i < v.length; i++) {
        v[i] *= inv;
      }
    }
  }

  static float dot(float[] a, float[] b) {
    float s = 0;
    for (int i = 0; i < a.length; i++) {
      s += a[i] * b[i];
    }
    return s;
  }

  @Override
  public void close() {
    bundle.close();
    tokenizer.close();
  }
}
