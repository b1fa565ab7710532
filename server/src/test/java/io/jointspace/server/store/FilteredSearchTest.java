package io.jointspace.server.store;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import io.jointspace.server.LogCapture;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The plans of a filtered search on a real pgvector: walking the HNSW index (many matches),
 * and ranking every match exactly when the walk finds too few, checked against brute force.
 */
class FilteredSearchTest {
  static Database db;
  static Collection collection;
  static final List<float[]> DATA = new ArrayList<>();

  @BeforeAll
  static void load() {
    db = new Database(TestDatabase.fresh(), 4, Duration.ofSeconds(5));
    collection = new CollectionCatalog(db).create(new CollectionSpec("points", "example", 1, 16, Metric.L2,
        VectorType.VECTOR, 16, 64, false, ""));
    Random rnd = new Random(11);
    List<ItemWrite> items = new ArrayList<>();
    for (int i = 0; i < 1000; i++) {
      float[] v = new float[16];
      for (int j = 0; j < 16; j++) {
        v[j] = (float) rnd.nextGaussian();
      }
      DATA.add(v);
      items.add(new ItemWrite("p" + i, v, "{\"g\": " + (i % 5) + ", \"rare\": " + (i % 100 == 0) + "}", null, null));
    }
    new ItemStore(db).copyUpsert(collection, items, List.of(), "items");
  }

  @AfterAll
  static void close() {
    db.close();
  }

  static List<String> bruteForce(float[] q, java.util.function.IntPredicate keep, int k) {
    return IntStream.range(0, DATA.size()).filter(keep).boxed()
        .sorted(Comparator.comparingDouble(i -> l2(DATA.get(i), q)))
        .limit(k).map(i -> "p" + i).toList();
  }

  static double l2(float[] a, float[] b) {
    double s = 0;
    for (int i = 0; i < a.length; i++) {
      s += (a[i] - b[i]) * (a[i] - b[i]);
    }
    return s;
  }

  static List<String> ids(List<SearchHit> hits) {
    return hits.stream().map(SearchHit::id).toList();
  }

  @Test
  void efSearch_reachesEveryCall_alsoPastTheUsesAfterWhichPgjdbcWouldPrepareTheStatement() {
    // hnsw.ef_search goes by set_config in the statement's round trip; pgjdbc makes a statement
    // server-side prepared from its fifth use, and prepared, the search ran with the default
    // ef_search of 40 (10 hits here) instead of the one asked for (1: one hit)
    ItemStore store = new ItemStore(db, NearestSearch.WALK_TUPLES, -1);
    float[] q = DATA.get(5);
    for (int i = 0; i < 12; i++) {
      assertThat(store.search(collection, new SearchQuery(q, null, 10, null, false, false), 1)).as("call %d", i)
          .hasSize(1);
    }
    assertThat(store.search(collection, new SearchQuery(q, null, 10, null, false, false), 0)).hasSize(10);
  }

  @Test
  void manyMatches_walkTheIndex_andAgreeWithBruteForce() {
    ItemStore walking = new ItemStore(db, NearestSearch.WALK_TUPLES, -1); // 200 matches: the HNSW walk finds the top 5
    Condition g1 = new Condition.Equals(List.of("g"), "1");
    float[] q = DATA.get(7).clone();
    List<SearchHit> hits;
    try (LogCapture plans = LogCapture.of(NearestSearch.class, Level.DEBUG)) {
      hits = walking.search(collection, new SearchQuery(q, null, 5, g1, false, true), 200);
      assertThat(plans.messages()).singleElement().asString().contains("plan WALK,", "5 hits");
    }
    assertThat(hits).hasSize(5);
    assertThat(ids(hits)).containsExactlyElementsOf(bruteForce(q, i -> i % 5 == 1, 5));
    assertThat(hits).allSatisfy(h -> assertThat(h.metadataJson()).contains("\"g\": 1"));
    for (int i = 1; i < hits.size(); i++) {
      assertThat(hits.get(i).score()).isLessThanOrEqualTo(hits.get(i - 1).score());
    }
  }

