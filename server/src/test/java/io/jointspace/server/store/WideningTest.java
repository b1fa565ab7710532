package io.jointspace.server.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ch.qos.logback.classic.Level;
import io.jointspace.server.LogCapture;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Searches far from the data walk again, wider: on a real pgvector, clustered vectors searched
 * from between two clusters, where a walk with ef_search 64 misses about half the true top 10.
 */
class WideningTest {
  static final int DIM = 128;
  static final int CLUSTERS = 60;
  static final int ITEMS = 6000;
  static Database db;
  static Storage storage;
  static Collection collection;
  static final List<float[]> DATA = new ArrayList<>();

  @BeforeAll
  static void load() {
    db = new Database(TestDatabase.fresh(), 4, Duration.ofSeconds(5));
    storage = new Storage(db);
    // a sparse graph: one walk misses more; k (i % 5) is an indexed key: a partial index per value
    collection = storage.catalog().create(new CollectionSpec("clusters", "example", 1, DIM, Metric.COSINE,
        VectorType.VECTOR, 8, 32, false, "", List.of("k")));
    Random rnd = new Random(3);
    float[][] centers = new float[CLUSTERS][DIM];
    for (float[] c : centers) {
      for (int j = 0; j < DIM; j++) {
        c[j] = (float) rnd.nextGaussian();
      }
    }
    List<ItemWrite> items = new ArrayList<>();
    for (int i = 0; i < ITEMS; i++) {
      float[] c = centers[rnd.nextInt(CLUSTERS)];
      float[] v = new float[DIM];
      for (int j = 0; j < DIM; j++) {
        v[j] = (float) (c[j] + 0.5 * rnd.nextGaussian());
      }
      DATA.add(unit(v));
      items.add(new ItemWrite("p" + i, DATA.get(i), "{\"n\": " + i + ", \"k\": " + i % 5 + "}", null, null));
    }
    storage.items().copyUpsert(collection, items, List.of(), "items");
    storage.indexBuilds().sweepKeys();
  }

  @AfterAll
  static void close() {
    storage.close();
  }

  static float[] unit(float[] v) {
    double s = 0;
    for (float x : v) {
      s += x * x;
    }
    for (int i = 0; i < v.length; i++) {
      v[i] /= (float) Math.sqrt(s);
    }
    return v;
  }

  static Set<String> exact(float[] q, int k) {
    return exact(q, k, ITEMS);
  }

  /** The true top {@code k} among the items numbered below {@code below} (the filter {@link #under}). */
  static Set<String> exact(float[] q, int k, int below) {
    return exact(q, k, i -> i < below);
  }

  /** The true top {@code k} among the items whose numbers {@code matches}. */
  static Set<String> exact(float[] q, int k, java.util.function.IntPredicate matches) {
    return IntStream.range(0, ITEMS).filter(matches).boxed()
        .sorted(Comparator.comparingDouble(i -> -dot(DATA.get(i), q))).limit(k).map(i -> "p" + i)
        .collect(Collectors.toSet());
  }

  static double dot(float[] a, float[] b) {
    double s = 0;
    for (int i = 0; i < a.length; i++) {
      s += a[i] * b[i];
    }
    return s;
  }

  /**
   * An item plus 0.9 times another, normalized: between their clusters, near neither (not an
   * even sum, which is as near to one as to the other: a tie for the nearest).
   */
  static List<float[]> between(int n, long seed) {
    return sums(n, 0.9f, seed);
  }

  /** {@code n} random items each plus {@code weight} times another, normalized. */
  static List<float[]> sums(int n, float weight, long seed) {
    Random rnd = new Random(seed);
    List<float[]> out = new ArrayList<>();
    for (int q = 0; q < n; q++) {
      float[] a = DATA.get(rnd.nextInt(ITEMS));
      float[] b = DATA.get(rnd.nextInt(ITEMS));
      float[] v = new float[DIM];
      for (int j = 0; j < DIM; j++) {
        v[j] = a[j] + weight * b[j];
      }
      out.add(unit(v));
    }
    return out;
  }

