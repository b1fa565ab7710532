package io.jointspace.server.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import io.jointspace.server.LogCapture;
import io.jointspace.server.errors.InvalidInputException;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.function.IntPredicate;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Partial HNSW indexes of indexed keys on a real pgvector, through a {@link Storage} as the
 * server wires it: the sweep builds one per frequent value, searches filtered on such a value
 * walk it (and PostgreSQL plans them on it), other filters walk as before, removed keys lose
 * their indexes, a broken one is built again, and a bulk load drops them and gets them back.
 */
class KeyIndexesTest {
  static Database db;
  static Storage storage;
  static Collection collection;
  static final int DIM = 16;
  static final int ROWS = 3000;
  static final List<float[]> DATA = new ArrayList<>();

  /** cat: "rare" for the first 50, then "x" and "y" in turn; g: i % 3 (a number); tag.lang: "de" for i % 4 == 0, else "en". */
  static String cat(int i) {
    return i < 50 ? "rare" : i % 2 == 0 ? "x" : "y";
  }

  @BeforeAll
  static void load() {
    db = new Database(TestDatabase.fresh(), 6, Duration.ofSeconds(5));
    storage = new Storage(db);
    collection = storage.catalog().create(new CollectionSpec("things", "example", 1, DIM, Metric.L2,
        VectorType.VECTOR, 16, 64, false, "", List.of("cat", "g", "tag.lang")));
    Random rnd = new Random(5);
    List<ItemWrite> items = new ArrayList<>();
    for (int i = 0; i < ROWS; i++) {
      float[] v = new float[DIM];
      for (int j = 0; j < DIM; j++) {
        v[j] = (float) rnd.nextGaussian();
      }
      DATA.add(v);
      items.add(new ItemWrite("t" + i, v, "{\"cat\": \"" + cat(i) + "\", \"g\": " + (i % 3) + ", \"tag\": {\"lang\": \""
          + (i % 4 == 0 ? "de" : "en") + "\"}}", null, null));
    }
    storage.items().copyUpsert(collection, items, List.of(), "items");
    storage.indexBuilds().sweepKeys();
  }

  @AfterAll
  static void close() {
    storage.close();
  }

  /** The table's valid partial indexes: key and value by index name. */
  static Map<String, String> partialIndexes(String table) {
    return db.read(c -> {
      Map<String, String> out = new TreeMap<>();
      for (KeyIndexes.KeyIndex k : KeyIndexes.list(c, table)) {
        if (k.valid()) {
          out.put(k.name(), k.key() + "=" + k.valueJson());
        }
      }
      return out;
    });
  }

  static List<String> bruteForce(float[] q, IntPredicate keep, int k) {
    return IntStream.range(0, ROWS).filter(keep).boxed()
        .sorted(Comparator.comparingDouble(i -> FilteredSearchTest.l2(DATA.get(i), q)))
        .limit(k).map(i -> "t" + i).toList();
  }

  static String plan(Condition filter, float[] q) {
    return plan(collection, filter, q);
  }

  static String plan(Collection of, Condition filter, float[] q) {
    try (LogCapture plans = LogCapture.of(NearestSearch.class, Level.DEBUG)) {
      storage.items().search(of, new SearchQuery(q, null, 10, filter, false, true), 0);
      return plans.messages().get(0);
    }
  }

  static Condition eq(String key, String json) {
    return new Condition.Equals(List.of(key.split("\\.")), json);
  }

  @Test
  void sweep_buildsOnePartialIndexPerFrequentValue_namedAndCommentedWithItsKeyAndValue() {
    Map<String, String> found = partialIndexes(collection.table());
    assertThat(found.values()).containsExactlyInAnyOrder("cat=\"x\"", "cat=\"y\"", "g=0", "g=1", "g=2",
        "tag.lang=\"de\"", "tag.lang=\"en\""); // "rare" has 50 items: ranked exactly, no index
    assertThat(found).containsKey(KeyIndexes.indexName(collection.table(), "cat", "\"x\""));
  }

