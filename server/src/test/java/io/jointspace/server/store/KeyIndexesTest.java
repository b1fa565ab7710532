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
    // and PostgreSQL's generic plan (a server-side prepared statement's, made once for every
    // call) walks that index: the filter's containment test is a literal, which proves the
    // index's predicate; as a parameter it would not, and the plan would walk the whole table
    String partial = KeyIndexes.indexName(collection.table(), "cat", "\"x\"");
    java.util.Set<String> covered = java.util.Set.of(FilterSql.containment(List.of("cat"), "\"x\""));
    FilterSql.Compiled literal = FilterSql.compile(x, "filter", covered);
    assertThat(literal.keyed()).isTrue();
    assertThat(genericPlan(literal, "'cat'", "'\"x\"'")).contains("Index Scan using " + partial);
    FilterSql.Compiled parameter = FilterSql.compile(x, "filter");
    assertThat(parameter.keyed()).isFalse();
    assertThat(genericPlan(parameter, "'{\"cat\": \"x\"}'", "'cat'", "'\"x\"'")).doesNotContain(partial)
        .contains("Index Scan using");
  }

  /** EXPLAIN of the generic plan of a filtered walk, a prepared statement, executed with {@code args} (SQL literals). */
  static String genericPlan(FilterSql.Compiled filter, String... args) {
    StringBuilder sql = new StringBuilder();
    int n = 0;
    for (char ch : filter.sql().toCharArray()) {
      sql.append(ch == '?' ? "$" + ++n : String.valueOf(ch));
    }
    assertThat(args).hasSize(n);
    String walk = "PREPARE walk AS SELECT id FROM " + SqlNames.qualified(collection.table()) + " WHERE " + sql
        + " ORDER BY embedding <-> $" + (n + 1) + "::real[]::vector LIMIT 20";
    String execute = "EXPLAIN EXECUTE walk(" + String.join(", ", args) + ", '{" + "0,".repeat(DIM - 1) + "0}')";
    return db.read(c -> {
      try (var s = c.createStatement()) {
        s.execute("SET enable_seqscan = off; SET enable_bitmapscan = off; SET plan_cache_mode = force_generic_plan");
        s.execute(walk);
        StringBuilder plan = new StringBuilder();
        try (ResultSet r = s.executeQuery(execute)) {
          while (r.next()) {
            plan.append(r.getString(1)).append('\n');
          }
        }
        s.execute("DEALLOCATE walk; RESET enable_seqscan; RESET enable_bitmapscan; RESET plan_cache_mode");
        return plan.toString();
      }
    });
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
    List<String> values = List.of("'); DROP TABLE jointspace.collections; -- ?", "$$ \\ \u00e9 $1 E'\\'");
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
    // each value is written into the walk's statement as a literal
    for (String value : values) {
      String json = new com.google.gson.JsonPrimitive(value).toString();
      Condition filter = new Condition.Equals(List.of(key), json);
      assertThat(plan(hostile, filter, q)).contains("plan KEYED,", "10 hits");
      // past pgjdbc's fifth use on a connection, a server-side prepared statement
      for (int i = 0; i < 8; i++) {
        assertThat(storage.items().search(hostile, new SearchQuery(q, null, 10, filter, false, true), 0))
            .hasSize(10)
          .allSatisfy(h -> assertThat(com.google.gson.JsonParser.parseString(h.metadataJson()).getAsJsonObject()
              .get(key).getAsString()).isEqualTo(value));
      }
    }
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