  static double recall(ItemStore store, List<float[]> queries, int efSearch) {
    return recall(store, queries, ITEMS, efSearch);
  }

  /** Recall@10 of searches filtered to the items numbered below {@code below} ({@code ITEMS}: unfiltered). */
  static double recall(ItemStore store, List<float[]> queries, int below, int efSearch) {
    double sum = 0;
    for (float[] q : queries) {
      Set<String> truth = exact(q, 10, below);
      long found = store.search(collection, new SearchQuery(q, null, 10, below < ITEMS ? under(below) : null, false,
          false), efSearch).stream().filter(h -> truth.contains(h.id())).count();
      sum += found / 10.0;
    }
    return sum / queries.size();
  }

  /** metadata n below {@code n}: a range filter, which no partial index serves. */
  static Condition under(int n) {
    return new Condition.Range(List.of("n"), null, false, java.math.BigDecimal.valueOf(n), false);
  }

  /**
   * Queries between two clusters: the normalized sum of two items, as near to the one as to the
   * other (whether either matches a filter or not is left to chance).
   */
  static List<float[]> midway(int n, long seed) {
    return sums(n, 1, seed);
  }

  @Test
  void filteredQueriesBetweenClusters_walkAgainWider_andFindTheirNeighbours_whereOneWalkMissesMany() {
    // a filtered walk settles among the matches of one neighbourhood and stops at top_k there;
    // nearer matches in the other cluster wait unreached
    ItemStore store = new ItemStore(db, NearestSearch.WALK_TUPLES, -1);
    int below = ITEMS / 10;
    List<float[]> queries = midway(60, 43);
    double fixed = recall(store, queries, below, 64);
    double widened;
    long widenedSearches;
    try (LogCapture plans = LogCapture.of(NearestSearch.class, Level.DEBUG)) {
      widened = recall(store, queries, below, 0);
      widenedSearches = plans.messages().stream().filter(m -> m.contains("plan WALK_WIDENED, 10 hits, ef_search"))
          .count();
      assertThat(plans.messages()).hasSize(60)
          .allSatisfy(m -> assertThat(m).containsAnyOf("plan WALK,", "plan WALK_WIDENED,"));
    }
    assertThat(widened).as("recall@10 with the default (%d of 60 widened; one walk of ef_search 64: %.3f)",
        widenedSearches, fixed).isGreaterThanOrEqualTo(0.95).isGreaterThan(fixed + 0.05);
    assertThat(widenedSearches).isGreaterThanOrEqualTo(30);
  }

  @Test
  void filteredQueriesBetweenClusters_onAPartialIndex_walkItOnce_andFindTheirNeighbours() {
    // the partial index's graph holds only matches: its walk is an unfiltered one of a smaller graph
    Condition k0 = new Condition.Equals(List.of("k"), "0");
    List<float[]> queries = midway(40, 59);
    double sum = 0;
    try (LogCapture plans = LogCapture.of(NearestSearch.class, Level.DEBUG)) {
      for (float[] q : queries) {
        Set<String> truth = exact(q, 10, i -> i % 5 == 0);
        sum += storage.items().search(collection, new SearchQuery(q, null, 10, k0, false, false), 0).stream()
            .filter(h -> truth.contains(h.id())).count() / 10.0;
      }
      assertThat(plans.messages()).hasSize(40).allSatisfy(m -> assertThat(m).contains("plan KEYED, 10 hits"));
    }
    assertThat(sum / queries.size()).isGreaterThanOrEqualTo(0.95);
  }

