package io.jointspace.server.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Search from a catalog entry this process read earlier ({@link CollectionCatalog#cached}):
 * when another server (here, plain SQL on another connection) switched the collection to
 * another table meanwhile, or made it anew, the search never answers from the table the entry
 * names; it fails with {@link CollectionChangedException} (or not found), and a fresh read
 * answers from the table the collection uses now.
 */
class CachedSearchTest {
  static DatabaseUrl url;
  static Database db;
  static CollectionCatalog catalog;
  static ItemStore items;

  @BeforeAll
  static void open() {
    url = TestDatabase.fresh();
    db = new Database(url, 4, Duration.ofSeconds(5));
    catalog = new CollectionCatalog(db);
    items = new ItemStore(db);
  }

  @AfterAll
  static void close() {
    db.close();
  }

  static CollectionSpec spec(String name, Metric metric) {
    return new CollectionSpec(name, "example", 1, 4, metric, VectorType.VECTOR, 16, 64, false, "");
  }

  static void put(Collection c, String id, float... v) {
    items.upsert(c, List.of(new ItemWrite(id, v, "{}", null, null)), List.of(), "items");
  }

  static List<String> search(Collection c, float... q) {
    return items.search(c, new SearchQuery(q, null, 5, null, false, true), 0).stream().map(SearchHit::id).toList();
  }

  static void sql(String... statements) throws Exception {
    try (Connection c = TestDatabase.connect(url); Statement s = c.createStatement()) {
      c.setAutoCommit(false);
      for (String statement : statements) {
        s.execute(statement);
      }
      c.commit();
    }
  }

  @Test
  void switchByAnotherServer_isNeverAnsweredFromTheOldTable() throws Exception {
    put(catalog.create(spec("swap", Metric.L2)), "old", 1, 0, 0, 0);
    Collection cached = catalog.cached("swap");
    assertThat(search(cached, 1, 0, 0, 0)).containsExactly("old");
    assertThat(catalog.cached("swap")).isSameAs(cached);

    // what a promote does, committed by another process: a new table, the catalog row pointed at it, the epoch bumped
    sql("CREATE TABLE jointspace.swap_v2 (LIKE jointspace.swap_v1 INCLUDING ALL)",
        "INSERT INTO jointspace.swap_v2 (id, embedding) VALUES ('new', '[1,0,0,0]')",
        "UPDATE jointspace.collections SET model_version = 2, active_table = 'swap_v2', epoch = epoch + 1"
            + " WHERE name = 'swap'");
    assertThatThrownBy(() -> search(cached, 1, 0, 0, 0)).isInstanceOf(CollectionChangedException.class);
    // filtered and by-id searches check too
    assertThatThrownBy(() -> items.search(cached, new SearchQuery(new float[] {1, 0, 0, 0}, null, 5,
        new Condition.Exists(List.of("x")), false, true), 0)).isInstanceOf(CollectionChangedException.class);
    assertThatThrownBy(() -> items.search(cached, new SearchQuery(null, "old", 5, null, false, true), 0))
        .isInstanceOf(CollectionChangedException.class);

    Collection fresh = catalog.get("swap");
    assertThat(fresh.table()).isEqualTo("swap_v2");
    assertThat(catalog.cached("swap")).isSameAs(fresh);
    assertThat(search(fresh, 1, 0, 0, 0)).containsExactly("new");
  }

  @Test
  void collectionMadeAnew_underTheSameName_isNotSearchedWithTheOldEntry() {
    put(catalog.create(spec("again", Metric.L2)), "first", 1, 0, 0, 0);
    Collection cached = catalog.cached("again");
    // another server deletes it and makes it again, with another metric and the same table name
    CollectionCatalog other = new CollectionCatalog(db);
    other.delete("again");
    Collection made = other.create(spec("again", Metric.COSINE));
    put(made, "second", 0, 1, 0, 0);
    assertThat(made.table()).isEqualTo(cached.table());
    assertThat(made.epoch()).isEqualTo(cached.epoch());
    assertThatThrownBy(() -> search(cached, 1, 0, 0, 0)).isInstanceOf(CollectionChangedException.class);
    assertThat(search(catalog.get("again"), 1, 0, 0, 0)).containsExactly("second");
  }

  @Test
  void emptyCollection_answersNoHits_whenItsEntryIsCurrent() {
    catalog.create(spec("empty", Metric.COSINE));
    assertThat(search(catalog.cached("empty"), 1, 0, 0, 0)).isEmpty();
  }

  @Test
  void deletedCollection_isNotFound() {
    catalog.create(spec("gone", Metric.COSINE));
    Collection cached = catalog.cached("gone");
    new CollectionCatalog(db).delete("gone");
    assertThatThrownBy(() -> search(cached, 1, 0, 0, 0)).isInstanceOf(CollectionNotFoundException.class);
  }
}
