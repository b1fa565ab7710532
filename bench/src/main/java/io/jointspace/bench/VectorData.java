package io.jointspace.bench;

import io.jointspace.server.runtime.Similarity;

import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

/**
 * Synthetic clustered vectors with metadata, from a fixed seed, and exact (brute-force)
 * nearest neighbours over them.
 *
 * <p>Item {@code i} belongs to cluster {@code c} (uniform over {@code clusters}); its vector is
 * {@code center[c] + spread * g}, with every center coordinate and every {@code g} coordinate
 * standard normal, then scaled to unit length (the collection's metric is cosine). Its
 * metadata is {@code {"n": i, "group": "g<0..9>", "shard": <0..99>}}, group and shard drawn
 * uniformly and independently of the cluster, so {@code group = "g0"} selects about 10% of
 * the items and {@code shard = 0} about 1%, spread over all clusters.
 */
final class VectorData {
  final int dimension;
  final float[][] vectors;
  final int[] group;
  final int[] shard;
  final int clusters;
  final double spread;

  private VectorData(int dimension, float[][] vectors, int[] group, int[] shard, int clusters, double spread) {
    this.dimension = dimension;
    this.vectors = vectors;
    this.group = group;
    this.shard = shard;
    this.clusters = clusters;
    this.spread = spread;
  }

  static VectorData generate(int rows, int dimension, int clusters, double spread, long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    float[][] centers = new float[clusters][dimension];
    for (float[] c : centers) {
      for (int d = 0; d < dimension; d++) {
        c[d] = (float) gaussian(random);
      }
    }
    float[][] vectors = new float[rows][];
    int[] group = new int[rows];
    int[] shard = new int[rows];
    for (int i = 0; i < rows; i++) {
      float[] c = centers[random.nextInt(clusters)];
      float[] v = new float[dimension];
      for (int d = 0; d < dimension; d++) {
        v[d] = (float) (c[d] + spread * gaussian(random));
      }
      vectors[i] = normalize(v);
      group[i] = random.nextInt(10);
      shard[i] = random.nextInt(100);
    }
    return new VectorData(dimension, vectors, group, shard, clusters, spread);
  }

  int size() {
    return vectors.length;
  }

  static String id(int i) {
    return "item-" + i;
  }

  /**
   * {@code count} queries near the data: a random item's vector plus Gaussian noise of
   * {@code noise} per coordinate (relative to the item's unit length), scaled to unit length.
   */
  float[][] queries(int count, double noise, long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    double sigma = noise / Math.sqrt(dimension);
    float[][] out = new float[count][];
    for (int q = 0; q < count; q++) {
      float[] base = vectors[random.nextInt(vectors.length)];
      float[] v = new float[dimension];
      for (int d = 0; d < dimension; d++) {
        v[d] = (float) (base[d] + sigma * gaussian(random));
      }
      out[q] = normalize(v);
    }
    return out;
  }

  /**
   * {@code count} queries between the data: the normalized sum of two random items' vectors
   * (almost always of two different clusters), so the exact neighbours come from both clusters
   * and the query itself is near neither.
   */
  float[][] between(int count, long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    float[][] out = new float[count][];
    for (int q = 0; q < count; q++) {
      float[] a = vectors[random.nextInt(vectors.length)];
      float[] b = vectors[random.nextInt(vectors.length)];
      float[] v = new float[dimension];
      for (int d = 0; d < dimension; d++) {
        v[d] = a[d] + b[d];
      }
      out[q] = normalize(v);
    }
    return out;
  }

  /**
   * {@code count} queries from another distribution: uniformly random unit vectors, far from
   * every cluster (their nearest items are barely nearer than the rest).
   */
  float[][] directions(int count, long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    float[][] out = new float[count][];
    for (int q = 0; q < count; q++) {
      float[] v = new float[dimension];
      for (int d = 0; d < dimension; d++) {
        v[d] = (float) gaussian(random);
      }
      out[q] = normalize(v);
    }
    return out;
  }

  /** Vectors read back from a collection (item {@code i} is id {@code item-i}), without metadata. */
  static VectorData of(float[][] vectors) {
    for (float[] v : vectors) {
      normalize(v);
    }
    return new VectorData(vectors[0].length, vectors, null, null, 0, 0);
  }

  /** Which items a filter admits. */
  @FunctionalInterface
  interface Admit {
    boolean test(int item);
  }

  /**
   * The exact {@code k} nearest items of each query by cosine similarity among the items
   * {@code admit} accepts, best first (ties broken by the lower index); parallel over queries.
   */
  int[][] exactTopK(float[][] queries, int k, Admit admit) {
    int[][] out = new int[queries.length][];
    IntStream.range(0, queries.length).parallel().forEach(q -> out[q] = topK(queries[q], k, admit));
    return out;
  }

  private int[] topK(float[] query, int k, Admit admit) {
    // a small sorted buffer: best similarity first
    double[] bestSim = new double[k];
    int[] bestIdx = new int[k];
    Arrays.fill(bestSim, Double.NEGATIVE_INFINITY);
    Arrays.fill(bestIdx, -1);
    for (int i = 0; i < vectors.length; i++) {
      if (!admit.test(i)) {
        continue;
      }
      float[] v = vectors[i];
      double dot = 0;
      for (int d = 0; d < dimension; d++) {
        dot += query[d] * v[d];
      }
      if (dot <= bestSim[k - 1]) {
        continue;
      }
      int at = k - 1;
      while (at > 0 && bestSim[at - 1] < dot) {
        bestSim[at] = bestSim[at - 1];
        bestIdx[at] = bestIdx[at - 1];
        at--;
      }
      bestSim[at] = dot;
      bestIdx[at] = i;
    }
    int found = 0;
    while (found < k && bestIdx[found] >= 0) {
      found++;
    }
    return Arrays.copyOf(bestIdx, found);
  }

  int count(Admit admit) {
    int n = 0;
    for (int i = 0; i < vectors.length; i++) {
      if (admit.test(i)) {
        n++;
      }
    }
    return n;
  }

  private static float[] normalize(float[] v) {
    Similarity.normalize(v);
    return v;
  }


  /** Standard normal (Box-Muller; one of the pair is enough here). */
  private static double gaussian(SplittableRandom random) {
    double u = 1.0 - random.nextDouble();
    double w = random.nextDouble();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * w);
  }
}
