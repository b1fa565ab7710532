package io.jointspace.server.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@link FilterSql} on a real PostgreSQL: what each condition selects. */
class FilterSqlTest {
  static Connection db;

  @BeforeAll
  static void load() throws SQLException {
    db = TestDatabase.connect(TestDatabase.fresh());
    try (Statement s = db.createStatement()) {
      s.execute("CREATE TABLE items (id text PRIMARY KEY, metadata jsonb NOT NULL)");
    }
    String[][] rows = {{"array", "{\"a\": [1, 2]}"}, {"object", "{\"a\": {\"0\": 1, \"-1\": 2}}"},
        {"nested", "{\"a\": [{\"b\": 1}]}"}, {"null", "{\"a\": {\"0\": null}}"}, {"quoted", "{\"k\\\"\\\\.\": {\"x\": 1}}"},
        {"backslash-u", "{\"path\": \"C:\\\\u0000\"}"}};
    try (PreparedStatement p = db.prepareStatement("INSERT INTO items VALUES (?, ?::jsonb)")) {
      for (String[] row : rows) {
        p.setString(1, row[0]);
        p.setString(2, row[1]);
        p.executeUpdate();
      }
    }
  }

  @AfterAll
  static void close() throws SQLException {
    db.close();
  }

  static List<String> select(Condition c) throws SQLException {
    return FilterQueries.matching(db, "items", c);
  }

  @Test
  void keyPaths_stepOnlyIntoObjectFields_neverIntoArrayElements() throws SQLException {
    // Found by FilterFuzzTest: "a.0" read the first element of an array for exists, in and
    // range (PostgreSQL's #> takes a number as an index), but not for equals (containment):
    // one filter meant two things. A key path names nested fields, as documented.
    List<String> a0 = List.of("a", "0");
    assertThat(select(new Condition.Exists(a0))).containsExactly("null", "object");
    assertThat(select(new Condition.Equals(a0, "1"))).containsExactly("object");
    assertThat(select(new Condition.In(a0, List.of("1", "2")))).containsExactly("object");
    assertThat(select(new Condition.Range(a0, BigDecimal.ZERO, true, null, false))).containsExactly("object");
    assertThat(select(new Condition.Exists(List.of("a", "-1")))).containsExactly("object");
    assertThat(select(new Condition.In(List.of("a", "b"), List.of("1")))).isEmpty();
    assertThat(select(new Condition.Not(new Condition.Exists(a0)))).containsExactly("array", "backslash-u", "nested",
        "quoted");
  }

  @Test
  void keysWithQuotesBackslashesAndDots_areFieldNames() throws SQLException {
    assertThat(select(new Condition.Exists(List.of("k\"\\.", "x")))).containsExactly("quoted");
    assertThat(select(new Condition.Equals(List.of("k\"\\.", "x"), "1"))).containsExactly("quoted");
    assertThat(select(new Condition.In(List.of("k\"\\.", "x"), List.of("1")))).containsExactly("quoted");
  }

  @Test
  void aBackslashBeforeU0000_isText_notANulCharacter() throws SQLException {
    // Found by FilterFuzzTest: the NUL check looked for a backslash, u and four zeros anywhere
    // in the JSON text, so a string holding those six characters as text (its backslash
    // escaped in JSON) was refused as holding a NUL.
    String json = "\"C:\\\\u0000\"";
    assertThat(select(new Condition.Equals(List.of("path"), json))).containsExactly("backslash-u");
    assertThat(select(new Condition.In(List.of("path"), List.of(json)))).containsExactly("backslash-u");
    assertThatThrownBy(() -> select(new Condition.Equals(List.of("path"), "\"C:\\u0000\"")))
        .isInstanceOf(io.jointspace.server.errors.InvalidInputException.class)
        .hasMessageContaining("contains a NUL character");
    assertThat(JsonText.hasNul("\"\\\\u0000\"")).isFalse();
    assertThat(JsonText.hasNul("\"\\\\\\u0000\"")).isTrue();
    assertThat(JsonText.hasNul("{\"k\\u0000\": 1}")).isTrue();
  }

  @Test
  void metadataWithABackslashBeforeU0000_isStored() {
    try (Database store = new Database(TestDatabase.fresh(), 2, java.time.Duration.ofSeconds(5))) {
      Collection c = new CollectionCatalog(store).create(new CollectionSpec("paths", "example", 1, 2, Metric.L2,
          VectorType.VECTOR, 16, 64, false, ""));
      String metadata = "{\"path\": \"C:\\\\u0000\"}";
      new ItemStore(store).upsert(c, List.of(new ItemWrite("p", new float[] {1, 0}, metadata, null, null)), List.of(),
          "items");
      assertThat(new ItemStore(store).get(c, List.of("p"), false, false).get(0).metadataJson())
          .isEqualTo("{\"path\": \"C:\\\\u0000\"}");
    }
  }
}