  @Test
  void filteredQueriesNearTheData_walkOnce() {
    ItemStore store = new ItemStore(db, NearestSearch.WALK_TUPLES, -1);
    int below = ITEMS / 10;
    Random rnd = new Random(47);
    List<float[]> queries = new ArrayList<>();
    for (int q = 0; q < 30; q++) {
      float[] v = DATA.get(rnd.nextInt(ITEMS)).clone(); // near an item, matching or not
      for (int j = 0; j < DIM; j++) {
        v[j] += (float) (0.2 / Math.sqrt(DIM) * rnd.nextGaussian());
      }
      queries.add(unit(v));
    }
    try (LogCapture plans = LogCapture.of(NearestSearch.class, Level.DEBUG)) {
      assertThat(recall(store, queries, below, 0)).isGreaterThanOrEqualTo(0.95);
      assertThat(plans.messages()).hasSize(30).filteredOn(m -> m.contains("plan WALK,")).hasSizeGreaterThanOrEqualTo(28);
    }
  }

  @Test
  void aFilteredSearchWithTheEfSearchItSets_walksOnce() {
    ItemStore store = new ItemStore(db, NearestSearch.WALK_TUPLES, -1);
    try (LogCapture plans = LogCapture.of(NearestSearch.class, Level.DEBUG)) {
      for (float[] q : midway(5, 53)) {
        store.search(collection, new SearchQuery(q, null, 10, under(ITEMS / 10), false, false), 64);
      }
      assertThat(plans.messages()).hasSize(5).allSatisfy(m -> assertThat(m).contains("plan WALK,"));
    }
  }

  @Test
  void queriesBetweenClusters_areWidened_andFindTheirNeighbours_whereEfSearch64MissesMany() {
    ItemStore store = new ItemStore(db, NearestSearch.WALK_TUPLES, -1);
    List<float[]> queries = between(60, 17);
    double fixed = recall(store, queries, 64);
    double widened;
    long widenedSearches;
    try (LogCapture plans = LogCapture.of(NearestSearch.class, Level.DEBUG)) {
      widened = recall(store, queries, 0);
      widenedSearches = plans.messages().stream().filter(m -> m.contains("plan WIDENED")).count();
      // they have neighbours, nearer than the items are on average: widened step by step (a few
      // of them, near the threshold, by the sample the scale drew)
      assertThat(plans.messages()).filteredOn(m -> m.contains("plan FLAT")).hasSizeLessThanOrEqualTo(6);
    }
    assertThat(widened).as("recall@10 with the default (%d of 60 widened; ef_search 64: %.3f)", widenedSearches,
        fixed).isGreaterThanOrEqualTo(0.95).isGreaterThan(fixed + 0.05);
    assertThat(widenedSearches).isGreaterThanOrEqualTo(30);
  }

  /** Uniform unit vectors: far from every item alike. */
  static List<float[]> directions(int n, long seed) {
    Random rnd = new Random(seed);
    List<float[]> out = new ArrayList<>();
    for (int q = 0; q < n; q++) {
      float[] v = new float[DIM];
      for (int j = 0; j < DIM; j++) {
        v[j] = (float) rnd.nextGaussian();
      }
      out.add(unit(v));
    }
    return out;
  }

  @Test
  void randomDirections_walkOnPastTheWidestList_andFindTheirNeighbours() {
    ItemStore store = new ItemStore(db, NearestSearch.WALK_TUPLES, -1);
    List<float[]> queries = directions(40, 37);
    double fixed = recall(store, queries, Limits.MAX_EF_SEARCH);
    double flat;
    try (LogCapture plans = LogCapture.of(NearestSearch.class, Level.DEBUG)) {
      flat = recall(store, queries, 0);
      assertThat(plans.messages()).hasSize(40).allSatisfy(m -> assertThat(m).contains("plan FLAT,", "ef_search 1000"));
    }
    assertThat(flat).as("recall@10 with the default (one walk of ef_search 1000: %.3f)", fixed)
        .isGreaterThanOrEqualTo(0.95).isGreaterThanOrEqualTo(fixed);
    // the top rows' vectors and metadata, read after the walk: each hit's own
    float[] q = queries.get(0);
    List<SearchHit> hits;
    try (LogCapture plans = LogCapture.of(NearestSearch.class, Level.DEBUG)) {
      hits = store.search(collection, new SearchQuery(q, null, 10, null, true, true), 0);
      assertThat(plans.messages()).singleElement().asString().contains("plan FLAT,");
    }
    assertThat(hits).hasSize(10).isSortedAccordingTo(Comparator.comparingDouble(SearchHit::score).reversed());
    for (SearchHit h : hits) {
      float[] stored = DATA.get(Integer.parseInt(h.id().substring(1)));
      assertThat(h.vector()).containsExactly(stored, within(1e-6f));
      int i = Integer.parseInt(h.id().substring(1));
      assertThat(h.metadataJson()).isEqualTo("{\"k\": " + i % 5 + ", \"n\": " + i + "}");
      assertThat(h.score()).isCloseTo((float) dot(stored, q), within(1e-4f));
    }
  }