  @Test
  void searchFilteredOnAnIndexedValue_walksItsPartialIndex_andAgreesWithBruteForce() throws Exception {
    float[] q = DATA.get(77);
    Condition x = eq("cat", "\"x\"");
    List<SearchHit> hits;
    try (LogCapture plans = LogCapture.of(NearestSearch.class, Level.DEBUG)) {
      hits = storage.items().search(collection, new SearchQuery(q, null, 10, x, false, true), 0);
      assertThat(plans.messages()).singleElement().asString().contains("plan KEYED,", "10 hits");
    }
    assertThat(hits.stream().map(SearchHit::id).toList())
        .containsExactlyElementsOf(bruteForce(q, i -> cat(i).equals("x"), 10));
    // and PostgreSQL plans the server's filter on that index: its containment test implies the index's predicate
    FilterSql.Compiled filter = FilterSql.compile(x, "filter");
    String explain = db.read(c -> {
      try (PreparedStatement p = c.prepareStatement("SELECT set_config('enable_seqscan', 'off', false),"
          + " set_config('enable_bitmapscan', 'off', false); EXPLAIN SELECT id FROM "
          + SqlNames.qualified(collection.table()) + " WHERE " + filter.sql()
          + " ORDER BY embedding <-> ?::real[]::vector LIMIT 20")) {
        NearestSearch.unprepared(p);
        int i = filter.bind(c, p, 1);
        p.setObject(i, q);
        p.execute();
        p.getMoreResults();
        StringBuilder plan = new StringBuilder();
        try (ResultSet r = p.getResultSet()) {
          while (r.next()) {
            plan.append(r.getString(1)).append('\n');
          }
        }
        try (var s = c.createStatement()) {
          s.execute("RESET enable_seqscan; RESET enable_bitmapscan");
        }
        return plan.toString();
      }
    });
    assertThat(explain).contains("Index Scan using " + KeyIndexes.indexName(collection.table(), "cat", "\"x\""));
  }

  @Test
  void numbers_nestedKeys_andEqualitiesInAnAnd_areKeyed_otherFiltersWalkAsBefore() {
    float[] q = DATA.get(11);
    assertThat(plan(eq("g", "1"), q)).contains("plan KEYED,");
    assertThat(plan(eq("tag.lang", "\"de\""), q)).contains("plan KEYED,");
    assertThat(plan(new Condition.And(List.of(eq("cat", "\"y\""), eq("g", "2"))), q)).contains("plan KEYED,");
    assertThat(plan(new Condition.Or(List.of(eq("cat", "\"x\""), eq("cat", "\"y\""))), q)).contains("plan WALK,");
    assertThat(plan(eq("cat", "\"rare\""), q)).doesNotContain("KEYED"); // 50 items: no index of its own
    List<SearchHit> hits = storage.items().search(collection, new SearchQuery(q, null, 10,
        new Condition.And(List.of(eq("cat", "\"y\""), eq("g", "2"))), false, true), 0);
    assertThat(hits.stream().map(SearchHit::id).toList())
        .containsExactlyElementsOf(bruteForce(q, i -> cat(i).equals("y") && i % 3 == 2, 10));
  }

  @Test
  void keys_areChecked() {
    CollectionSpec base = collection.spec();
    assertThatThrownBy(() -> storage.catalog().create(new CollectionSpec("bad_keys", "example", 1, DIM, Metric.L2,
        VectorType.VECTOR, 16, 64, false, "", List.of("ok", "a..b"))))
        .isInstanceOf(InvalidInputException.class).hasMessageContaining("indexed_keys[1]");
    assertThatThrownBy(() -> storage.catalog().update(base.name(), null, List.of("cat", "cat")))
        .isInstanceOf(InvalidInputException.class).hasMessageContaining("indexed_keys[1] repeats the key 'cat'");
    assertThatThrownBy(() -> storage.catalog().update(base.name(), null,
        List.of("a", "b", "c", "d", "e", "f", "g", "h", "i")))
        .isInstanceOf(LimitExceededException.class).hasMessageContaining("over the limit of 8");
  }