  @Test
  void manyMatches_withTheDefaultEfSearch_findTheTrueNearest() {
    // the default walk (ef_search max(64, 4 x top_k)) over 30 queries, by equality (20% match)
    // and by range (40%): nearly every true neighbour, and every hit a match
    ItemStore walking = new ItemStore(db, NearestSearch.WALK_TUPLES, -1);
    Random rnd = new Random(5);
    int found = 0;
    int wanted = 0;
    for (int n = 0; n < 30; n++) {
      float[] q = new float[16];
      for (int j = 0; j < 16; j++) {
        q[j] = (float) rnd.nextGaussian();
      }
      boolean range = n % 2 == 0;
      Condition filter = range ? new Condition.Range(List.of("g"), null, false, java.math.BigDecimal.valueOf(2), false)
          : new Condition.Equals(List.of("g"), "3");
      java.util.function.IntPredicate keep = range ? i -> i % 5 < 2 : i -> i % 5 == 3;
      List<SearchHit> hits;
      try (LogCapture plans = LogCapture.of(NearestSearch.class, Level.DEBUG)) {
        hits = walking.search(collection, new SearchQuery(q, null, 10, filter, false, true), 0);
        assertThat(plans.messages()).singleElement().asString().contains("plan WALK,");
      }
      assertThat(hits).hasSize(10).allSatisfy(h -> assertThat(keep.test(Integer.parseInt(h.id().substring(1)))).isTrue());
      List<String> truth = bruteForce(q, keep, 10);
      found += (int) ids(hits).stream().filter(truth::contains).count();
      wanted += 10;
    }
    assertThat(found / (double) wanted).isGreaterThanOrEqualTo(0.95);
  }

  @Test
  void matchesFarFromTheQuery_areFoundByAFartherWalk_onceTheyAreKnownToBeMany() {
    // 200 items near the query, none a match; 2200 matches beyond them. A walk of 30 rows finds
    // none, so the first search ranks all 2200; knowing they are more than EXACT_ROWS and than a
    // farther walk (300 rows) reads, the next search walks farther and finds them without
    // ranking them all. The matches are stored (and so indexed) first: the near items, indexed
    // after them, link to them in the graph. Indexed first, the near items could end up in a
    // part of the graph that a walk from the far side never enters, and the first walk would
    // find the matches at once
    Random rnd = new Random(3);
    List<float[]> data = new ArrayList<>();
    List<ItemWrite> items = new ArrayList<>();
    for (int i = 0; i < 2400; i++) {
      float[] v = new float[16];
      for (int j = 0; j < 16; j++) {
        v[j] = (float) rnd.nextGaussian() + (i >= 200 && j == 0 ? 12 : 0);
      }
      data.add(v);
      items.add(new ItemWrite("s" + i, v, "{\"side\": \"" + (i >= 200 ? "b" : "a") + "\"}", null, null));
    }
    java.util.Collections.rotate(items, -200); // the matches first
    ItemStore store = new ItemStore(db, 30, -1);
    float[] q = new float[16];
    SearchQuery query = new SearchQuery(q, null, 10, new Condition.Equals(List.of("side"), "\"b\""), false, false);
    List<String> truth = java.util.stream.IntStream.range(200, 2400).boxed()
        .sorted(Comparator.comparingDouble(i -> l2(data.get(i), q))).limit(10).map(i -> "s" + i).toList();
    // pgvector draws each item's graph level at random: now and then the graph lets the first
    // walk reach the matches within its rows (plan WALK, or WALK_WIDENED: the matches are far
    // from the query, so that walk is widened), and then there is nothing farther to test; such
    // a graph is built again (in another collection), at most three times
    for (int attempt = 1; ; attempt++) {
      Collection sides = new CollectionCatalog(db).create(new CollectionSpec("sides" + attempt, "example", 1, 16,
          Metric.L2, VectorType.VECTOR, 16, 64, false, ""));
      new ItemStore(db).copyUpsert(sides, items, List.of(), "items");
      try (LogCapture plans = LogCapture.of(NearestSearch.class, Level.DEBUG)) {
        assertThat(ids(store.search(sides, query, 0))).containsExactlyElementsOf(truth);
        String first = plans.messages().get(0);
        if ((first.contains("plan WALK,") || first.contains("plan WALK_WIDENED,")) && attempt < 3) {
          continue;
        }
        assertThat(ids(store.search(sides, query, 0))).containsExactlyElementsOf(truth);
        assertThat(plans.messages()).hasSize(2);
        assertThat(plans.messages().get(0)).contains("plan WALK_THEN_EXACT, 10 hits");
        assertThat(plans.messages().get(1)).contains("plan WALK_FARTHER, 10 hits");
      }
      return;
    }
  }

