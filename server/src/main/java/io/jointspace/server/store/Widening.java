package io.jointspace.server.store;

import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * When an HNSW search walks again with a wider candidate list: when the query is far from the
 * data (a text query against images, a query from another distribution), where a walk with the
 * default {@code hnsw.ef_search} misses many of the true nearest items. What follows is the
 * unfiltered search's rule; a filtered walk is told far by its nearest hit instead
 * ({@link #isNearestFar}) and widens the same way.
 *
 * <p>Far is measured in the data's own units: the distance of the first walk's
 * {@value #SAMPLE}th hit against the distance within which 9 in 10 of the table's items have
 * their {@value #SAMPLE}th nearest neighbour (over a sample of stored items: the table's
 * scale). A query from the data's own distribution has its neighbours about as near as the
 * items have theirs; one at least {@value #FAR} times as far is far from the data. Such a
 * search walks again with {@value #FIRST_FACTOR} times the candidates, then with twice as many
 * each time up to pgvector's most (1000), and stops as soon as two walks in a row agree on at
 * least 9 of every 10 hits, or a wider walk's hits are not far (the first walk had lost its
 * way, near the data): the wider walk's hits are the answer.
 *
 * <p>A query with no neighbours to speak of (a random direction in many dimensions: its
 * {@value #SAMPLE}th hit is less than {@value #FLAT} times nearer than the stored items are, as
 * a root mean square over the items sampled for the scale) gives a walk nothing to follow,
 * and walks of 256 and 512 candidates agree while both miss much of the top 10: it walks once
 * more, with pgvector's most candidates, on past them ({@value #FLAT_ROWS} rows), and the
 * rows it returns are ranked. docs/sql.md gives the measurements.
 */
final class Widening {
  /** Hits the first walk returns (when top_k is smaller): the last one's distance is compared. */
  static final int SAMPLE = 10;

  /** How many times the table's scale a query's {@value #SAMPLE}th hit must be away to be far from the data. */
  static final double FAR = 1.2;

  /**
   * The first wider walk has this many times the candidates of the first walk; each one after
   * it twice as many as the one before, up to pgvector's most. Walks closer in width agree too
   * readily: after 64, one of 128 agreed with one of 256 while both missed a tenth of the top 10.
   */
  static final int FIRST_FACTOR = 4;

  /**
   * A far query whose {@value #SAMPLE}th hit is nearer than the sampled items are (the root mean
   * square of its Euclidean distances to them) by less than this factor has no neighbours to
   * speak of ({@link #FLAT_ROWS}). On the benchmark's data the factor was 1.06 to 1.10 for random
   * directions, 1.43 to 1.70 for captions against images and 1.47 to 1.69 between two clusters,
   * 5 to 11 for images against images.
   */
  static final double FLAT = 1.25;

  /**
   * Rows a walk for a query with no neighbours to speak of returns, to be ranked: a tenth more
   * than pgvector's most candidates, so the walk goes on past its first list once (iterative
   * scan), where it finds the nearest items the first list missed. On the benchmark's 100,000
   * vectors of 512 dimensions, 240 random directions found 0.993 of their top 10 so, 0.958 with
   * 1001 rows, 0.929 with one list of 1000 (psql).
   */
  static final int FLAT_ROWS = Limits.MAX_EF_SEARCH + Limits.MAX_EF_SEARCH / 10;

  /** Stored items whose neighbours make a table's scale. */
  static final int SCALE_ITEMS = 32;

  /** How long a table's scale is used before it is measured again. */
  static final long SCALE_FOR_NANOS = TimeUnit.MINUTES.toNanos(10);

  /** How long a table whose scale could not be told (no valid HNSW index, too few items) waits to be measured again. */
  static final long RETRY_NANOS = TimeUnit.MINUTES.toNanos(1);

  private Widening() {}

  /** The Euclidean distance a hit's score stands for (cosine: of the vectors at unit length); NaN for inner product. */
  static double distance(Metric metric, double score) {
    return switch (metric) {
      case COSINE -> Math.sqrt(Math.max(0, 2 * (1 - score)));
      case L2 -> -score;
      case INNER_PRODUCT -> Double.NaN;
    };
  }

  /**
   * Whether the hits of a first walk (best first) say its query is far from data whose scale
   * is {@code scale}: the {@value #SAMPLE}th (or the last) hit at least {@value #FAR} times the
   * scale away. Never for the inner-product metric, which has no distance, nor without a scale.
   */
  static boolean isFar(Metric metric, List<SearchHit> hits, double scale) {
    if (hits.isEmpty() || !(scale > 0)) {
      return false;
    }
    double kth = distance(metric, hits.get(Math.min(SAMPLE, hits.size()) - 1).score());
    return kth >= FAR * scale;
  }

  /**
   * Whether the hits of a filtered walk say its query is far from the data: even the nearest hit
   * (the best score, wherever the walk returned it) at least {@value #FAR} times the scale away.
   * A filtered walk's {@value #SAMPLE}th hit is farther than an unfiltered one's by the filter's
   * nature (at 10%, about the 100th neighbour); its nearest is about the unfiltered walk's
   * {@value #SAMPLE}th at that selectivity. Never for the inner-product metric, nor without a scale.
   */
  static boolean isNearestFar(Metric metric, List<SearchHit> hits, double scale) {
    if (hits.isEmpty() || !(scale > 0)) {
      return false;
    }
    double best = Double.NEGATIVE_INFINITY;
    for (SearchHit h : hits) {
      best = Math.max(best, h.score());
    }
    return distance(metric, best) >= FAR * scale;
  }

  /**
   * Whether a far query has no neighbours to speak of: its {@value #SAMPLE}th (or last) hit less
   * than {@value #FLAT} times nearer than the items sampled for the scale are, as the root mean
   * square of its distances to them (the relative contrast of the query). Never without a
   * sample, nor for the inner-product metric.
   */
  static boolean isFlat(Metric metric, float[] query, List<SearchHit> hits, Scale scale) {
    float[] centroid = scale.centroid();
    if (hits.isEmpty() || centroid.length != query.length || metric == Metric.INNER_PRODUCT) {
      return false;
    }
    double kth = distance(metric, hits.get(Math.min(SAMPLE, hits.size()) - 1).score());
    float[] q = metric == Metric.COSINE ? unit(query) : query;
    double qq = 0;
    double qc = 0;
    for (int i = 0; i < q.length; i++) {
      qq += (double) q[i] * q[i];
      qc += (double) q[i] * centroid[i];
    }
    // the mean of |q - s|^2 over the sample is |q|^2 - 2 q.c + the mean of |s|^2 (c their mean)
    double rms = Math.sqrt(Math.max(0, qq - 2 * qc + scale.meanSquaredNorm()));
    return rms < FLAT * kth;
  }

  /** {@code v} at unit length (cosine's view of it), a copy; a zero vector stays zero. */
  private static float[] unit(float[] v) {
    double sum = 0;
    for (float x : v) {
      sum += (double) x * x;
    }
    float[] u = v.clone();
    if (sum > 0) {
      double inv = 1 / Math.sqrt(sum);
      for (int i = 0; i < u.length; i++) {
        u[i] = (float) (u[i] * inv);
      }
    }
    return u;
  }

  /**
   * The candidate list of the walk after one with {@code ef}: {@value #FIRST_FACTOR} times wider
   * after the first walk, twice as wide after a wider one; at most pgvector's 1000.
   */
  static int wider(int ef, boolean afterFirst) {
    return Math.min(Limits.MAX_EF_SEARCH, ef * (afterFirst ? FIRST_FACTOR : 2));
  }

  /** Whether the nearest {@code topK} of two walks share at least 9 of every 10 (all, for fewer than 10). */
  static boolean agree(List<SearchHit> narrower, List<SearchHit> wider, int topK) {
    int k = Math.min(topK, Math.min(narrower.size(), wider.size()));
    if (k == 0) {
      return narrower.size() == wider.size();
    }
    Set<String> ids = new HashSet<>();
    for (SearchHit h : best(narrower, k)) {
      ids.add(h.id());
    }
    int shared = 0;
    for (SearchHit h : best(wider, k)) {
      if (ids.contains(h.id())) {
        shared++;
      }
    }
    return shared >= k - k / 10;
  }

  private static List<SearchHit> best(List<SearchHit> hits, int k) {
    return hits.stream().sorted(Comparator.comparingDouble(SearchHit::score).reversed()
        .thenComparing(SearchHit::id)).limit(k).toList();
  }

  /**
   * The statement that measures a table's scale: for each of about {@value #SCALE_ITEMS} stored
   * items (a sample of pages, about ten rows for each one kept, rather than of rows, which would
   * read them all), the pgvector distance of its {@value #SAMPLE}th nearest neighbour besides
   * itself, found through the HNSW index; no rows while that index is not valid (its one
   * parameter is the index's name, {@link IndexBuilds#indexName}), since without it each item
   * would rank the whole table. The second column is the sampled item's vector ({@code
   * vector}), for {@link Scale#of}.
   *
   * @param rows about how many rows the table has
   */
  static String scaleSql(String table, String operator, long rows) {
    double percent = Math.min(100, Math.max(0.0001, 100.0 * 10 * SCALE_ITEMS / Math.max(1, rows)));
    return "SELECT (SELECT max(d) FROM (SELECT t.embedding " + operator + " s.embedding AS d FROM " + table
        + " t ORDER BY t.embedding " + operator + " s.embedding LIMIT " + (SAMPLE + 1) + ") n), s.embedding::vector"
        + " FROM (SELECT embedding"
        + " FROM " + table + " TABLESAMPLE SYSTEM (" + String.format(Locale.ROOT, "%.6f", percent)
        + ") WHERE coalesce((" + IndexBuilds.VALIDITY + "), false) ORDER BY random() LIMIT " + SCALE_ITEMS + ") s";
  }

  /**
   * A table's scale from the pgvector distances {@link #scaleSql} returned: the one 9 in 10 are
   * within, as the Euclidean distance it stands for; NaN when fewer than a quarter of the sample
   * came back.
   */
  static double scale(Metric metric, List<Double> distances) {
    if (distances.size() < SCALE_ITEMS / 4) {
      return Double.NaN;
    }
    List<Double> sorted = new ArrayList<>(distances);
    sorted.sort(null);
    double d = sorted.get(Math.min(sorted.size() - 1, (int) Math.ceil(0.9 * sorted.size()) - 1));
    return distance(metric, metric == Metric.COSINE ? 1 - d : -d);
  }

  /**
   * A table's scale ({@link #scale}), and the mean and the mean squared length of the vectors of
   * the items sampled to measure it (at unit length for cosine), which give a query's root mean
   * square distance to them ({@link #isFlat}); NaN and no sample when it could not be told.
   */
  record Scale(double distance, float[] centroid, double meanSquaredNorm) {
    static final Scale NONE = new Scale(Double.NaN, new float[0], 0);

    /** The scale {@code distance} with the mean of {@code sample} (none when it is empty). */
    static Scale of(Metric metric, double distance, List<float[]> sample) {
      if (sample.isEmpty()) {
        return new Scale(distance, new float[0], 0);
      }
      double[] sum = new double[sample.get(0).length];
      double squares = 0;
      for (float[] item : sample) {
        float[] v = metric == Metric.COSINE ? unit(item) : item;
        for (int i = 0; i < sum.length; i++) {
          sum[i] += v[i];
          squares += (double) v[i] * v[i];
        }
      }
      float[] centroid = new float[sum.length];
      for (int i = 0; i < sum.length; i++) {
        centroid[i] = (float) (sum[i] / sample.size());
      }
      return new Scale(distance, centroid, squares / sample.size());
    }
  }

  /**
   * Tables' scales, each measured by the search that first needs it and again by one search
   * once it is {@link #SCALE_FOR_NANOS} old ({@link #RETRY_NANOS} when it told nothing); the
   * others meanwhile use the last one (or none).
   */
  static final class Scales {
    /** What a search runs to measure a table's scale. */
    @FunctionalInterface
    interface Measure {
      Scale run() throws SQLException;
    }

    private static final class Entry {
      volatile Scale scale = Scale.NONE;
      /** When it was measured. */
      volatile long at;
      /** How long the measurement holds: 0 before the first, less when it told nothing. */
      volatile long holds;
      final AtomicBoolean measuring = new AtomicBoolean();
    }

    private final ConcurrentHashMap<String, Entry> byTable = new ConcurrentHashMap<>();

    /** The scale of {@code table}, measured now when it is missing or old and no other search is measuring it. */
    Scale of(String table, Measure measure) throws SQLException {
      if (byTable.size() > 10_000) {
        byTable.clear(); // bounded; dropped tables' entries go too
      }
      Entry s = byTable.computeIfAbsent(table, t -> new Entry());
      if ((s.holds > 0 && System.nanoTime() - s.at < s.holds) || !s.measuring.compareAndSet(false, true)) {
        return s.scale;
      }
      try {
        Scale measured = measure.run();
        s.at = System.nanoTime();
        s.scale = measured;
        s.holds = Double.isNaN(measured.distance()) ? RETRY_NANOS : SCALE_FOR_NANOS;
      } finally {
        s.measuring.set(false);
      }
      return s.scale;
    }
  }
}
