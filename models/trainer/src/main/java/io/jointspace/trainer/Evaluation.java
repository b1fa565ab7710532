package io.jointspace.trainer;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Scores one exported version on scenes the trainer never rendered (a different seed).
 *
 * <ul>
 *   <li>Zero-shot top-1: images of the held-out color+shape combinations (and, for
 *       comparison, of the seen ones) are classified among all 48 labels. Each label's text
 *       embedding is the mean over {@link Captions#ZERO_SHOT_TEMPLATES} ("a photo of a red
 *       circle." ...), re-normalized; class probabilities are softmax(logit_scale · cosine).
 *   <li>Recall@k over {@code pairs} (image, canonical caption) pairs. Captions repeat (480
 *       distinct ones exist), so a retrieved item is a hit when its caption equals the
 *       query's own caption: text→image ranks all images for each caption, image→text ranks
 *       all captions (duplicates included, ties broken by index) for each image.
 * </ul>
 */
public final class Evaluation {
  /**
   * Default evaluation seed: held-out images use it, seen-combination images seed + 1, the
   * retrieval pairs seed + 2. Training uses base seed (2026 by default) + version.
   */
  public static final long DEFAULT_SEED = 424_242L;

  private Evaluation() {}

  /** One version's scores; fractions in 0..1. */
  public record Scores(String version, int dimension, float logitScale, int heldOutImages, double zeroShotHeldOut,
      double zeroShotHeldOutJpeg, double heldOutProbability, double zeroShotSeen, int pairs, double textToImageR1, double textToImageR5,
      double imageToTextR1, double imageToTextR5, long bytes) {}

  public static Scores evaluate(ShapesClipModel model, long seed, int perHeldOutCombo, int perSeenCombo, int pairs)
      throws IOException {
    int side = model.spec().getImage().getWidth();
    List<Combo> labels = Combo.all();
    List<float[]> classes = labelEmbeddings(model, labels);

    SceneGenerator heldOutScenes = new SceneGenerator(seed, Split.HELD_OUT, side, side);
    List<Scene> heldOut = new ArrayList<>();
    for (Combo c : Combo.HELD_OUT.stream().sorted(java.util.Comparator.comparing(Combo::color)).toList()) {
      for (int i = 0; i < perHeldOutCombo; i++) {
        heldOut.add(heldOutScenes.next(c));
      }
    }
    double[] held = zeroShot(model, heldOutScenes, heldOut, labels, classes, image -> image);
    double[] heldJpeg = zeroShot(model, heldOutScenes, heldOut, labels, classes, image -> Jpeg.roundTrip(image, 0.75f));

    SceneGenerator seenScenes = new SceneGenerator(seed + 1, Split.TRAIN, side, side);
    List<Scene> seen = new ArrayList<>();
    for (Combo c : labels) {
      if (!c.heldOut()) {
        for (int i = 0; i < perSeenCombo; i++) {
          seen.add(seenScenes.next(c));
        }
      }
    }
    double[] seenScores = zeroShot(model, seenScenes, seen, labels, classes, image -> image);

    SceneGenerator pairScenes = new SceneGenerator(seed + 2, Split.ALL, side, side);
    List<Scene> scenes = pairScenes.next(pairs);
    List<String> captions = scenes.stream().map(Scene::caption).toList();
    List<float[]> images = model.encodeImages(render(pairScenes, scenes));
    List<float[]> texts = model.encodeTexts(captions);
    double[] t2i = recall(texts, images, captions, captions);
    double[] i2t = recall(images, texts, captions, captions);

    return new Scores(model.dir().getFileName().toString(), classes.get(0).length, model.logitScale(),
        heldOut.size(), held[0], heldJpeg[0], held[1], seenScores[0], pairs, t2i[0], t2i[1], i2t[0], i2t[1], size(model.dir()));
  }

  /** Mean of the template embeddings per label, re-normalized. */
  static List<float[]> labelEmbeddings(ShapesClipModel model, List<Combo> labels) {
    List<String> prompts = new ArrayList<>();
    for (Combo c : labels) {
      for (String t : Captions.ZERO_SHOT_TEMPLATES) {
        prompts.add(Captions.label(c, t));
      }
    }
    List<float[]> e = model.encodeTexts(prompts);
    int k = Captions.ZERO_SHOT_TEMPLATES.size();
    List<float[]> out = new ArrayList<>();
    for (int i = 0; i < labels.size(); i++) {
      float[] mean = new float[e.get(0).length];
      for (int j = 0; j < k; j++) {
        float[] v = e.get(i * k + j);
        for (int d = 0; d < mean.length; d++) {
          mean[d] += v[d] / k;
        }
      }
      ShapesClipModel.normalize(mean);
      out.add(mean);
    }
    return out;
  }

  /** {top-1 accuracy, mean softmax probability of the true label}, of the images after {@code transform}. */
  private static double[] zeroShot(ShapesClipModel model, SceneGenerator gen, List<Scene> scenes, List<Combo> labels,
      List<float[]> classes, java.util.function.UnaryOperator<java.awt.image.BufferedImage> transform) {
    List<float[]> images = model.encodeImages(render(gen, scenes).stream().map(transform).toList());
    int correct = 0;
    double probability = 0;
    for (int i = 0; i < scenes.size(); i++) {
      double[] logits = new double[classes.size()];
      int best = 0;
      double max = Double.NEGATIVE_INFINITY;
      for (int c = 0; c < classes.size(); c++) {
        logits[c] = model.logitScale() * ShapesClipModel.dot(images.get(i), classes.get(c));
        if (logits[c] > max) {
          max = logits[c];
          best = c;
        }
      }
      double sum = 0;
      for (double l : logits) {
        sum += Math.exp(l - max);
      }
      int truth = labels.indexOf(scenes.get(i).combo());
      probability += Math.exp(logits[truth] - max) / sum;
      if (best == truth) {
        correct++;
      }
    }
    return new double[] {(double) correct / scenes.size(), probability / scenes.size()};
  }

  /** {R@1, R@5}: for each query, whether a top-k candidate carries the query's caption. */
  static double[] recall(List<float[]> queries, List<float[]> candidates, List<String> queryCaptions,
      List<String> candidateCaptions) {
    int hit1 = 0;
    int hit5 = 0;
    for (int q = 0; q < queries.size(); q++) {
      float[] scores = new float[candidates.size()];
      for (int c = 0; c < candidates.size(); c++) {
        scores[c] = ShapesClipModel.dot(queries.get(q), candidates.get(c));
      }
      int[] top = topK(scores, 5);
      String want = queryCaptions.get(q);
      for (int r = 0; r < top.length; r++) {
        if (candidateCaptions.get(top[r]).equals(want)) {
          if (r == 0) {
            hit1++;
          }
          hit5++;
          break;
        }
      }
    }
    return new double[] {(double) hit1 / queries.size(), (double) hit5 / queries.size()};
  }

  /** Indices of the k highest scores, best first; ties go to the lower index. */
  static int[] topK(float[] scores, int k) {
    int[] top = new int[Math.min(k, scores.length)];
    boolean[] taken = new boolean[scores.length];
    for (int r = 0; r < top.length; r++) {
      int best = -1;
      for (int i = 0; i < scores.length; i++) {
        if (!taken[i] && (best < 0 || scores[i] > scores[best])) {
          best = i;
        }
      }
      taken[best] = true;
      top[r] = best;
    }
    return top;
  }

  private static List<BufferedImage> render(SceneGenerator gen, List<Scene> scenes) {
    return scenes.stream().map(gen::render).toList();
  }

  static long size(Path dir) throws IOException {
    try (Stream<Path> files = Files.walk(dir)) {
      return files.filter(Files::isRegularFile).mapToLong(p -> {
        try {
          return Files.size(p);
        } catch (IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      }).sum();
    }
  }

  /** The scores as a markdown table. */
  public static String markdown(List<Scores> all) {
    StringBuilder b = new StringBuilder();
    b.append("| version | dim | logit scale | zero-shot top-1, held-out combos | same, as JPEG q75 | p(true label), held-out"
        + " | zero-shot top-1, seen combos | text→image R@1 | text→image R@5 | image→text R@1 | image→text R@5 | size |\n");
    b.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
    for (Scores s : all) {
      b.append(String.format(java.util.Locale.ROOT,
          "| %s | %d | %.1f | %.1f%% (n=%d) | %.1f%% | %.2f | %.1f%% | %.1f%% | %.1f%% | %.1f%% | %.1f%% | %.2f MB |%n",
          s.version(), s.dimension(), s.logitScale(), 100 * s.zeroShotHeldOut(), s.heldOutImages(),
          100 * s.zeroShotHeldOutJpeg(), s.heldOutProbability(), 100 * s.zeroShotSeen(), 100 * s.textToImageR1(), 100 * s.textToImageR5(),
          100 * s.imageToTextR1(), 100 * s.imageToTextR5(), s.bytes() / 1e6));
    }
    return b.toString();
  }
}