  @Test
  void fewMatches_areRankedExactly_evenWhenTheWalkWouldMissThem() {
    ItemStore store = new ItemStore(db, 50, -1); // a walk of 50 rows finds about one of them
    Condition rare = new Condition.Equals(List.of("rare"), "true"); // 10 rows
    float[] q = DATA.get(3);
    List<SearchHit> hits;
    try (LogCapture plans = LogCapture.of(NearestSearch.class, Level.DEBUG)) {
      hits = store.search(collection, new SearchQuery(q, null, 20, rare, true, false), 0);
      assertThat(plans.messages()).singleElement().asString().contains("plan WALK_THEN_EXACT, 10 hits");
    }
    assertThat(ids(hits)).containsExactlyElementsOf(bruteForce(q, i -> i % 100 == 0, 20));
    assertThat(hits).hasSize(10);
    assertThat(hits.get(0).vector()).hasSize(16);
    assertThat(hits.get(0).metadataJson()).isNull();
  }

  @Test
  void selectiveFilter_isRankedExactlyAtOnce_afterAWalkWithItFoundTooFew() {
    ItemStore store = new ItemStore(db, 50, -1);
    Condition rare = new Condition.Equals(List.of("rare"), "true"); // 10 rows
    float[] q = DATA.get(42);
    SearchQuery query = new SearchQuery(q, null, 10, rare, false, true);
    try (LogCapture plans = LogCapture.of(NearestSearch.class, Level.DEBUG)) {
      List<SearchHit> first = store.search(collection, query, 0);
      List<SearchHit> second = store.search(collection, query, 0);
      assertThat(plans.messages()).hasSize(2);
      assertThat(plans.messages().get(0)).contains("plan WALK_THEN_EXACT,");
      assertThat(plans.messages().get(1)).contains("plan EXACT,");
      assertThat(ids(second)).containsExactlyElementsOf(ids(first))
          .containsExactlyElementsOf(bruteForce(q, i -> i % 100 == 0, 10));
      plans.clear();
      // another value of the key is another filter: it walks
      store.search(collection, new SearchQuery(q, null, 5, new Condition.Equals(List.of("rare"), "false"), false,
          true), 0);
      assertThat(plans.messages()).singleElement().asString().contains("plan WALK,");
    }
  }

  @Test
  void searches_neverJitCompileTheirStatements() throws Exception {
    // The planner costs a walk with a selective filter as reading the whole HNSW index, which on
    // a large table passed jit_above_cost: every call compiled its statement (tens of ms). Here
    // every statement of a database of its own is past the JIT thresholds (0), and
    // pg_stat_statements counts what each compiled: a plain statement does, the server's do not
    DatabaseUrl url = TestDatabase.fresh();
    String name = url.jdbcUrl().replaceFirst("^.*/([^/?]+)(\\?.*)?$", "$1");
    try (java.sql.Connection c = TestDatabase.connect(url); java.sql.Statement s = c.createStatement()) {
      try (java.sql.ResultSet r = s.executeQuery("SHOW shared_preload_libraries")) {
        r.next();
        org.junit.jupiter.api.Assumptions.assumeTrue(r.getString(1).contains("pg_stat_statements"),
            "the test server does not load pg_stat_statements");
      }
      s.execute("CREATE EXTENSION pg_stat_statements");
      s.execute("ALTER DATABASE " + name + " SET jit_above_cost = 0");
      s.execute("ALTER DATABASE " + name + " SET jit_inline_above_cost = 0");
      s.execute("ALTER DATABASE " + name + " SET jit_optimize_above_cost = 0");
    }
    try (Database jitting = new Database(url, 2, Duration.ofSeconds(5))) {
      Collection points = new CollectionCatalog(jitting).create(new CollectionSpec("points", "example", 1, 16,
          Metric.L2, VectorType.VECTOR, 16, 64, false, ""));
      List<ItemWrite> items = new ArrayList<>();
      for (int i = 0; i < DATA.size(); i++) {
        items.add(new ItemWrite("p" + i, DATA.get(i), "{\"g\": " + (i % 5) + ", \"rare\": " + (i % 100 == 0) + "}",
            null, null));
      }
      ItemStore store = new ItemStore(jitting, 50, -1);
      store.copyUpsert(points, items, List.of(), "items");
      float[] q = DATA.get(9);
      try (LogCapture plans = LogCapture.of(NearestSearch.class, Level.DEBUG)) {
        for (int i = 0; i < 6; i++) { // past pgjdbc's prepare threshold: prepared statements too
          // ef_search of the request's own: one walk whatever the scale's sample (random data
          // lies far from itself: the server's choice would widen the walk in some runs)
          store.search(points, new SearchQuery(q, null, 10, null, false, true), 40);
          store.search(points, new SearchQuery(q, null, 10, new Condition.Equals(List.of("g"), "2"), false, true), 0);
          store.search(points, new SearchQuery(q, null, 10, new Condition.Equals(List.of("rare"), "true"), false,
              true), 0);
        }
        assertThat(String.join("\n", plans.messages())).contains("plan INDEX,", "plan WALK,", "plan EXACT,");
      }
      try (java.sql.Connection c = TestDatabase.connect(url); java.sql.Statement s = c.createStatement()) {
        s.executeQuery("SELECT id, embedding <-> embedding AS plain_distance FROM "
            + SqlNames.qualified(points.table()) + " ORDER BY plain_distance LIMIT 1").close();
        try (java.sql.ResultSet r = s.executeQuery("SELECT coalesce(sum(jit_functions), 0) FROM pg_stat_statements s"
            + " JOIN pg_database d ON d.oid = s.dbid WHERE d.datname = current_database()"
            + " AND s.query LIKE '%plain_distance%'")) {
          r.next();
          org.junit.jupiter.api.Assumptions.assumeTrue(r.getLong(1) > 0, "this server does not JIT-compile");
        }
        // the server's search statements: those that measure distances (the settings before each
        // are statements of their own, compiled before they turn JIT off)
        Map<String, Long> searches = new java.util.HashMap<>();
        try (java.sql.ResultSet r = s.executeQuery("SELECT s.query, s.jit_functions FROM pg_stat_statements s"
            + " JOIN pg_database d ON d.oid = s.dbid WHERE d.datname = current_database()"
            + " AND s.query LIKE '%<->%' AND s.query NOT LIKE '%plain_distance%'")) {
          while (r.next()) {
            searches.put(r.getString(1), r.getLong(2));
          }
        }
        assertThat(searches).hasSizeGreaterThanOrEqualTo(3); // unfiltered, walk, exact
        assertThat(searches).as("functions JIT-compiled per search statement")
            .allSatisfy((statement, functions) -> assertThat(functions).as(statement).isZero());
      }
    }
  }

