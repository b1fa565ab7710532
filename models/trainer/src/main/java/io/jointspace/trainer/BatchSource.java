package io.jointspace.trainer;

import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;

/**
 * Renders training batches on one background thread, a few steps ahead of the session.
 *
 * <p>Scenes come from the TRAIN split only (held-out combinations never appear). Each scene
 * gets one random true description ({@link Captions#sample}); because short descriptions
 * ("a red circle") are true of several scenes in a batch, the contrastive targets are soft:
 * every (image, text) pair where the text describes the image counts as a positive. One
 * thread and a seeded generator make the stream deterministic.
 */
final class BatchSource implements AutoCloseable {
  private static final Batch END = new Batch(0, null, null, null, null, null);

  private final BlockingQueue<Batch> queue = new ArrayBlockingQueue<>(3);
  private final Thread thread;
  private volatile RuntimeException failure;

  BatchSource(long seed, int batchSize, int steps, int imageSize, WordTokenizer tokenizer) {
    SceneGenerator scenes = new SceneGenerator(seed, Split.TRAIN, imageSize, imageSize);
    SplittableRandom texts = new SplittableRandom(seed ^ 0x5DEECE66DL);
    thread = new Thread(() -> {
      try {
        for (int step = 0; step < steps; step++) {
          queue.put(make(scenes, texts, batchSize, tokenizer));
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } catch (RuntimeException e) {
        failure = e;
        queue.offer(END);
      }
    }, "batch-source");
    thread.setDaemon(true);
    thread.start();
  }

  /** The next batch; blocks while it renders. */
  Batch take() throws InterruptedException {
    Batch b = queue.take();
    if (b == END) {
      throw new IllegalStateException("batch rendering failed", failure);
    }
    return b;
  }

  static Batch make(SceneGenerator scenes, SplittableRandom texts, int n, WordTokenizer tokenizer) {
    int side = scenes.width();
    int len = tokenizer.contextLength();
    List<Scene> batch = scenes.next(n);
    float[] pixels = new float[n * side * side * 3];
    int[] ids = new int[n * len];
    int[] mask = new int[n * len];
    Description[] descriptions = new Description[n];
    for (int i = 0; i < n; i++) {
      Scene s = batch.get(i);
      java.awt.image.BufferedImage image = scenes.render(s);
      // 60% of the images go through JPEG at a random quality (0.4 to 0.95), so the model
      // learns to ignore compression artifacts and chroma subsampling: clients send JPEGs.
      if (texts.nextDouble() < 0.6) {
        image = Jpeg.roundTrip(image, 0.4f + 0.55f * (float) texts.nextDouble());
      }
      Pixels.write(image, pixels, i * side * side * 3);
      descriptions[i] = Captions.sample(s, texts);
      int[][] tokens = tokenizer.encode(descriptions[i].text());
      System.arraycopy(tokens[0], 0, ids, i * len, len);
      System.arraycopy(tokens[1], 0, mask, i * len, len);
    }
    float[] imageTargets = new float[n * n];
    float[] textTargets = new float[n * n];
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < n; j++) {
        if (descriptions[j].describes(batch.get(i))) {
          imageTargets[i * n + j] = 1;
          textTargets[j * n + i] = 1;
        }
      }
    }
    normalizeRows(imageTargets, n);
    normalizeRows(textTargets, n);
    return new Batch(n, pixels, ids, mask, imageTargets, textTargets);
  }

  private static void normalizeRows(float[] m, int n) {
    for (int i = 0; i < n; i++) {
      float sum = 0;
      for (int j = 0; j < n; j++) {
        sum += m[i * n + j];
      }
      for (int j = 0; j < n; j++) {
        m[i * n + j] /= sum;
      }
    }
  }

  @Override
  public void close() {
    thread.interrupt();
  }
}
