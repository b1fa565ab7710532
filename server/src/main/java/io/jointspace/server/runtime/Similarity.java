package io.jointspace.server.runtime;

import java.util.List;

/** The vector math of zero-shot scoring, in one place: unit length, cosine, softmax, mean. */
public final class Similarity {
  private Similarity() {}

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

  /** Cosine similarity; 0 when either vector is zero. */
  public static float cosine(float[] a, float[] b) {
    if (a.length != b.length) {
      throw new IllegalStateException("embeddings of " + a.length + " and " + b.length + " values");
    }
    double dot = 0;
    double na = 0;
    double nb = 0;
    for (int i = 0; i < a.length; i++) {
      dot += (double) a[i] * b[i];
      na += (double) a[i] * a[i];
      nb += (double) b[i] * b[i];
    }
    return na == 0 || nb == 0 ? 0f : (float) (dot / Math.sqrt(na * nb));
  }

  /** Softmax of {@code scale * x}, computed stably. */
  public static float[] softmax(float[] x, float scale) {
    double max = Double.NEGATIVE_INFINITY;
    for (float v : x) {
      max = Math.max(max, (double) scale * v);
    }
    double sum = 0;
    double[] e = new double[x.length];
    for (int i = 0; i < x.length; i++) {
      e[i] = Math.exp((double) scale * x[i] - max);
      sum += e[i];
    }
    float[] p = new float[x.length];
    for (int i = 0; i < x.length; i++) {
      p[i] = (float) (e[i] / sum);
    }
    return p;
  }

  /**
   * The mean of the vectors each scaled to unit length, scaled to unit length again (a label's
   * vector from its template vectors, as CLIP's zero-shot recipe does).
   */
  public static float[] normalizedMean(List<float[]> vectors) {
    float[] mean = new float[vectors.get(0).length];
    for (float[] original : vectors) {
      float[] v = original.clone();
      normalize(v);
      for (int d = 0; d < mean.length; d++) {
        mean[d] += v[d] / vectors.size();
      }
    }
    normalize(mean);
    return mean;
  }
}