  @Test
  void walkThatFindsTooFew_fallsBackToExact() {
    ItemStore walking = new ItemStore(db, 5, -1); // a walk of 5 rows: top 10 needs every match
    Condition rare = new Condition.Equals(List.of("rare"), "true");
    float[] q = DATA.get(500);
    List<SearchHit> hits;
    try (LogCapture plans = LogCapture.of(NearestSearch.class, Level.DEBUG)) {
      hits = walking.search(collection, new SearchQuery(null, "p500", 10, rare, false, true), 1);
      assertThat(plans.messages()).singleElement().asString().contains("plan WALK_THEN_EXACT");
    }
    assertThat(hits).hasSize(9);
    assertThat(ids(hits)).containsExactlyElementsOf(bruteForce(q, i -> i % 100 == 0 && i != 500, 10));
  }

  @Test
  void smallTable_isRankedExactly_withItsIndexOrWithout_tiesById() throws Exception {
    // 1000 rows, under the 2000 a table is ranked exactly at: every row, filtered or not
    ItemStore store = new ItemStore(db);
    float[] q = DATA.get(7).clone();
    try (LogCapture plans = LogCapture.of(NearestSearch.class, Level.DEBUG)) {
      assertThat(ids(store.search(collection, new SearchQuery(q, null, 10, null, false, false), 0)))
          .containsExactlyElementsOf(bruteForce(q, i -> true, 10));
      assertThat(ids(store.search(collection, new SearchQuery(q, null, 5, new Condition.Equals(List.of("g"), "1"),
          false, false), 0))).containsExactlyElementsOf(bruteForce(q, i -> i % 5 == 1, 5));
      assertThat(plans.messages()).hasSize(2).allSatisfy(m -> assertThat(m).contains("plan SMALL,"));
    }

    // 30 items at one point: the first ids win, the same before and after the index is dropped
    Collection same = new CollectionCatalog(db).create(new CollectionSpec("same_point", "example", 1, 16, Metric.L2,
        VectorType.VECTOR, 16, 64, false, ""));
    List<ItemWrite> items = new ArrayList<>();
    for (int i = 29; i >= 0; i--) {
      items.add(new ItemWrite(String.format("t%02d", i), DATA.get(0), "{\"g\": " + (i % 2) + "}", null, null));
    }
    store.copyUpsert(same, items, List.of(), "items");
    SearchQuery tied = new SearchQuery(DATA.get(1), null, 5, null, false, false);
    SearchQuery tiedFiltered = new SearchQuery(DATA.get(1), null, 5, new Condition.Equals(List.of("g"), "1"), false,
        false);
    List<String> withIndex = ids(store.search(same, tied, 0));
    List<String> filteredWithIndex = ids(store.search(same, tiedFiltered, 0));
    assertThat(withIndex).containsExactly("t00", "t01", "t02", "t03", "t04");
    assertThat(filteredWithIndex).containsExactly("t01", "t03", "t05", "t07", "t09");
    db.inTransaction(c -> {
      try (java.sql.Statement st = c.createStatement()) {
        st.execute("DROP INDEX " + SqlNames.qualified(same.table() + "_hnsw"));
      }
      return null;
    });
    assertThat(ids(store.search(same, tied, 0))).isEqualTo(withIndex);
    assertThat(ids(store.search(same, tiedFiltered, 0))).isEqualTo(filteredWithIndex);
  }