  @Test
  void aRemovedKey_losesItsIndexes_andABrokenIndexIsBuiltAgain() {
    Collection other = storage.catalog().create(new CollectionSpec("others", "example", 1, DIM, Metric.L2,
        VectorType.VECTOR, 16, 64, false, "", List.of("cat", "g")));
    List<ItemWrite> items = new ArrayList<>();
    for (int i = 0; i < ROWS; i++) {
      items.add(new ItemWrite("o" + i, DATA.get(i), "{\"cat\": \"" + cat(i) + "\", \"g\": " + (i % 3) + "}", null,
          null));
    }
    storage.items().copyUpsert(other, items, List.of(), "items");
    storage.indexBuilds().sweepKeys();
    assertThat(partialIndexes(other.table()).values()).containsExactlyInAnyOrder("cat=\"x\"", "cat=\"y\"", "g=0",
        "g=1", "g=2");

    storage.catalog().update("others", "now only cat", List.of("cat"));
    storage.indexBuilds().sweepKeys();
    assertThat(partialIndexes(other.table()).values()).containsExactlyInAnyOrder("cat=\"x\"", "cat=\"y\"");
    assertThat(plan(other, eq("g", "1"), DATA.get(3))).doesNotContain("KEYED");
    assertThat(plan(other, eq("cat", "\"x\""), DATA.get(3))).contains("plan KEYED,");
    assertThat(storage.catalog().get("others").spec().indexedKeys()).containsExactly("cat");
    assertThat(storage.catalog().get("others").spec().description()).isEqualTo("now only cat");

    // an index of ours that lost its comment is not trusted: dropped, and built again
    String x = KeyIndexes.indexName(other.table(), "cat", "\"x\"");
    db.read(c -> {
      try (var s = c.createStatement()) {
        s.execute("COMMENT ON INDEX jointspace." + SqlNames.quote(x) + " IS NULL");
      }
      return null;
    });
    storage.indexBuilds().sweepKeys();
    assertThat(partialIndexes(other.table())).containsEntry(x, "cat=\"x\"").hasSize(2);

    storage.catalog().update("others", null, List.of());
    storage.indexBuilds().sweepKeys();
    assertThat(partialIndexes(other.table())).isEmpty();
  }

  @Test
  void hostileKeysAndValues_areJustData_inTheIndexesTheServerMakes() {
    String key = "it's \"k\"; DROP TABLE collections; --"; // no dot: a dot separates a path
    List<String> values = List.of("'); DROP TABLE jointspace.collections; --", "$$ \\ \u00e9 $1");
    Collection hostile = storage.catalog().create(new CollectionSpec("hostile_keys", "example", 1, DIM, Metric.L2,
        VectorType.VECTOR, 16, 64, false, "", List.of(key)));
    List<ItemWrite> items = new ArrayList<>();
    for (int i = 0; i < ROWS; i++) {
      com.google.gson.JsonObject m = new com.google.gson.JsonObject();
      m.addProperty(key, values.get(i % 2));
      items.add(new ItemWrite("h" + i, DATA.get(i), m.toString(), null, null));
    }
    storage.items().copyUpsert(hostile, items, List.of(), "items");
    storage.indexBuilds().sweepKeys();
    assertThat(partialIndexes(hostile.table())).hasSize(2);
    float[] q = DATA.get(8);
    String json = new com.google.gson.JsonPrimitive(values.get(1)).toString();
    Condition filter = new Condition.Equals(List.of(key), json);
    assertThat(plan(hostile, filter, q)).contains("plan KEYED,", "10 hits");
    assertThat(storage.items().search(hostile, new SearchQuery(q, null, 10, filter, false, true), 0))
        .hasSize(10)
        .allSatisfy(h -> assertThat(h.metadataJson()).contains("\u00e9 $1").doesNotContain("jointspace.collections"));
    assertThat(storage.catalog().list()).extracting(Collection::name).contains("things", "hostile_keys");
  }

  @Test
  void aBulkLoad_dropsThePartialIndexes_andTheBuildAfterItMakesThemAgain() throws Exception {
    Collection small = storage.catalog().create(new CollectionSpec("smalls", "example", 1, DIM, Metric.L2,
        VectorType.VECTOR, 16, 64, false, "", List.of("cat")));
    List<ItemWrite> first = new ArrayList<>();
    for (int i = 0; i < 400; i++) {
      first.add(new ItemWrite("s" + i, DATA.get(i), "{\"cat\": \"" + cat(i) + "\"}", null, null));
    }
    storage.items().copyUpsert(small, first, List.of(), "items");
    storage.indexBuilds().sweepKeys();
    assertThat(partialIndexes(small.table()).values()).containsExactlyInAnyOrder("cat=\"x\"", "cat=\"y\"");

    IndexBuilds.Load load = storage.indexBuilds().begin(storage.catalog().get("smalls"));
    assertThat(load).isNotNull(); // 400 items: under the bulk-load bound
    assertThat(partialIndexes(small.table())).isEmpty();
    List<ItemWrite> more = new ArrayList<>();
    for (int i = 400; i < 1000; i++) {
      more.add(new ItemWrite("s" + i, DATA.get(i), "{\"cat\": \"" + cat(i) + "\"}", null, null));
    }
    storage.items().copyUpsert(small, more, List.of(), "items");
    load.close(); // builds the HNSW index, then the partial ones, on the builder's thread
    long until = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (partialIndexes(small.table()).size() < 2 && System.nanoTime() < until) {
      Thread.sleep(100);
    }
    assertThat(partialIndexes(small.table()).values()).containsExactlyInAnyOrder("cat=\"x\"", "cat=\"y\"");
  }
}