  @Test
  void queriesNearTheData_walkOnce() {
    ItemStore store = new ItemStore(db, NearestSearch.WALK_TUPLES, -1);
    Random rnd = new Random(23);
    List<float[]> queries = new ArrayList<>();
    for (int q = 0; q < 30; q++) {
      float[] v = DATA.get(rnd.nextInt(ITEMS)).clone();
      for (int j = 0; j < DIM; j++) {
        v[j] += (float) (0.2 / Math.sqrt(DIM) * rnd.nextGaussian());
      }
      queries.add(unit(v));
    }
    try (LogCapture plans = LogCapture.of(NearestSearch.class, Level.DEBUG)) {
      assertThat(recall(store, queries, 0)).isGreaterThanOrEqualTo(0.95);
      // all but a walk that lost its way (its hits far from the query), which is widened too,
      // and stops at the first wider walk, whose hits are near
      assertThat(plans.messages()).hasSize(30).filteredOn(m -> m.contains("plan INDEX,")).hasSizeGreaterThanOrEqualTo(28);
      assertThat(plans.messages()).filteredOn(m -> m.contains("plan WIDENED"))
          .allSatisfy(m -> assertThat(m).endsWith("ef_search 256"));
    }
  }

  @Test
  void anEfSearchTheRequestSets_isNeverWidened() {
    ItemStore store = new ItemStore(db, NearestSearch.WALK_TUPLES, -1);
    try (LogCapture plans = LogCapture.of(NearestSearch.class, Level.DEBUG)) {
      for (float[] q : between(5, 29)) {
        store.search(collection, new SearchQuery(q, null, 10, null, false, false), 64);
      }
      assertThat(plans.messages()).hasSize(5).allSatisfy(m -> assertThat(m).contains("plan INDEX,"));
    }
  }

  @Test
  void aTopKUnderTen_isStillToldFar_fromTheTenNearestOfItsFirstWalk() {
    ItemStore store = new ItemStore(db, NearestSearch.WALK_TUPLES, -1);
    List<float[]> queries = between(20, 31);
    int fixed = 0;
    int widened = 0;
    try (LogCapture plans = LogCapture.of(NearestSearch.class, Level.DEBUG)) {
      for (float[] q : queries) {
        Set<String> truth = exact(q, 1);
        fixed += truth.contains(store.search(collection, new SearchQuery(q, null, 1, null, false, false), 64).get(0)
            .id()) ? 1 : 0;
        widened += truth.contains(store.search(collection, new SearchQuery(q, null, 1, null, false, false), 0).get(0)
            .id()) ? 1 : 0;
      }
      assertThat(plans.messages()).anySatisfy(m -> assertThat(m).contains("plan WIDENED", "1 hits"));
    }
    assertThat(widened).as("nearest found of 20, widened (ef_search 64 found %d)", fixed)
        .isGreaterThanOrEqualTo(18);
  }