  /** Sequential and index scans PostgreSQL has counted on {@code table}, after forcing this backend's statistics out. */
  static long[] scans(Database one, String table) {
    return one.inTransaction(c -> {
      try (java.sql.Statement st = c.createStatement()) {
        st.execute("SELECT pg_stat_clear_snapshot()");
        try (java.sql.ResultSet r = st.executeQuery("SELECT coalesce(seq_scan, 0), coalesce(idx_scan, 0)"
            + " FROM pg_stat_user_tables WHERE relid = to_regclass('" + SqlNames.qualified(table) + "')")) {
          r.next();
          return new long[] {r.getLong(1), r.getLong(2)};
        }
      }
    });
  }

  @Test
  void largeTable_isSearchedThroughItsIndexOnly_theExactBranchNeverRuns() {
    // a pool of its own (two: migrations take a second connection), whose backends' statistics
    // are flushed on demand, and a table of its own, which no other test's connection scans
    try (Database one = new Database(db.url(), 2, Duration.ofSeconds(5))) {
      Collection large = new CollectionCatalog(one).create(new CollectionSpec("large_points", "example", 1, 16,
          Metric.L2, VectorType.VECTOR, 16, 64, false, ""));
      // large enough that the planner takes the HNSW index for an unfiltered top 10
      Random rnd = new Random(5);
      List<float[]> vectors = new ArrayList<>();
      for (int i = 0; i < 20_000; i++) {
        float[] v = new float[16];
        for (int j = 0; j < 16; j++) {
          v[j] = (float) rnd.nextGaussian();
        }
        vectors.add(v);
      }
      for (int from = 0; from < vectors.size(); from += 5000) {
        List<ItemWrite> items = new ArrayList<>();
        for (int i = from; i < from + 5000; i++) {
          items.add(new ItemWrite("p" + i, vectors.get(i), "{}", null, null));
        }
        new ItemStore(one).copyUpsert(large, items, List.of(), "items");
      }
      one.inTransaction(c -> {
        try (java.sql.Statement st = c.createStatement()) {
          st.execute("ANALYZE " + SqlNames.qualified(large.table())); // the planner knows its rows
        }
        return null;
      });
      ItemStore store = new ItemStore(one, NearestSearch.WALK_TUPLES, 10); // over 10 rows: "large"
      float[] q = vectors.get(3).clone();
      flush(one);
      long[] before = scans(one, large.table());
      for (int i = 0; i < 3; i++) {
        assertThat(ids(store.search(large, new SearchQuery(q, null, 10, null, false, false), 0)))
            .hasSize(10).first().isEqualTo("p3");
      }
      flush(one);
      long[] after = scans(one, large.table());
      assertThat(after[1] - before[1]).as("index scans: the HNSW branch ran; before %s after %s",
          java.util.Arrays.toString(before), java.util.Arrays.toString(after)).isGreaterThanOrEqualTo(3);
      // the exact branch's size gate is a one-time filter: it reads no row of a large table
      assertThat(after[0] - before[0]).as("sequential scans: the exact branch ran").isZero();
    }
  }

  /**
   * Sends the pending table statistics of both backends of {@code two} now, not up to a second
   * (or ten) later: each is asked to, while the other is held, and flushes when its
   * transaction ends.
   */
  static void flush(Database two) {
    two.inTransaction(c -> {
      forceFlush(c);
      two.inTransaction(other -> {
        forceFlush(other);
        return null;
      });
      return null;
    });
  }

  private static void forceFlush(java.sql.Connection c) throws java.sql.SQLException {
    try (java.sql.Statement st = c.createStatement()) {
      st.execute("SELECT pg_stat_force_next_flush()");
    }
  }
}
