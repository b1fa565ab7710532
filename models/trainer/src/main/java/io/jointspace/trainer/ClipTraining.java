package io.jointspace.trainer;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.core.Variable;
import org.tensorflow.op.random.TruncatedNormal;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * Trains one shapes-clip version in graph mode: the {@link DualEncoder} towers, a symmetric
 * contrastive (InfoNCE) loss with soft targets over a batch, a learned temperature
 * ({@code logit_scale = exp(s)}, s clipped so the scale stays at most 100, CLIP's rule) and
 * {@link ScheduledAdam}.
 *
 * <p>Seeds: the config's seed drives the scene stream, the text sampling and every weight
 * initializer (each op gets {@code seed} plus its own {@code seed2}, the way a graph-level
 * seed works in TensorFlow).
 */
public final class ClipTraining {
  static final float MAX_LOGIT_SCALE = 100f;
  static final float INITIAL_LOGIT_SCALE = 1 / 0.07f;

  private ClipTraining() {}

  /** Runs {@code config}; progress lines go to {@code log} every {@code logEvery} steps. */
  public static TrainedModel train(TrainConfig config, PrintStream log, int logEvery) throws IOException, InterruptedException {
    ModelConfig mc = config.model();
    int side = mc.imageSize();
    int len = mc.contextLength();
    Path tokenizerFile = Files.createTempFile("shapes-tokenizer", ".json");
    try (WordTokenizer tokenizer = loadTokenizer(tokenizerFile, len);
         Graph g = new Graph();
         Session s = new Session(g, sessionConfig(config.threads()))) {
      Ops tf = Ops.create(g);
      Placeholder<TFloat32> pixels = tf.withName("pixels").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, side, side, 3)));
      Placeholder<TInt32> ids = tf.withName("input_ids").placeholder(TInt32.class, Placeholder.shape(Shape.of(-1, len)));
      Placeholder<TInt32> mask = tf.withName("attention_mask").placeholder(TInt32.class, Placeholder.shape(Shape.of(-1, len)));
      Placeholder<TFloat32> imageTargets = tf.withName("image_targets").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, -1)));
      Placeholder<TFloat32> textTargets = tf.withName("text_targets").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, -1)));

      Trainable weights = new Trainable(tf, config.seed());
      Operand<TFloat32> image = DualEncoder.image(tf, weights, mc, pixels);
      Operand<TFloat32> text = DualEncoder.text(tf, weights, mc, ids, mask);
      Variable<TFloat32> logScale = tf.withName("log_logit_scale").variable(tf.constant((float) Math.log(INITIAL_LOGIT_SCALE)));
      Operand<TFloat32> scale = tf.math.exp(logScale);
      Operand<TFloat32> logits = DualEncoder.logits(tf, image, text, scale);
      Operand<TFloat32> imageLoss = softCrossEntropy(tf, logits, imageTargets);
      Operand<TFloat32> textLoss = softCrossEntropy(tf, tf.linalg.transpose(logits, tf.constant(new int[] {1, 0})), textTargets);
      Operand<TFloat32> loss = tf.math.mul(tf.math.add(imageLoss, textLoss), tf.constant(0.5f));

      ScheduledAdam adam = new ScheduledAdam(g);
      Op minimize = adam.minimize(loss);
      Op clip = tf.assign(logScale, tf.math.minimum(logScale, tf.constant((float) Math.log(MAX_LOGIT_SCALE))));
      s.initialize();

      long start = System.nanoTime();
      float lastLoss = Float.NaN;
      double window = 0;
      int windowSteps = 0;
      try (BatchSource source = new BatchSource(config.seed(), config.batch(), config.steps(), side, tokenizer)) {
        for (int step = 0; step < config.steps(); step++) {
          Batch b = source.take();
          int n = b.size();
          try (TFloat32 px = TFloat32.tensorOf(Shape.of(n, side, side, 3), DataBuffers.of(b.pixels(), true, false));
               TInt32 idT = TInt32.tensorOf(Shape.of(n, len), DataBuffers.of(b.ids(), true, false));
               TInt32 maskT = TInt32.tensorOf(Shape.of(n, len), DataBuffers.of(b.mask(), true, false));
               TFloat32 it = TFloat32.tensorOf(Shape.of(n, n), DataBuffers.of(b.imageTargets(), true, false));
               TFloat32 tt = TFloat32.tensorOf(Shape.of(n, n), DataBuffers.of(b.textTargets(), true, false));
               TFloat32 lr = TFloat32.scalarOf(config.learningRateAt(step));
               Result r = s.runner()
                   .feed(pixels, px).feed(ids, idT).feed(mask, maskT)
                   .feed(imageTargets, it).feed(textTargets, tt).feed(adam.learningRate(), lr)
                   .addTarget(minimize).fetch(loss).run()) {
            lastLoss = ((TFloat32) r.get(0)).getFloat();
          }
          s.run(clip);
          window += lastLoss;
          windowSteps++;
          if (!Float.isFinite(lastLoss)) {
            throw new IllegalStateException("v" + config.version() + ": loss is " + lastLoss + " at step " + step);
          }
          if (logEvery > 0 && ((step + 1) % logEvery == 0 || step + 1 == config.steps())) {
            double secs = (System.nanoTime() - start) / 1e9;
            log.printf("v%d step %4d/%d  loss %.4f  logit_scale %.2f  lr %.5f  %.1fs (%.0f ms/step)%n",
                config.version(), step + 1, config.steps(), window / windowSteps, fetchScalar(s, scale),
                config.learningRateAt(step), secs, 1000 * secs / (step + 1));
            window = 0;
            windowSteps = 0;
          }
        }
      }
      double seconds = (System.nanoTime() - start) / 1e9;
      Map<String, float[]> values = new LinkedHashMap<>();
      for (Map.Entry<String, Variable<TFloat32>> e : weights.variables.entrySet()) {
        try (Result r = s.runner().fetch(e.getValue()).run()) {
          TFloat32 t = (TFloat32) r.get(0);
          float[] v = new float[(int) t.size()];
          t.copyTo(DataBuffers.of(v, false, false));
          values.put(e.getKey(), v);
        }
      }
      return new TrainedModel(config, values, weights.shapes, fetchScalar(s, scale), lastLoss, seconds);
    } finally {
      Files.deleteIfExists(tokenizerFile);
    }
  }

  private static WordTokenizer loadTokenizer(Path file, int contextLength) throws IOException {
    WordTokenizer.write(file);
    return WordTokenizer.load(file, contextLength);
  }

  static ConfigProto sessionConfig(int threads) {
    return ConfigProto.newBuilder()
        .setIntraOpParallelismThreads(threads)
        .setInterOpParallelismThreads(Math.min(2, threads))
        .build();
  }

  /** mean over rows of -Σ_j targets_ij · log softmax(logits_i)_j. */
  private static Operand<TFloat32> softCrossEntropy(Ops tf, Operand<TFloat32> logits, Operand<TFloat32> targets) {
    Operand<TFloat32> perRow = tf.reduceSum(tf.math.mul(targets, tf.nn.logSoftmax(logits)), tf.constant(1));
    return tf.math.neg(tf.math.mean(perRow, tf.constant(0)));
  }

  private static float fetchScalar(Session s, Operand<TFloat32> op) {
    try (Result r = s.runner().fetch(op).run()) {
      return ((TFloat32) r.get(0)).getFloat();
    }
  }

  /** Weights as trainable variables with seeded truncated-normal (or zero) initializers. */
  private static final class Trainable implements DualEncoder.Weights {
    private final Ops tf;
    private final long seed;
    private long counter;
    final Map<String, Variable<TFloat32>> variables = new LinkedHashMap<>();
    final Map<String, long[]> shapes = new LinkedHashMap<>();

    Trainable(Ops tf, long seed) {
      this.tf = tf;
      this.seed = seed;
    }

    @Override
    public Operand<TFloat32> get(String name, long[] shape, float std) {
      Operand<TFloat32> init;
      if (std == 0) {
        init = tf.zeros(tf.constant(shape), TFloat32.class);
      } else {
        // A normal truncated at 2 sigma has standard deviation 0.88 of the untruncated one.
        init = tf.math.mul(tf.random.truncatedNormal(tf.constant(shape), TFloat32.class,
            TruncatedNormal.seed(seed), TruncatedNormal.seed2(++counter)), tf.constant(std / 0.8796f));
      }
      Variable<TFloat32> v = tf.withName(name).variable(init);
      variables.put(name, v);
      shapes.put(name, shape);
      return v;
    }
  }
}