  @Test
  void aTableWithoutItsIndex_isNeverWidened_norMeasured() {
    // a bulk load drops the index: searches then rank every row, and walking again would only
    // rank them all again; its scale would take a scan of the table per sampled item
    Collection unindexed = new CollectionCatalog(db).create(new CollectionSpec("unindexed", "example", 1, DIM,
        Metric.COSINE, VectorType.VECTOR, 8, 32, false, ""));
    List<ItemWrite> items = new ArrayList<>();
    for (int i = 0; i < 3000; i++) {
      items.add(new ItemWrite("p" + i, DATA.get(i), "{}", null, null));
    }
    ItemStore store = new ItemStore(db, NearestSearch.WALK_TUPLES, -1);
    store.copyUpsert(unindexed, items, List.of(), "items");
    db.inTransaction(c -> {
      try (java.sql.Statement st = c.createStatement()) {
        st.execute("DROP INDEX " + SqlNames.qualified(unindexed.table() + "_hnsw"));
      }
      return null;
    });
    try (LogCapture plans = LogCapture.of(NearestSearch.class, Level.DEBUG)) {
      for (float[] q : between(5, 41)) {
        assertThat(store.search(unindexed, new SearchQuery(q, null, 10, null, false, false), 0)).hasSize(10);
      }
      assertThat(plans.messages()).hasSize(5).allSatisfy(m -> assertThat(m).contains("plan INDEX,"));
    }
    Double scale = db.inTransaction(c -> {
      try (java.sql.PreparedStatement p = c.prepareStatement(
          Widening.scaleSql(SqlNames.qualified(unindexed.table()), "<=>", 3000))) {
        p.setString(1, IndexBuilds.indexName(unindexed.table()));
        List<Double> d = new ArrayList<>();
        try (java.sql.ResultSet r = p.executeQuery()) {
          while (r.next()) {
            d.add(r.getDouble(1));
          }
        }
        return Widening.scale(Metric.COSINE, d);
      }
    });
    assertThat(scale).as("no sample without the index").isNaN();
  }

  @Test
  void scale_isTheDistanceNineInTenItemsHaveTheirTenthNeighbourWithin() {
    List<Double> cosine = new ArrayList<>();
    for (int i = 1; i <= 10; i++) {
      cosine.add(i / 100.0); // 0.01 .. 0.10
    }
    // the 9th of 10, 0.09, as a Euclidean distance between unit vectors: sqrt(2 * 0.09)
    assertThat(Widening.scale(Metric.COSINE, cosine)).isCloseTo(Math.sqrt(0.18), within(1e-9));
    assertThat(Widening.scale(Metric.L2, List.of(1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0)))
        .isCloseTo(9.0, within(1e-9));
    assertThat(Widening.scale(Metric.L2, List.of(1.0, 2.0))).as("too few came back").isNaN();
  }

  @Test
  void isFar_comparesTheTenthHit_withTheScale() {
    List<SearchHit> hits = new ArrayList<>();
    for (int i = 1; i <= 12; i++) {
      hits.add(new SearchHit("h" + i, -i, null, null)); // L2: score is minus the distance
    }
    // the 10th hit is at distance 10
    assertThat(Widening.isFar(Metric.L2, hits, 10 / Widening.FAR)).isTrue();
    assertThat(Widening.isFar(Metric.L2, hits, 10 / Widening.FAR + 0.01)).isFalse();
    assertThat(Widening.isFar(Metric.L2, hits.subList(0, 3), 3 / Widening.FAR)).as("fewer hits: the last").isTrue();
    assertThat(Widening.isFar(Metric.L2, hits, Double.NaN)).as("no scale yet").isFalse();
    assertThat(Widening.isFar(Metric.INNER_PRODUCT, hits, 0.1)).as("no distance").isFalse();
    assertThat(Widening.isFar(Metric.L2, List.of(), 1)).isFalse();
  }

  @Test
  void isNearestFar_comparesTheNearestHit_whereverTheWalkReturnedIt_withTheScale() {
    List<SearchHit> hits = new ArrayList<>();
    for (int i = 12; i >= 3; i--) {
      hits.add(new SearchHit("h" + i, -i, null, null)); // L2, farthest first: the nearest, at 3, comes last
    }
    assertThat(Widening.isNearestFar(Metric.L2, hits, 3 / Widening.FAR)).isTrue();
    assertThat(Widening.isNearestFar(Metric.L2, hits, 3 / Widening.FAR + 0.01)).isFalse();
    assertThat(Widening.isNearestFar(Metric.L2, hits, Double.NaN)).as("no scale yet").isFalse();
    assertThat(Widening.isNearestFar(Metric.INNER_PRODUCT, hits, 0.1)).as("no distance").isFalse();
    assertThat(Widening.isNearestFar(Metric.L2, List.of(), 1)).isFalse();
  }

  @Test
  void isFlat_comparesTheTenthHit_withTheSampledItemsRootMeanSquareDistance() {
    float[] query = {1, 0};
    // L2 distances from the query: sqrt 2, sqrt 2, 2, 2; their root mean square sqrt 3
    List<float[]> sample = List.of(new float[] {0, 1}, new float[] {0, -1}, new float[] {-1, 0}, new float[] {-1, 0});
    Widening.Scale scale = Widening.Scale.of(Metric.L2, 0.5, sample);
    double rms = Math.sqrt(3);
    List<SearchHit> hits = new ArrayList<>();
    for (int i = 1; i <= 10; i++) {
      hits.add(new SearchHit("h" + i, (float) -(rms / Widening.FLAT) - i * 1e-4f, null, null));
    }
    assertThat(Widening.isFlat(Metric.L2, query, hits, scale)).isTrue();
    hits.set(9, new SearchHit("h10", (float) -(rms / Widening.FLAT) + 0.01f, null, null));
    assertThat(Widening.isFlat(Metric.L2, query, hits, scale)).as("the 10th hit nearer").isFalse();
    assertThat(Widening.isFlat(Metric.L2, query, hits, Widening.Scale.of(Metric.L2, 0.5, List.of())))
        .as("no sample").isFalse();
    assertThat(Widening.isFlat(Metric.INNER_PRODUCT, query, hits, scale)).isFalse();
    // cosine: the vectors at unit length, whatever their norms: the same sample scaled, the same answer
    List<float[]> scaled = sample.stream().map(v -> new float[] {3 * v[0], 3 * v[1]}).toList();
    hits.set(9, new SearchHit("h10", 1 - (float) (rms / Widening.FLAT) * (float) (rms / Widening.FLAT) / 2 - 1e-3f,
        null, null));
    for (int i = 0; i < 9; i++) {
      hits.set(i, new SearchHit("h" + i, 1, null, null));
    }
    Widening.Scale cosine = Widening.Scale.of(Metric.COSINE, 0.5, scaled);
    assertThat(Widening.isFlat(Metric.COSINE, new float[] {5, 0}, hits, cosine)).isTrue();
    hits.set(9, new SearchHit("h10", 1 - (float) (rms / Widening.FLAT) * (float) (rms / Widening.FLAT) / 2 + 1e-2f,
        null, null));
    assertThat(Widening.isFlat(Metric.COSINE, new float[] {5, 0}, hits, cosine)).as("the 10th hit nearer").isFalse();
  }

  @Test
  void agree_needsNineOfTen_orAllOfFewer() {
    List<SearchHit> a = new ArrayList<>();
    List<SearchHit> b = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      a.add(new SearchHit("a" + i, 1 - i / 100f, null, null));
      b.add(new SearchHit(i < 9 ? "a" + i : "b" + i, 1 - i / 100f, null, null));
    }
    assertThat(Widening.agree(a, b, 10)).isTrue();
    b.set(8, new SearchHit("b8", 1 - 8 / 100f, null, null));
    assertThat(Widening.agree(a, b, 10)).isFalse();
    assertThat(Widening.agree(a, b, 3)).isTrue();
    List<SearchHit> c = new ArrayList<>(a);
    c.set(0, new SearchHit("c0", 1, null, null));
    assertThat(Widening.agree(a, c, 3)).isFalse();
    assertThat(Widening.wider(64, true)).isEqualTo(256);
    assertThat(Widening.wider(256, false)).isEqualTo(512);
    assertThat(Widening.wider(512, false)).isEqualTo(Limits.MAX_EF_SEARCH);
    assertThat(Widening.wider(400, true)).isEqualTo(Limits.MAX_EF_SEARCH);
  }
}
